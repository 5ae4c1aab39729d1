// `pgchaos run` options: pg_cluster_backend's configuration file, then flags over it.
#include <fmt/format.h>

#include <boost/program_options.hpp>
#include <charconv>
#include <ctime>
#include <iostream>
#include <random>

#include "app/app.h"
#include "flags.h"
#include "common/duration.h"
#include "scenarios/scenarios.h"
#include "common/text.h"
#include "common/files.h"
#include "engine/replay.h"
#include "faults/catalog.h"

namespace pgchaos::app {
namespace po = boost::program_options;
namespace {


template <typename Number>
Number parse_number(const std::string& text, const std::string& where, Number min, Number max) {
  Number value{};
  const auto* end = text.data() + text.size();
  const auto [ptr, error] = std::from_chars(text.data(), end, value);
  if (error != std::errc() || ptr != end || value < min || value > max)
    throw UsageError(fmt::format("{}: '{}' is not a number from {} to {}", where, text, min, max));
  return value;
}

std::chrono::milliseconds parse_seconds(const std::string& text, const std::string& where) {
  // pg_cluster_backend's own key gives bare seconds ("3", "0.5"); the duration grammar is taken too ("500ms").
  if (const auto duration = common::parse_duration(text)) return *duration;
  if (const auto duration = common::parse_duration(text + "s")) return *duration;
  throw UsageError(fmt::format("{}: '{}' is not a number of seconds or {}", where, text, common::kDurationExamples));
}

bool parse_bool(const std::string& text, const std::string& where) {
  std::string lower;
  for (const char c : text) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "1" || lower == "true" || lower == "yes" || lower == "on") return true;
  if (lower == "0" || lower == "false" || lower == "no" || lower == "off") return false;
  throw UsageError(fmt::format("{}: '{}' is not a boolean (0/1, true/false)", where, text));
}

std::string parse_log_level(const std::string& text, const std::string& where) {
  std::string lower;
  for (const char c : text) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "warning") lower = "warn";
  if (lower == "critical" || lower == "fatal") lower = "critical";
  for (const char* level : {"trace", "debug", "info", "warn", "error", "critical"})
    if (lower == level) return lower;
  throw UsageError(fmt::format("{}: '{}' is not a log level (debug, info, warning, error)", where, text));
}

std::chrono::milliseconds parse_duration(const std::string& text, const std::string& where) {
  const auto duration = common::parse_duration(text);
  if (!duration) throw UsageError(fmt::format("{}: '{}' is not {}", where, text, common::kDurationExamples));
  return *duration;
}

bank::ThinkTime parse_think_time(const std::string& text, const std::string& where) {
  std::string why;
  const auto range = common::parse_duration_range(text, why);
  if (!range) throw UsageError(where + ": " + why);
  return {range->min, range->max};
}

// A flag's comma-separated list; an empty item is refused, naming the flag.
std::vector<std::string> comma_list(const std::string& text, const std::string& flag) {
  std::vector<std::string> items;
  for (std::size_t start = 0; start <= text.size();) {
    const auto comma = std::min(text.find(',', start), text.size());
    items.push_back(text.substr(start, comma - start));
    start = comma + 1;
    if (items.back().empty()) throw UsageError(flag + ": '" + text + "' has an empty name");
  }
  return items;
}

std::string utc_timestamp() { return common::utc_text(std::time(nullptr), "%Y%m%dT%H%M%SZ"); }

void apply_config_file(const std::filesystem::path& file, RunOptions& options) {
  auto& request = options.request;
  for (const auto& e : read_config_file(file)) {
    const std::string where = fmt::format("{}:{}: [{}] {}", file.string(), e.line, e.section, e.key);
    auto& w = request.workload;
    auto& bank = request.bank;
    if (e.section == "databases") {
      if (e.value.empty()) throw UsageError(where + ": empty DSN");
      w.dsns.push_back(convert_pg_cluster_dsn(e.value));
    } else if (e.section == "main" && e.key == "application_name") {
      w.application_name = e.value;
    } else if (e.section == "main" && e.key == "threads_num") {
      w.threads = parse_number(e.value, where, 1, 1000);
    } else if (e.section == "main" && e.key == "conn_exception_sleep_interval") {
      w.conn_exception_sleep = parse_seconds(e.value, where);
    } else if (e.section == "main" && e.key == "prepared_statements") {
      bank.prepared_statements = parse_bool(e.value, where);
    } else if (e.section == "main" && e.key == "reconnect_attempt") {
      w.reconnect_attempt = parse_number(e.value, where, 1, 1000);
    } else if (e.section == "test" && e.key == "accounts") {
      bank.accounts = parse_number(e.value, where, 2, 100000000);
    } else if (e.section == "test" && e.key == "operations") {
      w.operations = parse_number<std::int64_t>(e.value, where, 1, engine::kNoOperationLimit);
    } else if (e.section == "test" && e.key == "think_time") {
      bank.think_time = parse_think_time(e.value, where);
    } else if (e.section == "log" && e.key == "log_level") {
      request.log_level = parse_log_level(e.value, where);
    } else if (e.section == "log" && e.key == "log_sql") {
      bank.log_sql = parse_bool(e.value, where);
    } else if (e.section == "log" && e.key == "file_maxmbytes") {
      request.log_file_max_bytes = static_cast<std::size_t>(parse_number(e.value, where, 1, 100000)) << 20;
    } else if (e.section == "log" && e.key == "file_backupcount") {
      request.log_file_backups = parse_number<std::size_t>(e.value, where, 0, 1000);
    } else if (e.section == "cluster" || e.section == "commands" || e.section == "lab") {
      // Read by the commands that drive a cluster; `run` does not need them.
    } else {
      throw UsageError(where + ": unknown key");
    }
  }
}

// The options of `run`; `scenario` takes every one of them too.
po::options_description run_option_descriptions() {
  po::options_description flags("run options");
  flags.add_options()
      ("help,h", "show this help")
      ("conf", po::value<std::string>(), "configuration file (pg_cluster_backend's INI format)")
      ("operations", po::value<std::string>(), "operations to commit (default 1000; unlimited with --duration or a scenario)")
      ("duration", po::value<std::string>(), "end the run after this long, e.g. 90s, 5m, 8h")
      ("threads", po::value<std::string>(), "worker threads (default 10; [main] threads_num)")
      ("accounts", po::value<std::string>(), "accounts (default 100; 10 makes deadlocks frequent)")
      ("workload", po::value<std::string>(), "bank (default: transfers, lost and phantom commits) | append (list-append "
                                             "transactions checked like Elle: isolation anomalies)")
      ("isolation", po::value<std::string>(), "append: serializable (default) | repeatable-read | read-committed")
      ("active-keys", po::value<std::string>(), "append: keys appended to at once (default 32; fewer, more contention)")
      ("appends-per-key", po::value<std::string>(), "append: about this many appends before a key rotates out (default 64)")
      ("replica-reads", po::value<std::string>(), "append: read from every node ([cluster] nodes) beside the workers, "
                                                  "threads x FRACTION readers (e.g. 0.2), for staleness")
      ("max-staleness", po::value<std::string>(), "append: fail the run when a replica read is staler than this, e.g. 5s")
      ("dsn", po::value<std::vector<std::string>>(), "libpq conninfo or URI; repeat for several; replaces [databases]")
      ("think-time", po::value<std::string>(), "pause before debit and before credit, e.g. 100ms-200ms (off by default)")
      ("statement-by-statement", po::bool_switch(), "one round trip per statement, as pg_cluster_backend (always with "
                                                     "--think-time; without it BEGIN..ledger row go as one batch, "
                                                     "COMMIT alone)")
      ("no-prepared-statements", po::bool_switch(), "send each statement with its text, for a pooler in transaction "
                                                     "mode (pgbouncer 1.18 keeps no prepared statement across "
                                                     "transactions)")
      ("output", po::value<std::string>(), "run directory (default runs/<UTC timestamp>)")
      ("seed", po::value<std::string>(), "random seed (default: drawn and recorded)")
      ("reset", po::bool_switch(), "recreate pgchaos's own tables before the run")
      ("compress-history", po::bool_switch(), "write history.jsonl.zst (zstd, about a seventh of the size; check, "
                                              "report and zstdcat read it)")
      ("max-lost", po::value<std::string>(), "lost acknowledged commits allowed before the verdict is invalid "
                                             "(default: any in async mode, 0 in sync mode)")
      ("max-unavailable", po::value<std::string>(), "fail a fault whose write unavailability (the probe's) exceeds "
                                                    "this, e.g. 10s (a scenario step's max_unavailable wins)")
      ("watch-interval", po::value<std::string>(), "how often the watcher looks at each node (default 100ms; off: "
                                                   "no watcher, the story is told from the workload's record alone)")
      ("probe-interval", po::value<std::string>(), "how often the write probe writes (default 20ms; off: no probe, "
                                                   "unavailability is the workload's own gaps between commits)")
      ("stop-timeout", po::value<std::string>(), "after Ctrl-C or SIGTERM, how long the waits for health and snapshots "
                                                 "may take in all (default 15s); a second one skips them");
  return flags;
}

po::options_description scenario_option_descriptions() {
  po::options_description flags("scenario options");
  flags.add_options()
      ("list", "list the scenarios of the library")
      ("scenario", po::value<std::string>(), "a scenario name (pgchaos scenario --list) or a file")
      ("replay", po::value<std::string>(), "run again the scenario and seed recorded in RUN_DIR (with its recorded "
                                           "duration, cycling and commit mode unless given)")
      ("replay-by", po::value<std::string>(), "role (default): each fault aimed at the role its target had in "
                                              "RUN_DIR (the primary, a replica); node: at the very node it hit")
      ("cycle", po::bool_switch(), "run the schedule again, round after round, until --duration ends the run");
  return flags;
}

// The options of every command that drives faults against a cluster (scenario, soak).
po::options_description cluster_option_descriptions() {
  po::options_description flags("cluster options");
  flags.add_options()
      ("commit-mode", po::value<std::string>(), "async | sync | sync-strict, optionally :LEVEL "
       "(synchronous_commit: off, local, remote_write, on, remote_apply), e.g. sync:remote_write; set through "
       "Patroni for the run, the previous setting restored after")
      ("allow-faults", po::bool_switch(), "allow faults on a cluster that is not the lab ([cluster] allow_faults = true)")
      ("accept-new-host-keys", po::bool_switch(), "accept (and record) unknown SSH host keys; changed keys stay refused")
      ("scenario-dir", po::value<std::vector<std::string>>(), "a directory of your own scenarios (NAME.json), "
                                                              "searched before the library; repeat for several "
                                                              "(also $PGCHAOS_SCENARIO_PATH, DIR:DIR)");
  return flags;
}

// Where this command looks scenario names up: --scenario-dir, $PGCHAOS_SCENARIO_PATH, the library.
std::vector<std::filesystem::path> scenario_search_path_of(const po::variables_map& vm) {
  return scenario_search_path(vm.count("scenario-dir") ? vm["scenario-dir"].as<std::vector<std::string>>()
                                                       : std::vector<std::string>{});
}

po::options_description soak_option_descriptions() {
  po::options_description flags("soak options");
  flags.add_options()
      ("epoch", po::value<std::string>(), "length of each epoch, one scenario run each (default 10m)")
      ("scenarios", po::value<std::string>(), "comma-separated scenario names or files, one drawn per epoch by the "
                                              "seed (default random)")
      ("keep", po::value<std::string>(), "all | invalid (default): a valid epoch keeps its reports, not its history, "
                                         "ledger snapshots and raw logs")
      ("rebuild-lab", po::bool_switch(), "on the lab: a cluster unhealthy between epochs is rebuilt (lab down, lab up) "
                                         "and the soak goes on");
  return flags;
}


// Fills `options` from the flags of run_option_descriptions() (and the configuration file they name).
void apply_run_flags(const po::variables_map& vm, RunOptions& options) {
  auto& request = options.request;
  auto& w = request.workload;
  auto& bank = request.bank;
  w.seed = std::random_device{}();
  w.show_progress = true;
  if (vm.count("conf")) {
    options.conf = vm["conf"].as<std::string>();
    apply_config_file(*options.conf, options);
    options.cluster = read_cluster_config(*options.conf);
    request.rest = options.cluster.rest;
    for (const auto& n : options.cluster.nodes)
      request.nodes.push_back({n.name, n.postgres_host, n.postgres_port,
                               n.rest_url.empty() ? "http://" + n.postgres_host + ":8008" : n.rest_url});
  }
  if (vm.count("max-unavailable")) {
    request.max_unavailable = parse_duration(vm["max-unavailable"].as<std::string>(), "--max-unavailable");
    if (request.max_unavailable->count() == 0) throw UsageError("--max-unavailable: must be more than 0");
  }
  if (vm.count("watch-interval")) {
    const auto text = vm["watch-interval"].as<std::string>();
    request.watch_interval = text == "off" ? std::chrono::milliseconds(0) : parse_duration(text, "--watch-interval");
    if (text != "off" && request.watch_interval < std::chrono::milliseconds(10))
      throw UsageError("--watch-interval: 10ms at least, or off");
  }
  if (vm.count("stop-timeout")) options.stop_timeout = parse_duration(vm["stop-timeout"].as<std::string>(), "--stop-timeout");
  if (vm.count("probe-interval")) {
    const auto text = vm["probe-interval"].as<std::string>();
    request.probe_interval = text == "off" ? std::chrono::milliseconds(0) : parse_duration(text, "--probe-interval");
    if (text != "off" && request.probe_interval < std::chrono::milliseconds(5))
      throw UsageError("--probe-interval: 5ms at least, or off");
    if (text == "off" && request.max_unavailable)
      throw UsageError("--max-unavailable is judged by the write probe: not with --probe-interval off");
  }
  if (vm.count("max-lost"))
    request.max_lost = parse_number<std::int64_t>(vm["max-lost"].as<std::string>(), "--max-lost", 0, INT64_MAX);
  if (vm.count("dsn")) {
    w.dsns.clear();
    for (const auto& dsn : vm["dsn"].as<std::vector<std::string>>()) w.dsns.push_back(convert_pg_cluster_dsn(dsn));
  }
  if (vm.count("duration")) {
    request.duration = parse_duration(vm["duration"].as<std::string>(), "--duration");
    if (request.duration->count() == 0) throw UsageError("--duration: must be more than 0");
    w.operations = engine::kNoOperationLimit;  // the clock decides the end, unless --operations says otherwise
  }
  if (vm.count("operations"))
    w.operations = parse_number<std::int64_t>(vm["operations"].as<std::string>(), "--operations", 1, engine::kNoOperationLimit);
  if (vm.count("threads")) w.threads = parse_number(vm["threads"].as<std::string>(), "--threads", 1, 1000);
  if (vm.count("accounts")) bank.accounts = parse_number(vm["accounts"].as<std::string>(), "--accounts", 2, 100000000);
  if (vm.count("think-time")) bank.think_time = parse_think_time(vm["think-time"].as<std::string>(), "--think-time");
  if (vm.count("workload")) {
    request.workload_name = vm["workload"].as<std::string>();
    if (request.workload_name != "bank" && request.workload_name != "append")
      throw UsageError("--workload: bank or append, not " + request.workload_name);
  }
  const bool append = request.workload_name == "append";
  for (const char* flag : {"isolation", "active-keys", "appends-per-key", "replica-reads", "max-staleness"})
    if (vm.count(flag) && !append) throw UsageError(fmt::format("--{} is the append workload's: add --workload append", flag));
  for (const char* flag : {"accounts", "think-time"})
    if (vm.count(flag) && append) throw UsageError(fmt::format("--{} is the bank workload's, not --workload append's", flag));
  if (append && vm["statement-by-statement"].as<bool>())
    throw UsageError("--statement-by-statement is the bank workload's: the append workload always sends one statement a round trip");
  if (vm.count("isolation")) {
    request.append.isolation = vm["isolation"].as<std::string>();
    if (!append::valid_isolation(request.append.isolation))
      throw UsageError("--isolation: serializable, repeatable-read or read-committed, not " + request.append.isolation);
  }
  if (vm.count("active-keys"))
    request.append.active_keys = parse_number(vm["active-keys"].as<std::string>(), "--active-keys", 1, 1000000);
  if (vm.count("appends-per-key"))
    request.append.appends_per_key = parse_number(vm["appends-per-key"].as<std::string>(), "--appends-per-key", 1, 100000);
  if (vm.count("replica-reads")) {
    const auto text = vm["replica-reads"].as<std::string>();
    double fraction = -1;
    try {
      std::size_t used = 0;
      fraction = std::stod(text, &used);
      if (used != text.size()) fraction = -1;
    } catch (const std::exception&) {
    }
    if (!(fraction > 0 && fraction <= 1)) throw UsageError("--replica-reads: a fraction above 0 and at most 1, e.g. 0.2, not " + text);
    if (request.nodes.empty())
      throw UsageError("--replica-reads reads every node of the configuration's [cluster]: give --conf with [cluster] nodes");
    request.append.replica_reads = fraction;
  }
  if (vm.count("max-staleness")) {
    if (!vm.count("replica-reads")) throw UsageError("--max-staleness judges the replica reads: add --replica-reads");
    request.append.max_staleness_ms = parse_duration(vm["max-staleness"].as<std::string>(), "--max-staleness").count();
    if (request.append.max_staleness_ms == 0) throw UsageError("--max-staleness: must be more than 0");
  }
  if (vm.count("seed")) w.seed = parse_number<std::uint64_t>(vm["seed"].as<std::string>(), "--seed", 0, INT64_MAX);
  w.seed &= INT64_MAX;  // stored as a bigint
  w.reset = vm["reset"].as<bool>();
  bank.statement_by_statement = vm["statement-by-statement"].as<bool>();
  if (vm["no-prepared-statements"].as<bool>()) bank.prepared_statements = false;
  request.compress_history = vm["compress-history"].as<bool>();
  options.output = vm.count("output") ? std::filesystem::path(vm["output"].as<std::string>())
                                      : std::filesystem::path("runs") / utc_timestamp();
  if (w.dsns.empty()) throw UsageError("no database: give --dsn CONNINFO or --conf FILE with a [databases] section");
}

// --commit-mode, and a cluster that is the lab or allows faults: what scenario and soak both need.
void apply_cluster_flags(const po::variables_map& vm, RunOptions& options, engine::FaultPlan& plan) {
  if (vm.count("commit-mode")) {
    const auto text = vm["commit-mode"].as<std::string>();
    std::string why;
    const auto mode = common::parse_commit_setting(text, why);
    if (!mode)
      throw UsageError("--commit-mode: " + why);
    plan.commit_mode = mode;
  }
  if (!options.conf || options.cluster.nodes.empty())
    throw UsageError("--conf must name a configuration with [cluster] nodes (see conf/cluster.example.conf)");
  const bool lab = options.cluster.setting("lab") == "true";
  if (!lab && options.cluster.setting("allow_faults") != "true" && !vm["allow-faults"].as<bool>())
    throw UsageError(options.conf->string() + " is not the lab: faults on it need [cluster] allow_faults = true or "
                     "--allow-faults (they restart, reboot and crash its nodes)");
  options.accept_new_host_keys = vm["accept-new-host-keys"].as<bool>();
  // How the lab was set up (lab up writes lab_nodes, lab_dcs, lab_timing, lab_set), for run.json.
  if (lab)
    for (const auto& [key, value] : options.cluster.settings)
      if (key.rfind("lab_", 0) == 0) plan.lab_settings[key.substr(4)] = value;
}

// A fault the configuration must allow on its own (fill-wal-disk) refuses the scenario before anything starts, not
// in the middle of its run.
void refuse_faults_not_allowed(const scenarios::Scenario& scenario, const RunOptions& options) {
  const std::map<std::string, std::string> settings(options.cluster.settings.begin(), options.cluster.settings.end());
  for (std::size_t i = 0; i < scenario.steps.size(); ++i) {
    const auto& step = scenario.steps[i];
    const auto names = step.fault != "any" ? std::vector<std::string>{step.fault}
                       : step.choices.empty() ? faults::fault_names_drawn_at_random() : step.choices;
    for (const auto& name : names)
      if (const auto refusal = faults::refusal_of(name, settings); !refusal.empty())
        throw UsageError(fmt::format("scenario {}, steps[{}]: {} ({})", scenario.name, i, refusal, options.conf->string()));
  }
}

// --rebuild-lab (soak, matrix): only the lab is ever rebuilt.
bool rebuild_lab_flag(const po::variables_map& vm, const RunOptions& options) {
  const bool rebuild = vm["rebuild-lab"].as<bool>();
  if (rebuild && options.cluster.setting("lab") != "true")
    throw UsageError("--rebuild-lab: " + options.conf->string() + " is not the lab's configuration");
  return rebuild;
}

}  // namespace

po::variables_map parse_flags(const std::vector<std::string>& args, const po::options_description& flags,
                              const po::positional_options_description& positional) {
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(flags).positional(positional).run(), vm);
    po::notify(vm);
  } catch (const po::error& error) {
    throw UsageError(error.what());
  }
  return vm;
}

std::string ClusterConfig::setting(const std::string& key, const std::string& fallback) const {
  for (const auto& [k, v] : settings)
    if (k == key) return v;
  return fallback;
}

RunOptions parse_run_options(const std::vector<std::string>& args) {
  const auto flags = run_option_descriptions();
  const auto vm = parse_flags(args, flags, {});
  RunOptions options;
  if (vm.count("help")) {
    std::cout << "usage: pgchaos run [--conf FILE] [options]\n" << flags << '\n';
    options.help_shown = true;
    return options;
  }
  apply_run_flags(vm, options);
  return options;
}

RunOptions parse_scenario_options(const std::vector<std::string>& args) {
  po::options_description flags("usage: pgchaos scenario NAME|FILE|--replay RUN_DIR|--list [options]");
  flags.add(scenario_option_descriptions()).add(cluster_option_descriptions()).add(run_option_descriptions());
  po::positional_options_description positional;
  positional.add("scenario", 1);
  const auto vm = parse_flags(args, flags, positional);
  RunOptions options;
  if (vm.count("help")) {
    std::cout << flags << "\nScenarios run against the nodes of [cluster] in --conf (see conf/cluster.example.conf).\n";
    options.help_shown = true;
    return options;
  }
  options.scenario_path = scenario_search_path_of(vm);
  if (vm.count("list")) {
    options.list_scenarios = true;
    return options;
  }
  // The scenario and its seed: named, or recorded in a run directory to replay.
  scenarios::Scenario scenario;
  std::optional<engine::Replay> replay;
  try {
    if (vm.count("replay")) {
      if (vm.count("scenario")) throw UsageError("--replay: give a scenario or --replay RUN_DIR, not both");
      replay = engine::read_replay(vm["replay"].as<std::string>());
      scenario = replay->scenario;
    } else if (vm.count("scenario")) {
      scenario = scenarios::load_scenario(vm["scenario"].as<std::string>(), options.scenario_path);
    } else {
      throw UsageError("name a scenario (pgchaos scenario --list), or --replay RUN_DIR");
    }
  } catch (const scenarios::ScenarioError& error) {
    throw UsageError(std::string(vm.count("replay") ? "--replay: " : "") + error.what());
  } catch (const common::FileError& error) {
    throw UsageError(std::string("--replay: ") + error.what());
  }
  apply_run_flags(vm, options);
  auto& request = options.request;
  if (replay) {
    if (vm.count("seed")) throw UsageError("--seed: a replay runs with the recorded seed");
    request.workload.seed = static_cast<std::uint64_t>(replay->run.seed);
  }
  if (!vm.count("operations")) request.workload.operations = engine::kNoOperationLimit;  // the schedule decides the end
  engine::FaultPlan plan;
  plan.cycle = vm["cycle"].as<bool>() || (replay && replay->run.cycle);
  if (replay && replay->run.duration && !vm.count("duration")) request.duration = replay->run.duration;
  if (replay && !vm.count("commit-mode")) plan.commit_mode = replay->commit_setting();
  // The recorded workload too (its draws are the seed's), unless the flags name one.
  if (replay && !vm.count("workload") && replay->run.workload != request.workload_name) {
    request.workload_name = replay->run.workload;
    if (!replay->run.isolation.empty() && !vm.count("isolation")) request.append.isolation = replay->run.isolation;
    if (replay->run.active_keys > 0 && !vm.count("active-keys")) request.append.active_keys = replay->run.active_keys;
    if (replay->run.appends_per_key > 0 && !vm.count("appends-per-key"))
      request.append.appends_per_key = replay->run.appends_per_key;
  }
  if (plan.cycle && !request.duration) throw UsageError("--cycle: give --duration too (the rounds go on until it ends)");
  apply_cluster_flags(vm, options, plan);
  refuse_faults_not_allowed(scenario, options);
  plan.actions = scenarios::schedule(scenario, request.workload.seed);
  if (vm.count("replay-by") && !replay) throw UsageError("--replay-by: only with --replay RUN_DIR");
  if (replay) {
    const std::string by = vm.count("replay-by") ? vm["replay-by"].as<std::string>() : "role";
    if (by != "role" && by != "node") throw UsageError("--replay-by: '" + by + "' must be role or node");
    engine::aim_as_replayed(plan, *replay, by == "node" ? scenarios::ReplayBy::node : scenarios::ReplayBy::role);
  }
  plan.scenario = std::move(scenario);
  request.faults = std::move(plan);
  return options;
}

SoakOptions parse_soak_options(const std::vector<std::string>& args) {
  po::options_description flags("usage: pgchaos soak --conf FILE --duration 8h [--epoch 10m] [--scenarios A,B] [options]");
  flags.add(soak_option_descriptions()).add(cluster_option_descriptions()).add(run_option_descriptions());
  const auto vm = parse_flags(args, flags, {});
  SoakOptions soak;
  if (vm.count("help")) {
    std::cout << flags << "\nEach epoch is one scenario run (its schedule round after round) in SOAK_DIR/epoch-NNNN; "
                          "soak.json, soak.html and junit.xml are rewritten after each.\n";
    soak.help_shown = true;
    return soak;
  }
  if (!vm.count("duration")) throw UsageError("--duration: how long the soak runs, e.g. 8h");
  auto& options = soak.run;
  apply_run_flags(vm, options);
  auto& request = soak.request;
  request.duration = *options.request.duration;
  options.request.duration.reset();  // each epoch gets its own
  request.epoch = vm.count("epoch") ? parse_duration(vm["epoch"].as<std::string>(), "--epoch") : std::chrono::minutes(10);
  if (request.epoch < std::chrono::seconds(30)) throw UsageError("--epoch: 30s at least (each epoch is a whole run)");
  request.seed = options.request.workload.seed;
  if (vm.count("keep")) {
    const auto keep = vm["keep"].as<std::string>();
    if (keep != "all" && keep != "invalid") throw UsageError("--keep: '" + keep + "' must be all or invalid");
    request.keep = keep == "all" ? engine::Keep::all : engine::Keep::invalid;
  }
  const std::string names = vm.count("scenarios") ? vm["scenarios"].as<std::string>() : "random";
  const auto search_path = scenario_search_path_of(vm);
  for (const auto& name : comma_list(names, "--scenarios")) {
    try {
      request.scenarios.push_back(scenarios::load_scenario(name, search_path));
    } catch (const scenarios::ScenarioError& error) {
      throw UsageError(std::string("--scenarios: ") + error.what());
    }
  }
  engine::FaultPlan plan;
  apply_cluster_flags(vm, options, plan);
  for (const auto& scenario : request.scenarios) refuse_faults_not_allowed(scenario, options);
  options.request.faults = std::move(plan);
  soak.rebuild_lab = rebuild_lab_flag(vm, options);
  soak.output = vm.count("output") ? std::filesystem::path(vm["output"].as<std::string>())
                                   : std::filesystem::path("runs") / ("soak-" + utc_timestamp());
  request.base = options.request;
  return soak;
}

MatrixOptions parse_matrix_options(const std::vector<std::string>& args) {
  po::options_description matrix_flags("matrix options");
  matrix_flags.add_options()
      ("scenario", po::value<std::string>(), "a scenario name (pgchaos scenario --list) or a file")
      ("modes", po::value<std::string>(), "the commit modes, comma-separated (default async,sync,sync-strict); each "
                                          "MODE[:LEVEL] as --commit-mode takes it")
      ("failsafe", po::value<std::string>(), "Patroni's failsafe_mode for the runs: off, on, or off,on (each mode run "
                                             "once with and once without, side by side); set through PATCH /config "
                                             "and put back after the matrix. Default: as the cluster has it")
      ("rebuild-lab", po::bool_switch(), "on the lab: a cluster unhealthy after a mode's run (a split brain) is rebuilt "
                                         "(lab down, lab up) before the next mode");
  po::options_description flags("usage: pgchaos matrix SCENARIO --conf FILE [--modes async,sync,sync-strict] [--failsafe off,on] [--seed S] "
                                "[--output DIR] [options]");
  flags.add(matrix_flags).add(cluster_option_descriptions()).add(run_option_descriptions());
  po::positional_options_description positional;
  positional.add("scenario", 1);
  const auto vm = parse_flags(args, flags, positional);
  MatrixOptions matrix;
  if (vm.count("help")) {
    std::cout << flags << "\nThe same schedule under each mode, a run directory each in MATRIX_DIR/<mode>; matrix.json "
                          "and matrix.html side by side. Exit 1 when a mode breaks Patroni's guarantee.\n";
    matrix.help_shown = true;
    return matrix;
  }
  if (vm.count("commit-mode")) throw UsageError("--commit-mode: a matrix takes its modes from --modes");
  if (!vm.count("scenario")) throw UsageError("name a scenario (pgchaos scenario --list)");
  scenarios::Scenario scenario;
  try {
    scenario = scenarios::load_scenario(vm["scenario"].as<std::string>(), scenario_search_path_of(vm));
  } catch (const scenarios::ScenarioError& error) {
    throw UsageError(error.what());
  }
  const std::string names = vm.count("modes") ? vm["modes"].as<std::string>() : "async,sync,sync-strict";
  for (const auto& name : comma_list(names, "--modes")) {
    std::string why;
    const auto mode = common::parse_commit_setting(name, why);
    if (!mode) throw UsageError("--modes: " + why);
    for (const auto& m : matrix.request.modes)
      if (m.text() == mode->text()) throw UsageError("--modes: " + mode->text() + " is named twice");
    matrix.request.modes.push_back(*mode);
  }
  if (vm.count("failsafe"))
    for (const auto& value : comma_list(vm["failsafe"].as<std::string>(), "--failsafe")) {
      if (value != "on" && value != "off") throw UsageError("--failsafe: '" + value + "' must be on or off");
      if (std::find(matrix.request.failsafe.begin(), matrix.request.failsafe.end(), value == "on") != matrix.request.failsafe.end())
        throw UsageError("--failsafe: " + value + " is named twice");
      matrix.request.failsafe.push_back(value == "on");
    }
  auto& options = matrix.run;
  apply_run_flags(vm, options);
  auto& request = options.request;
  if (!vm.count("operations")) request.workload.operations = engine::kNoOperationLimit;  // the schedule decides the end
  engine::FaultPlan plan;
  apply_cluster_flags(vm, options, plan);
  refuse_faults_not_allowed(scenario, options);
  plan.actions = scenarios::schedule(scenario, request.workload.seed);
  plan.scenario = std::move(scenario);
  request.faults = std::move(plan);
  matrix.request.base = request;
  matrix.rebuild_lab = rebuild_lab_flag(vm, options);
  matrix.output = vm.count("output") ? std::filesystem::path(vm["output"].as<std::string>())
                                     : std::filesystem::path("runs") / ("matrix-" + utc_timestamp());
  return matrix;
}

}  // namespace pgchaos::app
