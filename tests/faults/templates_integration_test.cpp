// The default command templates that read a node's state, run for real against a PostgreSQL this test starts:
// what they print is what the forensics judge.
#include <gtest/gtest.h>

#include <cstdlib>

#include "faults/cluster.h"
#include "faults/remote.h"
#include "scenarios/forensics.h"
#include "tests/support/postgres_server.h"

namespace pgchaos::faults {
namespace {

TEST(Templates, PostmastersListsTheServerOfTheDataDirectoryAndItsPidFile) {
  const testing::PostgresServer server;
  auto data_dir = server.psql("SHOW data_directory");
  data_dir = data_dir.substr(0, data_dir.find('\n'));
  auto pid = testing::run_shell("head -n 1 " + testing::shell_quote(data_dir + "/postmaster.pid"));
  pid = pid.substr(0, pid.find('\n'));
  const auto command = expand(default_templates().at("postmasters"), {{"data_dir", {data_dir}}});
  const auto listing = testing::run_shell(command.shell());
  EXPECT_NE(listing.find("postmaster " + pid + " " + data_dir + "\n"), std::string::npos)
      << listing;
  EXPECT_NE(listing.find("pidfile " + pid), std::string::npos) << listing;
  EXPECT_EQ(scenarios::postmaster_problems("node", listing), "") << listing;
  // Another directory's template sees none of this server's processes: never matched by name.
  const auto other = testing::run_shell(expand(default_templates().at("postmasters"), {{"data_dir", {data_dir + "x"}}}).shell());
  EXPECT_EQ(other.find("postmaster "), std::string::npos) << other;
}

// The pause fault and its check, for real: the check sees the stopped postmaster (what `pgchaos heal --all` and the
// start of every run look for), and no longer once it was resumed.
TEST(Templates, ThePausedPostgresCheckSeesAStoppedPostmasterAndOnlyThen) {
  const testing::PostgresServer server;
  auto data_dir = server.psql("SHOW data_directory");
  data_dir = data_dir.substr(0, data_dir.find('\n'));
  const auto templates = default_templates();
  const auto run = [&](const std::string& action) {
    const auto command = expand(templates.at(action), {{"data_dir", {data_dir}}}).shell();
    return std::system((command + " >/dev/null 2>&1").c_str());
  };
  EXPECT_NE(run("postgres-paused"), 0) << "a running server is not paused";
  ASSERT_EQ(run("pause"), 0);
  const int while_paused = run("postgres-paused");
  ASSERT_EQ(run("resume"), 0);
  EXPECT_EQ(while_paused, 0) << "the check sees the stopped postmaster";
  EXPECT_NE(run("postgres-paused"), 0);
  EXPECT_NE(server.psql("SELECT 1").find('1'), std::string::npos) << "the server answers again";
  // A data directory without a server: no leftover, and no error either way.
  const auto none = expand(templates.at("postgres-paused"), {{"data_dir", {data_dir + "-none"}}}).shell();
  EXPECT_NE(std::system((none + " >/dev/null 2>&1").c_str()), 0);
}

}  // namespace
}  // namespace pgchaos::faults
