// The default command templates that read a node's state, run for real against a PostgreSQL this test starts:
// what they print is what the forensics judge.
#include <gtest/gtest.h>

#include <unistd.h>

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
  // `postgres -D DIR -C NAME` (Patroni asks a setting before a rewind) prints and exits: never a second postmaster.
  // Stood in for by a process named so for 3 s.
  const std::string asking = "bash -c 'exec -a \"postgres -D " + data_dir + " -C restore_command\" sleep 3' & sleep 0.3; ";
  const auto while_asked = testing::run_shell(asking + command.shell());
  EXPECT_EQ(scenarios::postmaster_problems("node", while_asked), "") << while_asked;
  EXPECT_EQ(while_asked.find("postmaster " + pid + " "), while_asked.rfind("postmaster " + pid + " ")) << while_asked;
  // Another directory's template sees none of this server's processes: never matched by name.
  const auto other = testing::run_shell(expand(default_templates().at("postmasters"), {{"data_dir", {data_dir + "x"}}}).shell());
  EXPECT_EQ(other.find("postmaster "), std::string::npos) << other;
}

// The full WAL disk's templates, for real, on a 16 MiB tmpfs of the test's own (root only: nothing else may be
// filled): the fill leaves less than 1 MiB and exits 0, its check sees it, the free gives the space back.
TEST(Templates, FillWalDiskFillsItsFilesystemAndFreeWalDiskEmptiesIt) {
  if (::geteuid() != 0) GTEST_SKIP() << "mounting a filesystem to fill needs root";
  char pattern[] = "/tmp/pgchaos-wal-fill-XXXXXX";
  const std::string dir = ::mkdtemp(pattern);
  ASSERT_EQ(std::system(("mount -t tmpfs -o size=16m pgchaos-test " + dir).c_str()), 0);
  const auto templates = default_templates();
  const auto run = [&](const std::string& action) {
    return std::system((expand(templates.at(action), {{"wal_fill_dir", {dir}}}).shell() + " >/dev/null 2>&1").c_str());
  };
  const auto available = [&] {
    auto text = testing::run_shell("df --output=avail -B1 " + testing::shell_quote(dir) + " | tail -n 1");
    return std::stoll(text);
  };
  EXPECT_NE(run("wal-disk-filled"), 0) << "nothing filled yet";
  const int filled = run("fill-wal-disk");
  const auto left_full = available();
  const int seen = run("wal-disk-filled");
  const int freed = run("free-wal-disk");
  const auto left_free = available();
  const int seen_after = run("wal-disk-filled");
  EXPECT_EQ(std::system(("umount " + dir + " && rmdir " + dir).c_str()), 0);
  EXPECT_EQ(filled, 0);
  EXPECT_LT(left_full, 1 << 20);
  EXPECT_EQ(seen, 0) << "the check sees the fill";
  EXPECT_EQ(freed, 0);
  EXPECT_GT(left_free, 15 << 20);
  EXPECT_NE(seen_after, 0) << "and no longer once freed";
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
