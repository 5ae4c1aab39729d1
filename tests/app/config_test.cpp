#include <gtest/gtest.h>

#include <fstream>

#include "app/app.h"
#include "tests/support/temp_directory.h"

namespace pgchaos::app {
namespace {

std::filesystem::path write_conf(const std::string& name, const std::string& text) {
  static const testing::TempDirectory dir("pgchaos-conf");
  std::ofstream(dir / name) << text;
  return dir / name;
}

// The UsageError a parse of `args` throws ("" when it parses).
template <typename Options = RunOptions>
std::string error_of(const std::vector<std::string>& args,
                     Options (*parse)(const std::vector<std::string>&) = parse_run_options) {
  try {
    parse(args);
  } catch (const UsageError& error) {
    return error.what();
  }
  return "";
}

TEST(Config, AcceptsTheSeedsOwnFile) {
  const RunOptions o = parse_run_options({"--conf", PGCHAOS_SOURCE_DIR "/conf/pg_cluster_backend.conf"});
  ASSERT_EQ(o.request.workload.dsns.size(), 1u);
  EXPECT_EQ(o.request.workload.dsns[0], "postgresql://postgres:postgres@127.0.0.1:5432/test_db");
  EXPECT_EQ(o.request.workload.application_name, "pg_cluster_backend");
  EXPECT_EQ(o.request.workload.threads, 10);
  EXPECT_EQ(o.request.workload.conn_exception_sleep, std::chrono::milliseconds(3000));
  EXPECT_EQ(o.request.workload.reconnect_attempt, 3);
  EXPECT_EQ(o.request.bank.accounts, 100);
  EXPECT_EQ(o.request.workload.operations, 1000);
  EXPECT_EQ(o.request.log_level, "info");
  EXPECT_FALSE(o.request.bank.log_sql);
  EXPECT_EQ(o.request.log_file_max_bytes, 50u << 20);
  EXPECT_EQ(o.request.log_file_backups, 5u);
  EXPECT_FALSE(o.request.bank.think_time.has_value()) << "think time is off by default";
}

// A configuration for a pooler in the path says so once, instead of a flag on every command.
TEST(Config, PreparedStatementsCanBeTurnedOffInTheFile) {
  EXPECT_TRUE(parse_run_options({"--conf", PGCHAOS_SOURCE_DIR "/conf/pg_cluster_backend.conf"}).request.bank.prepared_statements);
  const auto off = write_conf("pooler.conf", "[databases]\na = host=x\n[main]\nprepared_statements = false\n");
  EXPECT_FALSE(parse_run_options({"--conf", off.string()}).request.bank.prepared_statements);
  const auto bad = write_conf("pooler-bad.conf", "[databases]\na = host=x\n[main]\nprepared_statements = maybe\n");
  const std::string error = error_of({"--conf", bad.string()});
  EXPECT_NE(error.find("pooler-bad.conf:4"), std::string::npos) << error;
}

TEST(Config, FlagsOverrideTheFile) {
  const RunOptions o = parse_run_options({"--conf", PGCHAOS_SOURCE_DIR "/conf/pg_cluster_backend.conf",
                                          "--operations=10000", "--threads", "4", "--accounts", "10", "--dsn",
                                          "host=a", "--dsn", "pq://u:p@b:5433/db", "--think-time", "100ms-200ms",
                                          "--seed", "42", "--reset", "--output", "/tmp/x"});
  EXPECT_EQ(o.request.workload.operations, 10000);
  EXPECT_EQ(o.request.workload.threads, 4);
  EXPECT_EQ(o.request.bank.accounts, 10);
  EXPECT_EQ(o.request.workload.dsns, (std::vector<std::string>{"host=a", "postgresql://u:p@b:5433/db"}));
  ASSERT_TRUE(o.request.bank.think_time.has_value());
  EXPECT_EQ(o.request.bank.think_time->min, std::chrono::milliseconds(100));
  EXPECT_EQ(o.request.bank.think_time->max, std::chrono::milliseconds(200));
  EXPECT_EQ(o.request.workload.seed, 42u);
  EXPECT_TRUE(o.request.workload.reset);
  EXPECT_EQ(o.output, "/tmp/x");
}

TEST(Config, ABadValueNamesFileLineAndKey) {
  const auto path = write_conf("bad.conf", "[databases]\ndb = host=x\n\n[main]\nthreads_num = ten\n");
  const std::string error = error_of({"--conf", path.string()});
  EXPECT_NE(error.find(path.string() + ":5:"), std::string::npos) << error;
  EXPECT_NE(error.find("threads_num"), std::string::npos) << error;
  EXPECT_NE(error.find("'ten'"), std::string::npos) << error;
}

TEST(Config, AnUnknownKeyIsAnError) {
  const auto path = write_conf("unknown.conf", "[databases]\ndb = host=x\n[main]\nthreads = 4\n");
  const std::string error = error_of({"--conf", path.string()});
  EXPECT_NE(error.find(":4:"), std::string::npos) << error;
  EXPECT_NE(error.find("unknown key"), std::string::npos) << error;
}

TEST(Config, MalformedLinesAreErrors) {
  EXPECT_NE(error_of({"--conf", write_conf("m1.conf", "[main\n").string()}).find(":1: malformed section"),
            std::string::npos);
  EXPECT_NE(error_of({"--conf", write_conf("m2.conf", "[main]\njust words\n").string()}).find(":2: expected"),
            std::string::npos);
  EXPECT_NE(error_of({"--conf", write_conf("m3.conf", "key = 1\n").string()}).find("before any [section]"),
            std::string::npos);
  EXPECT_NE(error_of({"--conf", "/nonexistent/pgchaos.conf"}).find("/nonexistent/pgchaos.conf"), std::string::npos);
}

TEST(Config, BadFlagsNameTheFlag) {
  EXPECT_NE(error_of({"--dsn", "host=x", "--operations", "-5"}).find("--operations"), std::string::npos);
  EXPECT_NE(error_of({"--dsn", "host=x", "--think-time", "fast"}).find("--think-time"), std::string::npos);
  EXPECT_NE(error_of({"--dsn", "host=x", "--think-time", "200ms-100ms"}).find("backwards"), std::string::npos);
  EXPECT_NE(error_of({"--dsn", "host=x", "--no-such-flag"}).find("no-such-flag"), std::string::npos);
  EXPECT_NE(error_of({"--operations", "5"}).find("no database"), std::string::npos);
}

TEST(Config, ClusterNodesAreReadAndBadOnesNamed) {
  const auto good = write_conf("cluster.conf",
                               "[databases]\ndb = host=x\n[cluster]\nscope = prod\nssh_user = admin\n"
                               "node.db1 = ssh=10.0.0.1:2222 postgres=10.0.0.1 rest=http://10.0.0.1:8008 node_dir=/x\n"
                               "node.db2 = ssh=[fd00::2] postgres=[fd00::2]:5433\n");
  const ClusterConfig c = read_cluster_config(good);
  EXPECT_EQ(c.scope, "prod");
  ASSERT_EQ(c.nodes.size(), 2u);
  EXPECT_EQ(c.nodes[0].ssh_port, 2222);
  EXPECT_EQ(c.nodes[0].postgres_port, 5432);
  EXPECT_EQ(c.nodes[0].rest_url, "http://10.0.0.1:8008");
  EXPECT_EQ(c.nodes[1].postgres_host, "fd00::2");
  EXPECT_EQ(c.nodes[1].postgres_port, 5433);
  EXPECT_EQ(c.settings.front(), (std::pair<std::string, std::string>{"ssh_user", "admin"}));
  const auto error_for = [](const std::string& line) {
    try {
      read_cluster_config(write_conf("bad-cluster.conf", "[cluster]\n" + line + "\n"));
    } catch (const UsageError& error) {
      return std::string(error.what());
    }
    return std::string();
  };
  EXPECT_NE(error_for("node.db1 = postgres=10.0.0.1:99999").find("bad-cluster.conf:2: [cluster] node.db1: bad port"), std::string::npos);
  EXPECT_NE(error_for("node.db1 = ssh=10.0.0.1").find("needs postgres=HOST:PORT"), std::string::npos);
  EXPECT_NE(error_for("node.db1 = postgres").find("expected key=value"), std::string::npos);
  EXPECT_NE(error_for("node. = postgres=x").find("needs a name"), std::string::npos);
  EXPECT_NE(error_for("sudo = yes").find("bad-cluster.conf:2: [cluster] sudo: expected true or false, got 'yes'"),
            std::string::npos);
}

// How the REST API is reached: TLS files that exist, a user, the password from one place only, never a placeholder.
TEST(Config, TheRestSettingsAreReadAndThePasswordIsNeverASetting) {
  const auto ca = write_conf("ca.crt", "not checked here, only that it exists");
  const auto password_file = write_conf("rest-password", "from-the-file\n");
  const auto conf = write_conf("rest.conf", "[cluster]\nrest_user = patroni\nrest_password_file = " +
                                                password_file.string() + "\nrest_ca_file = " + ca.string() +
                                                "\nnode.db1 = postgres=10.0.0.1 rest=https://10.0.0.1:8008\n");
  const ClusterConfig c = read_cluster_config(conf);
  EXPECT_EQ(c.rest.user, "patroni");
  EXPECT_EQ(c.rest.password, "from-the-file");
  EXPECT_EQ(c.rest.ca_file, ca.string());
  for (const auto& [key, value] : c.settings) EXPECT_NE(key.rfind("rest_", 0), 0u) << key << " would be a placeholder";

  setenv("PGCHAOS_REST_PASSWORD", "from-the-environment", 1);
  EXPECT_EQ(read_cluster_config(write_conf("rest-env.conf", "[cluster]\nrest_user = patroni\n")).rest.password,
            "from-the-environment");
  EXPECT_EQ(read_cluster_config(conf).rest.password, "from-the-file") << "the configuration's own password first";
  unsetenv("PGCHAOS_REST_PASSWORD");

  const auto error_for = [](const std::string& lines) {
    try {
      read_cluster_config(write_conf("bad-rest.conf", "[cluster]\n" + lines));
    } catch (const UsageError& error) {
      return std::string(error.what());
    }
    return std::string();
  };
  const auto twice = error_for("rest_user = u\nrest_password = a\nrest_password_file = /x\n");
  EXPECT_NE(twice.find("bad-rest.conf:4: [cluster] rest_password_file: the REST password is already given by "
                       "rest_password (line 3)"), std::string::npos) << twice;
  EXPECT_EQ(twice.find("= a"), std::string::npos) << "never the password itself";
  EXPECT_NE(error_for("rest_ca_file = /nonexistent/ca.crt\n").find("bad-rest.conf:2: [cluster] rest_ca_file: no such file"),
            std::string::npos);
  EXPECT_NE(error_for("rest_password_file = /nonexistent/pw\n").find("cannot read '/nonexistent/pw'"), std::string::npos);
  EXPECT_NE(error_for("rest_pasword = x\n").find("unknown REST setting"), std::string::npos);
  const auto in_url = error_for("node.db1 = postgres=h rest=https://patroni:s3cret@h:8008\n");
  EXPECT_NE(in_url.find("no credentials in rest="), std::string::npos) << in_url;
  EXPECT_EQ(in_url.find("s3cret"), std::string::npos) << in_url;
  EXPECT_NE(error_for("rest_password = x\n").find("a REST password but no rest_user"), std::string::npos);
  EXPECT_NE(error_for("rest_cert_file = " + ca.string() + "\n").find("rest_cert_file and rest_key_file go together"),
            std::string::npos);
}

TEST(Config, SeedDsnConversionRule) {
  EXPECT_EQ(convert_pg_cluster_dsn("pq://u:p@h:1/d"), "postgresql://u:p@h:1/d");
  EXPECT_EQ(convert_pg_cluster_dsn("host=h port=1"), "host=h port=1");
  EXPECT_EQ(convert_pg_cluster_dsn("postgresql://h/d"), "postgresql://h/d");
}

}  // namespace
}  // namespace pgchaos::app

namespace pgchaos::app {
namespace {

// Nodes on loopback ports nothing listens on: parsing must never try them.
std::filesystem::path lab_like_conf() {
  return write_conf("lab-like.conf",
                    "[databases]\ndb = host=127.0.0.1 port=1\n[cluster]\nlab = true\n"
                    "node.n1 = ssh=127.0.0.1:1 postgres=127.0.0.1:1\n");
}

std::string scenario_error_of(const std::vector<std::string>& args) { return error_of(args, parse_scenario_options); }

TEST(ScenarioOptions, EveryOptionIsValidatedBeforeTheClusterIsTouched) {
  const auto conf = lab_like_conf().string();
  EXPECT_NE(scenario_error_of({"switchover-storm", "--conf", conf, "--duration", "5 minutes"}).find("--duration"),
            std::string::npos);
  EXPECT_NE(scenario_error_of({"switchover-storm", "--conf", conf, "--commit-mode", "maybe"}).find("--commit-mode"),
            std::string::npos);
  EXPECT_NE(scenario_error_of({"switchover-storm", "--conf", conf, "--commit-mode", "sync:fast"}).find("remote_apply"),
            std::string::npos) << "the levels are named";
  EXPECT_NE(scenario_error_of({"switchover-storm", "--conf", conf, "--commit-mode", "single"}).find("--commit-mode"),
            std::string::npos) << "single is detected, never set";
  EXPECT_EQ(parse_scenario_options({"switchover-storm", "--conf", conf, "--commit-mode", "sync-strict:on"})
                .request.faults->commit_mode->text(), "sync-strict:on");
  EXPECT_NE(scenario_error_of({"no-such-scenario", "--conf", conf}).find("no-such-scenario"), std::string::npos);
  EXPECT_NE(scenario_error_of({"switchover-storm", "--dsn", "host=x"}).find("--conf"), std::string::npos);
  EXPECT_NE(scenario_error_of({"switchover-storm", "--conf", conf, "--threads", "0"}).find("--threads"),
            std::string::npos) << "scenario takes run's options, with run's checks";
  const RunOptions o = parse_scenario_options({"switchover-storm", "--conf", conf, "--duration", "90s", "--seed", "3"});
  ASSERT_TRUE(o.request.faults.has_value());
  EXPECT_EQ(o.request.duration, std::chrono::seconds(90));
  EXPECT_EQ(o.request.faults->scenario.name, "switchover-storm");
  EXPECT_EQ(o.request.faults->actions.size(), 5u);
  EXPECT_EQ(o.request.faults->cluster, nullptr) << "no cluster is built while parsing";
}

TEST(ScenarioOptions, FaultsOnAClusterThatIsNotTheLabNeedConsent) {
  const auto conf = write_conf("prod.conf", "[databases]\ndb = host=x\n[cluster]\nnode.n1 = postgres=127.0.0.1:1\n");
  EXPECT_NE(scenario_error_of({"switchover-storm", "--conf", conf.string()}).find("allow_faults"), std::string::npos);
  EXPECT_NO_THROW(parse_scenario_options({"switchover-storm", "--conf", conf.string(), "--allow-faults"}));
}

// A full WAL disk fills a filesystem: a cluster that allows faults still has to say that this one may be filled, and
// the refusal comes while parsing, before anything is touched, naming the setting and the file.
TEST(ScenarioOptions, AFullWalDiskNeedsItsOwnConsent) {
  const auto conf = write_conf("prod-wal.conf", "[databases]\ndb = host=x\n[cluster]\nallow_faults = true\n"
                                                 "node.n1 = postgres=127.0.0.1:1\n");
  const auto refusal = scenario_error_of({"full-wal-disk", "--conf", conf.string()});
  EXPECT_NE(refusal.find("allow_fill_wal_disk = true"), std::string::npos) << refusal;
  EXPECT_NE(refusal.find("steps[0]"), std::string::npos) << refusal;
  EXPECT_NE(refusal.find(conf.string()), std::string::npos) << refusal;
  const auto allowed = write_conf("prod-wal-ok.conf", "[databases]\ndb = host=x\n[cluster]\nallow_faults = true\n"
                                                      "allow_fill_wal_disk = true\nnode.n1 = postgres=127.0.0.1:1\n");
  EXPECT_NO_THROW(parse_scenario_options({"full-wal-disk", "--conf", allowed.string()}));
  EXPECT_NO_THROW(parse_scenario_options({"switchover-storm", "--conf", conf.string()})) << "other faults need no more";
}

TEST(Config, OneDurationGrammarForEveryFlag) {
  const RunOptions o = parse_run_options({"--dsn", "host=x", "--duration", "1.5m", "--think-time", "250ms-1s"});
  EXPECT_EQ(o.request.duration, std::chrono::seconds(90));
  EXPECT_EQ(o.request.bank.think_time->max, std::chrono::seconds(1));
  EXPECT_GT(o.request.workload.operations, 1'000'000'000) << "--duration alone runs until the clock ends it";
  EXPECT_NE(error_of({"--dsn", "host=x", "--duration", "10"}).find("like 250ms, 5s, 10m or 8h"), std::string::npos);
  const auto conf = write_conf("sleep.conf", "[databases]\ndb = host=x\n[main]\nconn_exception_sleep_interval = 250ms\n");
  EXPECT_EQ(parse_run_options({"--conf", conf.string()}).request.workload.conn_exception_sleep,
            std::chrono::milliseconds(250));
}

TEST(Config, TheWatcherAndTheUnavailabilityLimitAreFlags) {
  const RunOptions o = parse_run_options({"--dsn", "host=x", "--max-unavailable", "10s", "--watch-interval", "250ms"});
  EXPECT_EQ(o.request.max_unavailable, std::chrono::seconds(10));
  EXPECT_EQ(o.request.watch_interval, std::chrono::milliseconds(250));
  EXPECT_EQ(parse_run_options({"--dsn", "host=x"}).request.watch_interval, std::chrono::milliseconds(100));
  EXPECT_EQ(parse_run_options({"--dsn", "host=x", "--watch-interval", "off"}).request.watch_interval.count(), 0);
  EXPECT_NE(error_of({"--dsn", "host=x", "--watch-interval", "1ms"}).find("--watch-interval: 10ms at least"), std::string::npos);
  EXPECT_NE(error_of({"--dsn", "host=x", "--max-unavailable", "0s"}).find("--max-unavailable"), std::string::npos);
  EXPECT_NE(error_of({"--dsn", "host=x", "--max-unavailable", "ten"}).find("--max-unavailable"), std::string::npos);
}

TEST(Config, TheWriteProbeCanBeSlowerOrOff) {
  EXPECT_EQ(parse_run_options({"--dsn", "host=x"}).request.probe_interval, std::chrono::milliseconds(20));
  EXPECT_EQ(parse_run_options({"--dsn", "host=x", "--probe-interval", "100ms"}).request.probe_interval,
            std::chrono::milliseconds(100));
  EXPECT_EQ(parse_run_options({"--dsn", "host=x", "--probe-interval", "off"}).request.probe_interval.count(), 0);
  EXPECT_NE(error_of({"--dsn", "host=x", "--probe-interval", "1ms"}).find("--probe-interval: 5ms at least"), std::string::npos);
  // The unavailability limit is the probe's measure: without a probe it could never fail.
  EXPECT_NE(error_of({"--dsn", "host=x", "--max-unavailable", "5s", "--probe-interval", "off"})
                .find("--max-unavailable is judged by the write probe"),
            std::string::npos);
}

}  // namespace
}  // namespace pgchaos::app

namespace pgchaos::app {
namespace {

std::string soak_error_of(const std::vector<std::string>& args) { return error_of(args, parse_soak_options); }

TEST(SoakOptions, EveryOptionIsValidatedBeforeTheClusterIsTouched) {
  const auto conf = lab_like_conf().string();
  EXPECT_NE(soak_error_of({"--conf", conf}).find("--duration"), std::string::npos) << "a soak says how long";
  EXPECT_NE(soak_error_of({"--conf", conf, "--duration", "1h", "--epoch", "5s"}).find("--epoch"), std::string::npos);
  EXPECT_NE(soak_error_of({"--conf", conf, "--duration", "1h", "--keep", "some"}).find("--keep"), std::string::npos);
  EXPECT_NE(soak_error_of({"--conf", conf, "--duration", "1h", "--scenarios", "random,meteor"}).find("meteor"),
            std::string::npos);
  EXPECT_NE(soak_error_of({"--conf", conf, "--duration", "1h", "--scenarios", "random,,crash-primary"}).find("empty name"),
            std::string::npos);
  EXPECT_NE(soak_error_of({"--conf", conf, "--duration", "1h", "--commit-mode", "maybe"}).find("--commit-mode"),
            std::string::npos);
  const auto prod = write_conf("prod-soak.conf", "[databases]\ndb = host=x\n[cluster]\nnode.n1 = postgres=127.0.0.1:1\n");
  EXPECT_NE(soak_error_of({"--conf", prod.string(), "--duration", "1h"}).find("allow_faults"), std::string::npos);
  EXPECT_NE(soak_error_of({"--conf", prod.string(), "--duration", "1h", "--allow-faults", "--rebuild-lab"})
                .find("--rebuild-lab"), std::string::npos) << "only the lab is rebuilt";

  const auto o = parse_soak_options({"--conf", conf, "--duration", "8h", "--scenarios", "random,switchover-storm",
                                     "--seed", "11", "--commit-mode", "sync", "--keep", "all"});
  EXPECT_EQ(o.request.duration, std::chrono::hours(8));
  EXPECT_EQ(o.request.epoch, std::chrono::minutes(10)) << "the default epoch";
  EXPECT_EQ(o.request.seed, 11u);
  EXPECT_EQ(o.request.keep, engine::Keep::all);
  ASSERT_EQ(o.request.scenarios.size(), 2u);
  EXPECT_EQ(o.request.scenarios[1].name, "switchover-storm");
  ASSERT_TRUE(o.request.base.faults.has_value());
  EXPECT_EQ(o.request.base.faults->commit_mode->text(), "sync");
  EXPECT_FALSE(o.request.base.duration.has_value()) << "--duration is the soak's; each epoch gets its own";
  EXPECT_EQ(o.output.parent_path(), "runs");
  EXPECT_EQ(o.output.filename().string().rfind("soak-", 0), 0u);
  EXPECT_EQ(parse_soak_options({"--conf", conf, "--duration", "1h"}).request.keep, engine::Keep::invalid);
}

TEST(MatrixOptions, ModesAreParsedAndEveryScenarioOptionChecked) {
  const auto conf = lab_like_conf().string();
  const auto o = parse_matrix_options({"crash-primary", "--conf", conf, "--seed", "9"});
  ASSERT_EQ(o.request.modes.size(), 3u) << "async, sync, sync-strict by default";
  EXPECT_EQ(o.request.modes[2].mode, common::CommitMode::sync_strict);
  EXPECT_EQ(o.request.base.workload.seed, 9u);
  ASSERT_TRUE(o.request.base.faults.has_value());
  EXPECT_EQ(o.request.base.faults->scenario.name, "crash-primary");
  EXPECT_FALSE(o.request.base.faults->actions.empty());
  EXPECT_EQ(o.output.filename().string().rfind("matrix-", 0), 0u);
  const auto levels = parse_matrix_options({"crash-primary", "--conf", conf, "--modes", "async:off,sync:remote_write"});
  ASSERT_EQ(levels.request.modes.size(), 2u);
  EXPECT_EQ(levels.request.modes[1].text(), "sync:remote_write");
  auto matrix_error_of = [](const std::vector<std::string>& args) { return error_of(args, parse_matrix_options); };
  EXPECT_NE(matrix_error_of({"crash-primary", "--conf", conf, "--modes", "async,often"}).find("--modes"), std::string::npos);
  EXPECT_NE(matrix_error_of({"crash-primary", "--conf", conf, "--modes", "sync,sync:remote_apply"}).find("twice"),
            std::string::npos) << "sync is sync:remote_apply";
  EXPECT_NE(matrix_error_of({"crash-primary", "--conf", conf, "--commit-mode", "sync"}).find("--modes"), std::string::npos);
  EXPECT_NE(matrix_error_of({"--conf", conf}).find("scenario"), std::string::npos);
  EXPECT_NE(matrix_error_of({"no-such", "--conf", conf}).find("no-such"), std::string::npos);
  EXPECT_TRUE(parse_matrix_options({"crash-primary", "--conf", conf, "--rebuild-lab"}).rebuild_lab);
  // Failsafe side by side: each mode once per value, in the order named.
  EXPECT_TRUE(o.request.failsafe.empty()) << "untouched unless asked for";
  const auto failsafe = parse_matrix_options({"dcs-outage", "--conf", conf, "--modes", "async", "--failsafe", "off,on"});
  EXPECT_EQ(failsafe.request.failsafe, (std::vector<bool>{false, true}));
  EXPECT_NE(matrix_error_of({"dcs-outage", "--conf", conf, "--failsafe", "maybe"}).find("--failsafe: 'maybe' must be on or off"),
            std::string::npos);
  EXPECT_NE(matrix_error_of({"dcs-outage", "--conf", conf, "--failsafe", "on,on"}).find("twice"), std::string::npos);
  // The lab's own facts go to run.json, never into the command templates' placeholders.
  const auto lab = write_conf("lab-set.conf", "[databases]\ndb = host=127.0.0.1 port=1\n[cluster]\nlab = true\n"
                                              "lab_dcs = etcd\nlab_set =\nnode.n1 = ssh=127.0.0.1:1 postgres=127.0.0.1:1\n");
  const auto with_lab = parse_matrix_options({"crash-primary", "--conf", lab.string()});
  EXPECT_EQ(with_lab.request.base.faults->lab_settings.at("dcs"), "etcd");
  EXPECT_EQ(with_lab.request.base.faults->lab_settings.at("set"), "");
  const auto prod = write_conf("prod-matrix.conf", "[databases]\ndb = host=x\n[cluster]\nnode.n1 = postgres=127.0.0.1:1\n");
  EXPECT_NE(matrix_error_of({"crash-primary", "--conf", prod.string(), "--allow-faults", "--rebuild-lab"}).find("--rebuild-lab"),
            std::string::npos) << "only the lab is rebuilt";
}

TEST(ScenarioOptions, CyclingNeedsADurationAndAReplayTakesWhatItsRunRecorded) {
  const auto conf = lab_like_conf().string();
  EXPECT_NE(scenario_error_of({"random", "--conf", conf, "--cycle"}).find("--duration"), std::string::npos);
  const auto o = parse_scenario_options({"random", "--conf", conf, "--cycle", "--duration", "5m"});
  EXPECT_TRUE(o.request.faults->cycle);
  // A soak's epoch, replayed alone: its seed, length, cycling and commit mode come from its run.json.
  const auto epoch = write_conf("epoch-0003", "").parent_path() / "epoch-dir";
  std::filesystem::create_directories(epoch);
  std::ofstream(epoch / "run.json") << R"({"run_id": 1, "seed": 4242, "scenario": "switchover-storm",
      "commit_mode": "sync-strict", "synchronous_commit": "remote_write", "duration": "5m", "cycle": true,
      "config": {"dsns": []}})";
  std::ofstream(epoch / "scenario.json") << R"({"steps": [{"fault": "switchover", "target": "replica", "repeat": 2}]})";
  const auto replay = parse_scenario_options({"--replay", epoch.string(), "--conf", conf});
  EXPECT_EQ(replay.request.workload.seed, 4242u);
  EXPECT_EQ(replay.request.duration, std::chrono::minutes(5));
  EXPECT_TRUE(replay.request.faults->cycle);
  EXPECT_EQ(replay.request.faults->commit_mode->mode, common::CommitMode::sync_strict);
  EXPECT_EQ(replay.request.faults->commit_mode->level, "remote_write");
  EXPECT_EQ(replay.request.faults->scenario.name, "switchover-storm");
  EXPECT_EQ(replay.request.faults->actions.size(), 2u);
  EXPECT_EQ(replay.request.faults->replay_by, scenarios::ReplayBy::role);
  EXPECT_EQ(replay.request.faults->actions[0].target, "replica") << "no schedule recorded: aimed as drawn";
  // With the schedule as it ran, a replay by node aims at the nodes it hit; by role, at the roles they had.
  std::ofstream(epoch / "schedule.json") << R"([{"index": 1, "fault": "switchover", "target": "replica", "choice": 7,
      "resolved_node": "pgc3", "resolved_role": "sync-standby"}])";
  const auto by_node = parse_scenario_options({"--replay", epoch.string(), "--conf", conf, "--replay-by", "node"});
  EXPECT_EQ(by_node.request.faults->actions[0].target, "pgc3");
  EXPECT_EQ(by_node.request.faults->actions[1].target, "replica") << "fault 2 never ran: as drawn";
  EXPECT_EQ(by_node.request.faults->replay_of, epoch.string());
  EXPECT_EQ(parse_scenario_options({"--replay", epoch.string(), "--conf", conf}).request.faults->actions[0].target,
            "sync-standby");
  EXPECT_NE(scenario_error_of({"--replay", epoch.string(), "--conf", conf, "--replay-by", "host"}).find("role or node"),
            std::string::npos);
  EXPECT_NE(scenario_error_of({"random", "--conf", conf, "--replay-by", "node"}).find("--replay"), std::string::npos);
  const auto shorter = parse_scenario_options({"--replay", epoch.string(), "--conf", conf, "--duration", "1m"});
  EXPECT_EQ(shorter.request.duration, std::chrono::minutes(1)) << "a flag given wins over the record";
}

}  // namespace
}  // namespace pgchaos::app
