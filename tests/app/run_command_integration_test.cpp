// The pgchaos binary against a real PostgreSQL 15 (label: integration).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "history/history.h"
#include "tests/support/postgres_server.h"

namespace pgchaos {
namespace {

using testing::slurp;

struct Child {
  pid_t pid = -1;
  std::filesystem::path output;
};

// Starts pgchaos with stdout/stderr to a file; the test signals and reaps it.
Child spawn(const std::vector<std::string>& args, const std::filesystem::path& output) {
  Child child;
  child.output = output;
  child.pid = ::fork();
  if (child.pid == 0) {
    std::FILE* out = std::fopen(output.c_str(), "w");
    ::dup2(::fileno(out), 1);
    ::dup2(::fileno(out), 2);
    std::vector<char*> argv{const_cast<char*>(PGCHAOS_BINARY)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(PGCHAOS_BINARY, argv.data());
    ::_exit(127);
  }
  return child;
}

int wait_exit(const Child& child) {
  int status = 0;
  ::waitpid(child.pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

class RunCommandTest : public ::testing::Test {
 protected:
  std::filesystem::path dir_ = [] {
    char pattern[] = "/tmp/pgchaos-cli-XXXXXX";
    return std::filesystem::path(::mkdtemp(pattern));
  }();
  ~RunCommandTest() override { std::filesystem::remove_all(dir_); }
  testing::PostgresServer server_;

  void wait_for_history(const std::filesystem::path& file, std::size_t bytes) {
    for (int i = 0; i < 300; ++i) {
      std::error_code ec;
      if (std::filesystem::file_size(file, ec) > bytes && !ec) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    FAIL() << "no history appeared in " << file;
  }
};

TEST_F(RunCommandTest, ARunSucceedsAndRecordsItsConfigurationWithoutPasswords) {
  server_.psql("CREATE ROLE bank LOGIN SUPERUSER PASSWORD 'sekret-pw'");
  const std::string dsn = "postgresql://bank:sekret-pw@127.0.0.1:" + std::to_string(server_.port()) + "/postgres";
  const auto run_dir = dir_ / "run";
  const Child child = spawn({"run", "--dsn", dsn, "--operations", "300", "--threads", "4", "--reset", "--output",
                             run_dir.string(), "--seed", "7"},
                            dir_ / "out.txt");
  const int code = wait_exit(child);
  const std::string out = slurp(dir_ / "out.txt");
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("[ok]   no_lost_commits: all 300 acknowledged commits are in the primary's ledger"), std::string::npos) << out;
  EXPECT_NE(out.find("verdict: valid"), std::string::npos) << out;
  EXPECT_NE(out.find("seed formula"), std::string::npos) << out;
  EXPECT_NE(out.find("p99"), std::string::npos) << out;
  EXPECT_EQ(out.find("sekret-pw"), std::string::npos) << "a password was printed";
  const std::string run_json = slurp(run_dir / "run.json");
  EXPECT_NE(run_json.find("\"seed\": 7"), std::string::npos) << run_json;
  EXPECT_EQ(run_json.find("sekret-pw"), std::string::npos) << run_json;
  EXPECT_NE(run_json.find("bank:***@"), std::string::npos) << run_json;
  const auto history = history::read_history(run_dir / "history.jsonl");
  EXPECT_EQ(history.events.front().type, history::EventType::run_started);
  EXPECT_EQ(history.events.back().type, history::EventType::run_finished);
  for (const char* file : {"report.json", "report.html", "junit.xml"})
    EXPECT_TRUE(std::filesystem::exists(run_dir / file)) << file;
  EXPECT_EQ(history::read_snapshots(run_dir).size(), 1u);
}

TEST_F(RunCommandTest, SigkillLeavesAReadableHistory) {
  const auto run_dir = dir_ / "killed";
  const Child child = spawn({"run", "--dsn", server_.dsn(), "--operations", "1000000", "--threads", "4", "--reset",
                             "--output", run_dir.string()},
                            dir_ / "out.txt");
  wait_for_history(run_dir / "history.jsonl", 20000);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ::kill(child.pid, SIGKILL);
  EXPECT_EQ(wait_exit(child), 128 + SIGKILL);
  const auto history = history::read_history(run_dir / "history.jsonl");
  EXPECT_GT(history.events.size(), 100u);
  EXPECT_EQ(history.events.front().type, history::EventType::run_started);
}

TEST_F(RunCommandTest, CtrlCStopsChecksAndExits130) {
  const auto run_dir = dir_ / "interrupted";
  const Child child = spawn({"run", "--dsn", server_.dsn(), "--operations", "1000000", "--threads", "4", "--reset",
                             "--think-time", "5ms-10ms", "--output", run_dir.string()},
                            dir_ / "out.txt");
  wait_for_history(run_dir / "history.jsonl", 2000);
  ::kill(child.pid, SIGINT);
  const int code = wait_exit(child);
  const std::string out = slurp(dir_ / "out.txt");
  EXPECT_EQ(code, 130) << out;
  EXPECT_NE(out.find("INTERRUPTED"), std::string::npos) << out;
  EXPECT_NE(out.find("[ok]   no_lost_commits"), std::string::npos) << out;
  EXPECT_NE(out.find("[ok]   no_phantom_commits"), std::string::npos) << out;
  const auto history = history::read_history(run_dir / "history.jsonl");
  EXPECT_FALSE(history.torn_tail);
  EXPECT_EQ(history.events.back().type, history::EventType::run_finished);
  EXPECT_EQ(history.events.back().message, "interrupted");
}

TEST_F(RunCommandTest, BadInputIsAClearErrorWithExitCode2) {
  const Child bad_flag = spawn({"run", "--dsn", server_.dsn(), "--threads", "zero"}, dir_ / "flag.txt");
  EXPECT_EQ(wait_exit(bad_flag), 2);
  EXPECT_NE(slurp(dir_ / "flag.txt").find("--threads"), std::string::npos);

  const Child unreachable = spawn({"run", "--dsn", "host=127.0.0.1 port=1 connect_timeout=2", "--output",
                                   (dir_ / "unreachable").string()},
                                  dir_ / "unreachable.txt");
  EXPECT_EQ(wait_exit(unreachable), 2);
  EXPECT_NE(slurp(dir_ / "unreachable.txt").find("cannot connect"), std::string::npos);
}

TEST_F(RunCommandTest, NeverOverwritesAnExistingHistory) {
  const auto run_dir = dir_ / "kept";
  std::filesystem::create_directories(run_dir);
  std::ofstream(run_dir / "history.jsonl") << "{\"type\":\"invoke\",\"wall_us\":1,\"mono_ns\":1,\"op\":1}\n";
  const Child child = spawn({"run", "--dsn", server_.dsn(), "--output", run_dir.string()}, dir_ / "out.txt");
  EXPECT_EQ(wait_exit(child), 2);
  EXPECT_NE(slurp(dir_ / "out.txt").find("already holds a history"), std::string::npos);
  EXPECT_EQ(history::read_history(run_dir / "history.jsonl").events.size(), 1u);
}

// Issue 4's end-to-end check: damage the database after a run; `check --resnapshot` finds exactly that, while
// the offline `check` keeps the original verdict.
TEST_F(RunCommandTest, CheckResnapshotFindsWhatWasDoneToTheDatabase) {
  const auto run_dir = dir_ / "damaged";
  const Child run = spawn({"run", "--dsn", server_.dsn(), "--operations", "500", "--threads", "4", "--reset",
                           "--output", run_dir.string()},
                          dir_ / "run.txt");
  ASSERT_EQ(wait_exit(run), 0) << slurp(dir_ / "run.txt");
  const std::string lost_op = server_.psql("SELECT op_id FROM pgchaos.ledger ORDER BY op_id LIMIT 1 OFFSET 100");
  server_.psql("DELETE FROM pgchaos.ledger WHERE run_id = (SELECT max(id) FROM pgchaos.runs) AND op_id = " + lost_op);
  server_.psql("UPDATE pgchaos.accounts SET balance = balance + 5 WHERE id = 7");

  const Child offline = spawn({"check", run_dir.string()}, dir_ / "offline.txt");
  EXPECT_EQ(wait_exit(offline), 0) << slurp(dir_ / "offline.txt");

  const Child fresh = spawn({"check", run_dir.string(), "--resnapshot"}, dir_ / "fresh.txt");
  EXPECT_EQ(wait_exit(fresh), 1) << slurp(dir_ / "fresh.txt");
  const auto report = slurp(run_dir / "report.json");
  const auto lost_at = report.find("\"lost\": [");
  ASSERT_NE(lost_at, std::string::npos);
  std::string lost_list = report.substr(lost_at, report.find(']', lost_at) - lost_at);
  lost_list.erase(std::remove_if(lost_list.begin(), lost_list.end(), ::isspace), lost_list.end());
  std::string expected_op = lost_op;
  expected_op.erase(std::remove_if(expected_op.begin(), expected_op.end(), ::isspace), expected_op.end());
  EXPECT_EQ(lost_list, "\"lost\":[" + expected_op) << "exactly the deleted op is lost";
  const std::string out = slurp(dir_ / "fresh.txt");
  EXPECT_NE(out.find("account 7:"), std::string::npos) << "the changed account is named: " << out;
  EXPECT_NE(out.find("[FAIL] account_reconciliation"), std::string::npos) << out;
  EXPECT_NE(out.find("verdict: invalid"), std::string::npos) << out;
}

}  // namespace
}  // namespace pgchaos
