#include <gtest/gtest.h>

#include "scenarios/scenarios.h"

namespace pgchaos::scenarios {
namespace {

const std::filesystem::path kLibrary = PGCHAOS_SOURCE_DIR "/scenarios/library";

std::string error_of(const std::string& json) {
  try {
    parse_scenario(json, "test.json");
  } catch (const ScenarioError& error) {
    return error.what();
  }
  return "";
}

TEST(Scenarios, TheLibraryShipsEveryNamedScenarioAndAllParse) {
  const auto list = list_scenarios(kLibrary);
  std::vector<std::string> names;
  for (const auto& [name, description] : list) {
    names.push_back(name);
    EXPECT_FALSE(description.empty()) << name;
  }
  for (const char* wanted : {"switchover-storm", "restart-storm", "rolling-reboot", "crash-primary", "stop-patroni",
                             "terminate-backends", "partition-primary", "seed-checklist", "random"})
    EXPECT_NE(std::find(names.begin(), names.end(), wanted), names.end()) << wanted;
}

TEST(Scenarios, TheSameSeedSchedulesTheSameRun) {
  const auto random = load_scenario("random", kLibrary);
  const auto a = schedule(random, 7), b = schedule(random, 7), c = schedule(random, 8);
  ASSERT_EQ(a.size(), 8u);
  bool differs = false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].fault, b[i].fault);
    EXPECT_EQ(a[i].delay, b[i].delay);
    EXPECT_EQ(a[i].choice, b[i].choice);
    EXPECT_GE(a[i].delay, std::chrono::milliseconds(2000));
    EXPECT_LE(a[i].delay, std::chrono::milliseconds(5000));
    EXPECT_NE(a[i].fault, "heal") << "a heal is no fault of its own";
    differs |= a[i].fault != c[i].fault || a[i].choice != c[i].choice;
  }
  EXPECT_TRUE(differs) << "another seed, another run";
}

TEST(Scenarios, StepsExpandRepeatsAndKeepTheirOptions) {
  const auto s = parse_scenario(R"({"steps": [{"fault": "stop-patroni", "target": "node:1", "heal": false, "wait_healthy": false},
                                             {"fault": "switchover", "repeat": 3, "delay": "1s", "duration": "500ms"}]})",
                                "t.json");
  const auto actions = schedule(s, 1);
  ASSERT_EQ(actions.size(), 4u);
  EXPECT_FALSE(actions[0].heal);
  EXPECT_FALSE(actions[0].wait_healthy);
  EXPECT_EQ(actions[0].target, "node:1");
  EXPECT_EQ(actions[3].index, 4);
  EXPECT_EQ(actions[3].delay, std::chrono::milliseconds(1000));
  EXPECT_EQ(actions[3].duration, std::chrono::milliseconds(500));
}

TEST(Scenarios, BadFilesNameTheFileAndTheField) {
  EXPECT_NE(error_of("{").find("test.json: not JSON"), std::string::npos);
  EXPECT_NE(error_of(R"({"steps": []})").find("test.json: steps"), std::string::npos);
  EXPECT_NE(error_of(R"({"steps": [{"fault": "meteor"}]})").find("steps[0].fault: unknown fault 'meteor'"), std::string::npos);
  EXPECT_NE(error_of(R"({"steps": [{"fault": "crash", "delay": "soon"}]})").find("steps[0].delay"), std::string::npos);
  EXPECT_NE(error_of(R"({"steps": [{"fault": "crash"}, {"fault": "crash", "repeat": 0}]})").find("steps[1].repeat"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"steps": [{"fault": "crash", "when": "now"}]})").find("steps[0].when: unknown field"),
            std::string::npos);
  EXPECT_THROW(load_scenario("no-such-scenario", kLibrary), ScenarioError);
}

}  // namespace
}  // namespace pgchaos::scenarios
