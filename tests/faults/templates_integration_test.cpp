// The default command templates that read a node's state, run for real against a PostgreSQL this test starts:
// what they print is what the forensics judge.
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace pgchaos::faults
