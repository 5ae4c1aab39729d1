#include <algorithm>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>

#include "faults/catalog.h"
#include "common/duration.h"
#include "scenarios/scenarios.h"

namespace pgchaos::scenarios {
namespace {

std::chrono::milliseconds parse_duration(const std::string& text, const std::string& where) {
  const auto duration = common::parse_duration(text);
  if (!duration) throw ScenarioError(where + ": '" + text + "' is not " + common::kDurationExamples);
  return *duration;
}

}  // namespace

Scenario parse_scenario(const std::string& json_text, const std::string& origin) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(json_text);
  } catch (const nlohmann::json::exception& error) {  // a parse error, or a number beyond a double (found by fuzzing)
    throw ScenarioError(origin + ": not JSON: " + error.what());
  }
  Scenario s;
  s.source = json_text;
  auto text = [&](const nlohmann::json& object, const char* key, const std::string& where, const std::string& fallback) {
    if (!object.contains(key)) return fallback;
    if (!object[key].is_string()) throw ScenarioError(where + "." + key + ": must be a string");
    return object[key].get<std::string>();
  };
  if (!j.is_object()) throw ScenarioError(origin + ": must be a JSON object");
  s.name = text(j, "name", origin, "");
  s.description = text(j, "description", origin, "");
  if (j.contains("final_heal") && !j["final_heal"].is_boolean())
    throw ScenarioError(origin + ": final_heal: must be true or false");
  s.final_heal = j.value("final_heal", true);
  if (j.contains("healthy_timeout")) {
    const auto timeout = parse_duration(text(j, "healthy_timeout", origin, ""), origin + ": healthy_timeout");
    s.healthy_timeout = std::chrono::duration_cast<std::chrono::seconds>(timeout);
  } else if (j.contains("healthy_timeout_s")) {  // the first wave's spelling, still read
    if (!j["healthy_timeout_s"].is_number_integer() || j["healthy_timeout_s"].get<long>() < 1)
      throw ScenarioError(origin + ": healthy_timeout_s: must be a whole number of seconds >= 1");
    s.healthy_timeout = std::chrono::seconds(j["healthy_timeout_s"].get<long>());
  }
  if (j.contains("requires")) {
    if (!j["requires"].is_object()) throw ScenarioError(origin + ": requires: must be an object of setting: value");
    for (const auto& [key, value] : j["requires"].items()) {
      if (value.is_object() || value.is_array() || value.is_null())
        throw ScenarioError(origin + ": requires." + key + ": must be a string, number or boolean");
      s.requires_settings[key] = value.is_string() ? value.get<std::string>() : value.dump();
    }
  }
  s.setup = text(j, "setup", origin, "");
  if (!j.contains("steps") || !j["steps"].is_array() || j["steps"].empty())
    throw ScenarioError(origin + ": steps: a non-empty list is required");
  const auto known = faults::fault_names();
  for (std::size_t i = 0; i < j["steps"].size(); ++i) {
    const auto& step = j["steps"][i];
    const std::string where = origin + ": steps[" + std::to_string(i) + "]";
    if (!step.is_object()) throw ScenarioError(where + ": must be an object");
    for (const auto& [key, value] : step.items())
      if (key != "fault" && key != "choices" && key != "target" && key != "delay" && key != "duration" &&
          key != "repeat" && key != "wait_healthy" && key != "heal" && key != "max_unavailable")
        throw ScenarioError(where + "." + key + ": unknown field");
    Step st;
    st.fault = text(step, "fault", where, "");
    if (st.fault.empty()) throw ScenarioError(where + ".fault: required");
    if (st.fault != "any" && std::find(known.begin(), known.end(), st.fault) == known.end())
      throw ScenarioError(where + ".fault: unknown fault '" + st.fault + "'");
    if (step.contains("choices"))
      for (const auto& c : step["choices"]) {
        if (!c.is_string() || std::find(known.begin(), known.end(), c.get<std::string>()) == known.end())
          throw ScenarioError(where + ".choices: unknown fault " + c.dump());
        st.choices.push_back(c);
      }
    if (st.fault == "any" && st.choices.empty())
      st.choices = faults::fault_names_drawn_at_random();
    st.target = text(step, "target", where, "");
    const std::string delay = text(step, "delay", where, "0s");
    std::string why;
    const auto delay_range = common::parse_duration_range(delay, why);
    if (!delay_range) throw ScenarioError(where + ".delay: " + why);
    st.delay_min = delay_range->min;
    st.delay_max = delay_range->max;
    st.duration = parse_duration(text(step, "duration", where, "0s"), where + ".duration");
    if (step.contains("max_unavailable"))
      st.max_unavailable = parse_duration(text(step, "max_unavailable", where, ""), where + ".max_unavailable");
    if (step.contains("repeat") && (!step["repeat"].is_number_integer() || step["repeat"].get<std::int64_t>() < 1 ||
                                    step["repeat"].get<std::int64_t>() > 10000))
      throw ScenarioError(where + ".repeat: must be a whole number from 1 to 10000");
    st.repeat = step.value("repeat", 1);
    for (const char* flag : {"wait_healthy", "heal"})
      if (step.contains(flag) && !step[flag].is_boolean()) throw ScenarioError(where + "." + flag + ": must be true or false");
    st.wait_healthy = step.value("wait_healthy", true);
    st.heal = step.value("heal", true);
    s.steps.push_back(std::move(st));
  }
  return s;
}

Scenario load_scenario(const std::string& name_or_file, const std::vector<std::filesystem::path>& search_path) {
  std::filesystem::path file = name_or_file;
  const bool is_a_file = name_or_file.find('/') != std::string::npos || file.extension() == ".json";
  if (!is_a_file) {
    std::string searched;
    file.clear();
    for (const auto& directory : search_path) {
      if (std::filesystem::exists(directory / (name_or_file + ".json"))) {
        file = directory / (name_or_file + ".json");
        break;
      }
      searched += (searched.empty() ? "" : ", ") + directory.string();
    }
    if (file.empty())
      throw ScenarioError(name_or_file + ": no such scenario in " + searched + " (pgchaos scenario --list shows them)");
  }
  std::ifstream in(file);
  if (!in) throw ScenarioError(file.string() + ": no such scenario (pgchaos scenario --list shows them)");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Scenario s = parse_scenario(text, file.string());
  if (s.name.empty()) s.name = file.stem().string();
  return s;
}

std::vector<ScenarioEntry> list_scenarios(const std::vector<std::filesystem::path>& search_path) {
  std::vector<ScenarioEntry> found;
  for (const auto& directory : search_path) {
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(directory, error)) {
      if (entry.path().extension() != ".json") continue;
      const auto name = entry.path().stem().string();
      if (std::any_of(found.begin(), found.end(), [&](const auto& e) { return e.name == name; })) continue;
      const auto s = load_scenario(entry.path().string(), search_path);
      found.push_back({name, s.description, directory});
    }
    if (error) throw ScenarioError(directory.string() + ": " + error.message());
  }
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return found;
}

std::vector<Action> schedule(const Scenario& scenario, std::uint64_t seed, int round) {
  std::mt19937_64 rng(seed);
  std::vector<Action> actions;
  int index = 0;
  // The rounds before `round` are drawn only to move the generator (and the indices) on.
  for (int drawn = 0; drawn <= round; ++drawn) {
    actions.clear();
    for (const auto& step : scenario.steps)
      for (int r = 0; r < step.repeat; ++r) {
        Action a;
        a.index = ++index;
        // Every draw happens here, in order, whatever the cluster does later: the seed alone decides.
        const auto fault_draw = rng();
        a.fault = step.fault == "any" ? step.choices[fault_draw % step.choices.size()] : step.fault;
        a.target = step.target;
        const auto span = static_cast<std::uint64_t>((step.delay_max - step.delay_min).count());
        a.delay = step.delay_min + std::chrono::milliseconds(span == 0 ? 0 : static_cast<long>(rng() % (span + 1)));
        a.duration = step.duration;
        a.choice = rng();
        a.wait_healthy = step.wait_healthy;
        a.max_unavailable = step.max_unavailable;
        a.heal = step.heal;
        actions.push_back(std::move(a));
      }
  }
  return actions;
}

}  // namespace pgchaos::scenarios

namespace pgchaos::scenarios {

std::string schedule_json(const std::vector<Action>& actions) {
  nlohmann::json schedule = nlohmann::json::array();
  for (const auto& a : actions) {
    nlohmann::json entry = {{"index", a.index}, {"fault", a.fault}, {"target", a.target}, {"delay_ms", a.delay.count()},
                            {"duration_ms", a.duration.count()}, {"choice", a.choice}, {"heal", a.heal},
                            {"max_unavailable_ms", a.max_unavailable.count()}};
    if (!a.resolved_node.empty()) {
      entry["resolved_node"] = a.resolved_node;
      entry["resolved_role"] = a.resolved_role;
    }
    schedule.push_back(std::move(entry));
  }
  return schedule.dump(1) + "\n";
}

std::vector<Action> parse_schedule_json(const std::string& json_text, const std::string& origin) {
  std::vector<Action> actions;
  try {
    const auto j = nlohmann::json::parse(json_text);
    if (!j.is_array()) throw ScenarioError(origin + ": must be a JSON array of actions");
    for (std::size_t i = 0; i < j.size(); ++i) {
      const auto& e = j[i];
      const std::string where = origin + ": [" + std::to_string(i) + "]";
      // Types checked before any conversion: a float where an integer belongs is an error, not a truncation.
      if (!e.is_object() || !e.contains("index") || !e["index"].is_number_integer() || !e.contains("fault") ||
          !e["fault"].is_string())
        throw ScenarioError(where + ": an action needs an integer index and a fault name");
      Action a;
      const auto index = e["index"].get<std::int64_t>();
      if (index < 0 || index > std::numeric_limits<int>::max()) throw ScenarioError(where + ".index: out of range");
      a.index = static_cast<int>(index);
      a.fault = e["fault"].get<std::string>();
      if (e.contains("choice")) {
        if (!e["choice"].is_number_unsigned()) throw ScenarioError(where + ".choice: must be a whole number >= 0");
        a.choice = e["choice"].get<std::uint64_t>();
      }
      for (const auto& [key, field] : {std::pair{"target", &a.target}, std::pair{"resolved_node", &a.resolved_node},
                                        std::pair{"resolved_role", &a.resolved_role}}) {
        if (!e.contains(key)) continue;
        if (!e[key].is_string()) throw ScenarioError(where + "." + key + ": must be a string");
        *field = e[key].get<std::string>();
      }
      actions.push_back(std::move(a));
    }
  } catch (const nlohmann::json::exception& error) {
    throw ScenarioError(origin + ": " + error.what());
  }
  return actions;
}

std::vector<Action> aimed_as_recorded(std::vector<Action> actions, const std::vector<Action>& ran, ReplayBy by) {
  for (auto& a : actions) {
    const auto recorded = std::find_if(ran.begin(), ran.end(), [&a](const Action& r) { return r.index == a.index; });
    if (recorded == ran.end() || a.target == "all") continue;
    const std::string& aim = by == ReplayBy::node ? recorded->resolved_node : recorded->resolved_role;
    // One node (or role) to aim at; "unknown" says nothing to aim at.
    if (!aim.empty() && aim.find(',') == std::string::npos && aim != "unknown") a.target = aim;
  }
  return actions;
}

}  // namespace pgchaos::scenarios
