// The pgchaos binary against a real PostgreSQL 15 (label: integration).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "history/events.h"
#include "history/run_history.h"
#include "history/snapshots.h"
#include "tests/support/postgres_server.h"
#include "tests/support/temp_directory.h"

namespace pgchaos {
namespace {

using testing::slurp;

struct Child {
  pid_t pid = -1;
  std::filesystem::path output;
};

// Starts pgchaos with stdout to `output` and stderr to `errors` (the same file unless given); the test signals
// and reaps it.
Child spawn(const std::vector<std::string>& args, const std::filesystem::path& output,
            const std::filesystem::path& errors = {}) {
  Child child;
  child.output = output;
  child.pid = ::fork();
  if (child.pid == 0) {
    std::FILE* out = std::fopen(output.c_str(), "w");
    std::FILE* err = errors.empty() ? out : std::fopen(errors.c_str(), "w");
    ::dup2(::fileno(out), 1);
    ::dup2(::fileno(err), 2);
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
  testing::TempDirectory dir_{"pgchaos-cli"};
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
  const auto header = out.substr(out.find("check ("), out.find('\n', out.find("check (")) - out.find("check ("));
  const std::string address = "127.0.0.1:" + std::to_string(server_.port());
  EXPECT_EQ(header.find(address), header.rfind(address)) << "the primary's address once: " << header;
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
  EXPECT_EQ(history::read_snapshots(history::RunDirectory::open(run_dir)).size(), 1u);
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
  // The database is the truth: commits whose invoke never reached the file are named, not just counted.
  const Child check = spawn({"check", run_dir.string(), "--resnapshot", "--dsn", server_.dsn()}, dir_ / "check.txt");
  const int code = wait_exit(check);
  const std::string out = slurp(dir_ / "check.txt");
  EXPECT_EQ(code, 0) << out;
  const auto report = slurp(run_dir / "report.json");
  EXPECT_NE(report.find("\"history_complete\": false"), std::string::npos) << report.substr(0, 2000);
  if (report.find("\"committed_not_in_history\": []") == std::string::npos) {
    EXPECT_NE(out.find("committed, not in the history (history cut short)"), std::string::npos) << out;
  }
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
  const std::string error = slurp(dir_ / "unreachable.txt");
  EXPECT_NE(error.find("cannot connect"), std::string::npos) << error;
  EXPECT_EQ(std::count(error.begin(), error.end(), '\n'), 1) << "one line: " << error;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "unreachable")) << "a run that never started leaves no directory";
}

// Errors are one line on stderr, naming the cause; usage goes where it is asked for.
TEST_F(RunCommandTest, ErrorsAreOneLineOnStderr) {
  const auto run_quietly = [&](const std::vector<std::string>& args, const std::string& name) {
    return wait_exit(spawn(args, dir_ / (name + ".out"), dir_ / (name + ".err")));
  };
  EXPECT_EQ(run_quietly({"frobnicate"}, "unknown"), 2);
  EXPECT_EQ(slurp(dir_ / "unknown.err"), "pgchaos: unknown command 'frobnicate' (pgchaos --help lists the commands)\n");
  EXPECT_EQ(slurp(dir_ / "unknown.out"), "");
  EXPECT_EQ(run_quietly({}, "none"), 2);
  EXPECT_EQ(slurp(dir_ / "none.out"), "") << "no command: the usage is an error, on stderr";
  EXPECT_NE(slurp(dir_ / "none.err").find("usage: pgchaos COMMAND"), std::string::npos);
  // A configuration file with control characters in it: shown escaped, never raw.
  std::ofstream(dir_ / "evil.conf") << "[main]\nthreads_num = \x1b[31mred\x07\n";
  EXPECT_EQ(run_quietly({"run", "--conf", (dir_ / "evil.conf").string()}, "evil"), 2);
  const std::string error = slurp(dir_ / "evil.err");
  EXPECT_EQ(error.find('\x1b'), std::string::npos) << "a raw escape reached the terminal";
  EXPECT_NE(error.find("\\x1b[31mred\\x07"), std::string::npos) << error;
  EXPECT_NE(error.find("evil.conf:2:"), std::string::npos) << error;
  EXPECT_EQ(std::count(error.begin(), error.end(), '\n'), 1) << error;
}

// Every option of `scenario` is checked before any node is contacted: the nodes here answer nothing, and the
// error must still be about the bad flag.
TEST_F(RunCommandTest, ScenarioOptionsAreValidatedBeforeTheCluster) {
  std::ofstream(dir_ / "unreachable.conf")
      << "[databases]\ndb = host=127.0.0.1 port=1\n[cluster]\nlab = true\nnode.n1 = ssh=127.0.0.1:1 postgres=127.0.0.1:1\n";
  const Child child = spawn({"scenario", "switchover-storm", "--conf", (dir_ / "unreachable.conf").string(), "--duration",
                             "soon", "--output", (dir_ / "never").string()},
                            dir_ / "scenario.txt");
  EXPECT_EQ(wait_exit(child), 2);
  const std::string error = slurp(dir_ / "scenario.txt");
  EXPECT_NE(error.find("--duration: 'soon' is not a duration"), std::string::npos) << error;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "never"));
}

// A snapshot's ledger cut at a row boundary would read as lost commits: it is an unreadable snapshot instead.
TEST_F(RunCommandTest, ACutLedgerFileIsAnErrorNotALoss) {
  const auto run_dir = dir_ / "cut";
  ASSERT_EQ(wait_exit(spawn({"run", "--dsn", server_.dsn(), "--operations", "300", "--reset", "--output",
                             run_dir.string()},
                            dir_ / "run.txt")),
            0)
      << slurp(dir_ / "run.txt");
  std::filesystem::path ledger;
  for (const auto& entry : std::filesystem::directory_iterator(run_dir))
    if (entry.path().string().ends_with(".ledger.tsv")) ledger = entry.path();
  ASSERT_FALSE(ledger.empty());
  std::string text = slurp(ledger);
  text.erase(text.rfind('\n', text.size() - 2) + 1);  // the last row gone, cleanly at a row boundary
  std::ofstream(ledger, std::ios::trunc) << text;
  const Child check = spawn({"check", run_dir.string()}, dir_ / "check.txt");
  EXPECT_EQ(wait_exit(check), 2);
  const std::string out = slurp(dir_ / "check.txt");
  EXPECT_NE(out.find(ledger.string()), std::string::npos) << out;
  EXPECT_NE(out.find("unreadable snapshot"), std::string::npos) << out;
  EXPECT_EQ(out.find("lost"), std::string::npos) << "never reported as a loss: " << out;
}

TEST_F(RunCommandTest, NeverOverwritesAnExistingHistory) {
  const auto run_dir = dir_ / "kept";
  std::filesystem::create_directories(run_dir);
  std::ofstream(run_dir / "history.jsonl") << "{\"type\":\"invoke\",\"wall_us\":1,\"mono_ns\":1,\"op\":1}\n";
  const Child child = spawn({"run", "--dsn", server_.dsn(), "--output", run_dir.string()}, dir_ / "out.txt");
  EXPECT_EQ(wait_exit(child), 2);
  EXPECT_NE(slurp(dir_ / "out.txt").find("already holds a run"), std::string::npos);
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
