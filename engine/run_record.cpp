#include "run_record.h"

#include <ctime>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "common/duration.h"
#include "common/json_fields.h"
#include "common/text.h"
#include "common/files.h"

namespace pgchaos::engine {
void create_empty_directory(const std::filesystem::path& dir, const std::string& what) {
  std::error_code ec;
  if (std::filesystem::exists(dir, ec) && !std::filesystem::is_empty(dir, ec))
    throw common::FileError(dir.string() + " is not empty (an earlier " + what + "?); choose another --output");
  std::filesystem::create_directories(dir, ec);
  if (ec) throw common::FileError("cannot create " + dir.string() + ": " + ec.message());
}

std::string utc_now() { return common::utc_millis_now(); }

void write_run_json(const history::RunDirectory& directory, const RunRequest& request, std::int64_t run_id,
                    const common::CommitSetting& commit, const std::string& patroni_config,
                    const std::map<std::string, std::string>& watchdog) {
  const auto& w = request.workload;
  using nlohmann::json;
  json dsns = json::array();
  for (const auto& dsn : w.dsns) dsns.push_back(backend::mask_password(dsn));
  json nodes = json::array();
  for (const auto& n : request.nodes)
    nodes.push_back({{"name", n.name}, {"host", n.host}, {"port", n.port}, {"rest_url", n.rest_url}});
  const auto* plan = request.faults ? &*request.faults : nullptr;
  // The lab's own settings (its DCS, timing, nodes and --set), as lab up wrote them into the configuration.
  json lab = nullptr;
  if (plan && !plan->lab_settings.empty()) lab = plan->lab_settings;
  const json run = {
      {"pgchaos_version", PGCHAOS_VERSION},
      {"started_at", utc_now()},
      {"run_id", run_id},
      {"seed", w.seed},
      {"workload", request.workload_name},
      {"commit_mode", common::to_string(commit.mode)},
      {"synchronous_commit", commit.level.empty() ? json(nullptr) : json(commit.level)},
      {"scenario", plan ? json(plan->scenario.name) : json(nullptr)},
      {"max_lost", request.max_lost ? json(*request.max_lost) : json(nullptr)},
      {"duration", request.duration ? json(common::format_duration(*request.duration)) : json(nullptr)},
      {"cycle", plan != nullptr && plan->cycle},
      {"replay", plan != nullptr && !plan->replay_of.empty()
                     ? json{{"of", plan->replay_of}, {"by", plan->replay_by == scenarios::ReplayBy::node ? "node" : "role"}}
                     : json(nullptr)},
      {"compress_history", request.compress_history},
      {"max_unavailable", request.max_unavailable ? json(common::format_duration(*request.max_unavailable)) : json(nullptr)},
      {"watch_interval", request.watch_interval.count() > 0 ? common::format_duration(request.watch_interval) : "off"},
      {"probe_interval", request.probe_interval.count() > 0 ? common::format_duration(request.probe_interval) : "off"},
      {"nodes", nodes},
      {"patroni_config", patroni_config.empty() ? json(nullptr) : json::parse(patroni_config, nullptr, false)},
      {"lab", lab},
      {"watchdog", watchdog.empty() ? json(nullptr) : json(watchdog)},
      {"config",
       {{"dsns", dsns},
        {"application_name", w.application_name},
        {"threads", w.threads},
        {"conn_exception_sleep_ms", w.conn_exception_sleep.count()},
        {"reconnect_attempt", w.reconnect_attempt},
        {"accounts", request.bank.accounts},
        {"operations", w.operations},
        {"think_time_ms", request.bank.think_time ? json{request.bank.think_time->min.count(), request.bank.think_time->max.count()} : json(nullptr)},
        {"round_trips", request.bank.batched() ? "batched" : "statement-by-statement"},
        {"reset", w.reset},
        {"log_level", request.log_level},
        {"log_sql", request.bank.log_sql},
        {"isolation", request.workload_name == "append" ? json(request.append.isolation) : json(nullptr)},
        {"active_keys", request.workload_name == "append" ? json(request.append.active_keys) : json(nullptr)},
        {"appends_per_key", request.workload_name == "append" ? json(request.append.appends_per_key) : json(nullptr)},
        {"replica_reads", request.workload_name == "append" ? json(request.append.replica_reads) : json(nullptr)},
        {"max_staleness", request.append.max_staleness_ms > 0
                              ? json(common::format_duration(std::chrono::milliseconds(request.append.max_staleness_ms)))
                              : json(nullptr)}}},
  };
  common::write_file_atomically(directory.run_json(), run.dump(2) + "\n");
}

RecordedRun read_recorded_run(const history::RunDirectory& directory) {
  const auto file = directory.run_json();
  RecordedRun run;
  run.run_json = common::read_text_file(file);
  try {
    const auto j = nlohmann::json::parse(run.run_json);
    run.run_id = common::integer_at<std::int64_t>(j, "run_id");
    // A seed is any 64-bit pattern (written unsigned when above INT64_MAX): any integer, never a float.
    if (!j.at("seed").is_number_integer()) throw std::invalid_argument("seed must be an integer");
    run.seed = j.at("seed").get<std::int64_t>();
    for (const auto& dsn : j.at("config").at("dsns")) run.dsns.push_back(dsn);
    for (const auto& n : j.value("nodes", nlohmann::json::array()))
      run.nodes.push_back({n.at("name"), n.at("host"), common::integer_at<int>(n, "port"), n.value("rest_url", "")});
    const auto mode = common::parse_commit_mode(j.value("commit_mode", "async"));
    if (!mode) throw common::FileError(file.string() + ": unknown commit_mode");
    run.commit.mode = *mode;
    if (j.contains("synchronous_commit") && j["synchronous_commit"].is_string())
      run.commit.level = j["synchronous_commit"].get<std::string>();
    if (j.contains("max_lost") && !j["max_lost"].is_null()) run.max_lost = common::integer_at<std::int64_t>(j, "max_lost");
    if (j.contains("duration") && j["duration"].is_string())
      run.duration = common::parse_duration(j["duration"].get<std::string>());
    if (j.contains("scenario") && j["scenario"].is_string()) run.scenario = j["scenario"].get<std::string>();
    run.cycle = j.value("cycle", false);
    run.workload = j.value("workload", "bank");
    if (run.workload != "bank" && run.workload != "append") throw common::FileError(file.string() + ": unknown workload " + run.workload);
    if (j.at("config").contains("isolation") && j["config"]["isolation"].is_string())
      run.isolation = j["config"]["isolation"].get<std::string>();
    if (j["config"].contains("active_keys") && j["config"]["active_keys"].is_number_integer())
      run.active_keys = j["config"]["active_keys"].get<int>();
    if (j["config"].contains("appends_per_key") && j["config"]["appends_per_key"].is_number_integer())
      run.appends_per_key = j["config"]["appends_per_key"].get<int>();
    if (j["config"].contains("max_staleness") && j["config"]["max_staleness"].is_string())
      if (const auto d = common::parse_duration(j["config"]["max_staleness"].get<std::string>())) run.max_staleness_ms = d->count();
    if (run.workload == "append" && !append::valid_isolation(run.isolation))
      throw common::FileError(file.string() + ": config.isolation must be serializable, repeatable-read or read-committed");
    if (j.contains("watchdog") && j["watchdog"].is_object())
      for (const auto& [node, text] : j["watchdog"].items())
        if (text.is_string()) run.watchdog[node] = text.get<std::string>();
    if (j.contains("max_unavailable") && j["max_unavailable"].is_string())
      run.max_unavailable = common::parse_duration(j["max_unavailable"].get<std::string>());
  } catch (const nlohmann::json::exception& error) {
    throw common::FileError(file.string() + ": " + error.what());
  } catch (const std::invalid_argument& error) {
    throw common::FileError(file.string() + ": " + error.what());
  }
  return run;
}

}  // namespace pgchaos::engine
