// `pgchaos scenario NAME|FILE`: the workload and a fault schedule together, then heal, wait for a healthy
// cluster, snapshot every node, check and report. Also --list and --replay RUN_DIR.
#include <fmt/format.h>

#include <boost/program_options.hpp>
#include <fstream>
#include <set>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "app/run_support.h"
#include "app/verdict.h"
#include "scenarios/scenarios.h"

namespace pgchaos::app {
namespace po = boost::program_options;
namespace {

std::filesystem::path scenario_library() {
  if (const char* dir = std::getenv("PGCHAOS_SCENARIO_DIR")) return dir;
  return PGCHAOS_SCENARIO_DIR;
}

std::string setting(const ClusterConfig& cluster, const std::string& key, const std::string& fallback = "") {
  for (const auto& [k, v] : cluster.settings)
    if (k == key) return v;
  return fallback;
}

// The cluster as the fault catalog needs it: nodes, an SSH Remote each, command templates, settings.
void build_context(const RunOptions& options, const std::string& conf, bool accept_new_host_keys,
                   faults::ClusterContext& cluster) {
  cluster.scope = options.cluster.scope;
  cluster.application_name = options.workload.application_name;
  cluster.templates = faults::default_templates();
  for (const auto& e : read_config_file(conf))
    if (e.section == "commands") cluster.templates[e.key] = e.value;
  cluster.settings = {{"patroni_config", "/etc/patroni/{node}.yml"}, {"data_dir", "/var/lib/postgresql/15/main"}};
  for (const auto& [key, value] : options.cluster.settings)
    if (key != "lab" && key != "allow_faults" && key != "ssh_user" && key != "ssh_key" && key != "known_hosts")
      cluster.settings[key] = value;
  for (const auto& n : options.cluster.nodes) {
    faults::Node node;
    node.name = n.name;
    node.postgres_host = n.postgres_host;
    node.postgres_port = n.postgres_port;
    node.rest_url = n.rest_url.empty() ? "http://" + n.postgres_host + ":8008" : n.rest_url;
    for (const auto& [k, v] : n.attributes) node.attributes[k] = v;
    cluster.nodes.push_back(node);
    faults::SshOptions ssh;
    ssh.host = n.ssh_host.empty() ? n.postgres_host : n.ssh_host;
    ssh.port = n.ssh_port;
    ssh.user = setting(options.cluster, "ssh_user", "root");
    ssh.key_file = setting(options.cluster, "ssh_key");
    ssh.known_hosts = setting(options.cluster, "known_hosts");
    ssh.accept_new_host_keys = accept_new_host_keys;
    cluster.remotes[n.name] = faults::make_ssh_remote(ssh);
  }
}

// Sets the commit mode for the run and puts the previous configuration back when it ends, whatever happens.
class CommitModeGuard {
 public:
  CommitModeGuard(faults::ClusterContext& cluster, const std::string& mode, const std::vector<std::string>& dsns)
      : cluster_(cluster) {
    if (mode.empty()) return;
    previous_ = faults::read_commit_settings(cluster);
    faults::CommitSettings wanted;
    wanted.synchronous_mode = mode == "sync";
    wanted.synchronous_commit = mode == "sync" ? "remote_apply" : "local";
    faults::write_commit_settings(cluster, wanted);
    changed_ = true;
    // It took effect when the primary reports it (Patroni applies it within a loop or two).
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    std::string seen;
    while ((seen = backend::detect_commit_mode(dsns)) != mode && !(mode == "async" && seen == "single")) {
      if (std::chrono::steady_clock::now() > deadline)
        throw faults::FaultError("commit mode " + mode + " did not take effect within 60 s (the primary says " + seen + ")");
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
  }
  ~CommitModeGuard() {
    if (!changed_) return;
    try {
      faults::write_commit_settings(cluster_, *previous_);
    } catch (const std::exception& error) {
      std::cerr << "pgchaos scenario: could not restore the previous commit settings: " << error.what() << '\n';
    }
  }
  CommitModeGuard(const CommitModeGuard&) = delete;
  CommitModeGuard& operator=(const CommitModeGuard&) = delete;

 private:
  faults::ClusterContext& cluster_;
  std::optional<faults::CommitSettings> previous_;
  bool changed_ = false;
};

std::chrono::seconds parse_duration_flag(const std::string& text) {
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  const std::string unit = end;
  if (end == text.c_str() || value <= 0 || (unit != "s" && unit != "m" && unit != "h" && !unit.empty()))
    throw UsageError("--duration: '" + text + "' is not a duration like 90s, 5m or 1h");
  const double seconds = unit == "m" ? value * 60 : unit == "h" ? value * 3600 : value;
  return std::chrono::seconds(static_cast<long>(seconds));
}

void write_text(const std::filesystem::path& file, const std::string& text) {
  std::ofstream out(file);
  out << text;
  if (!out) throw UsageError("cannot write " + file.string());
}

}  // namespace

int scenario_command(const std::vector<std::string>& args) {
  po::options_description flags("pgchaos scenario NAME|FILE [options] (and every `pgchaos run` option)");
  flags.add_options()
      ("help,h", "show this help")
      ("list", "list the scenarios of the library")
      ("scenario", po::value<std::string>(), "a scenario name (scenarios/library/NAME.json) or a file")
      ("commit-mode", po::value<std::string>(), "async | sync: set for the run, the previous setting restored after")
      ("duration", po::value<std::string>(), "end the run after this long (e.g. 5m), schedule or not")
      ("replay", po::value<std::string>(), "run again the scenario and seed recorded in RUN_DIR")
      ("allow-faults", po::bool_switch(), "allow faults on a cluster that is not the lab ([cluster] allow_faults = true)")
      ("accept-new-host-keys", po::bool_switch(), "accept (and record) unknown SSH host keys; changed keys stay refused");
  // The scenario's own flags and its name are taken here; every other flag (with its value) goes to the run
  // options' parser, which knows them and reports their errors.
  const std::set<std::string> own_with_value = {"--commit-mode", "--duration", "--replay", "--scenario"};
  const std::set<std::string> own_switches = {"--help", "-h", "--list", "--allow-faults", "--accept-new-host-keys"};
  const std::set<std::string> run_switches = {"--reset"};
  std::vector<std::string> own_args, run_args;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    const std::string flag = a.substr(0, a.find('='));
    if (own_switches.count(flag) || (own_with_value.count(flag) && a.find('=') != std::string::npos)) {
      own_args.push_back(a);
    } else if (own_with_value.count(flag)) {
      own_args.push_back(a);
      if (i + 1 < args.size()) own_args.push_back(args[++i]);
    } else if (a.rfind("-", 0) == 0) {
      run_args.push_back(a);
      if (a.find('=') == std::string::npos && !run_switches.count(a) && i + 1 < args.size() && args[i + 1].rfind("--", 0) != 0)
        run_args.push_back(args[++i]);
    } else {
      own_args.push_back(a);  // the scenario's name or file
    }
  }
  po::positional_options_description positional;
  positional.add("scenario", 1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(own_args).options(flags).positional(positional).run(), vm);
    po::notify(vm);
  } catch (const po::error& error) {
    std::cerr << "pgchaos scenario: " << error.what() << '\n';
    return 2;
  }
  if (vm.count("help")) {
    std::cout << flags << "\nScenarios run against the nodes of [cluster] in --conf (see conf/cluster.example.conf).\n";
    return 0;
  }
  try {
    if (vm.count("list")) {
      for (const auto& [name, description] : scenarios::list_scenarios(scenario_library()))
        fmt::print("{:20} {}\n", name, description);
      return 0;
    }
    // The scenario and its seed: named, or recorded in a run directory to replay.
    scenarios::Scenario scenario;
    if (vm.count("replay")) {
      const std::filesystem::path from = vm["replay"].as<std::string>();
      const RecordedRun recorded = read_recorded_run(from);
      std::ifstream in(from / "scenario.json");
      if (!in) throw UsageError((from / "scenario.json").string() + ": no scenario recorded there");
      scenario = scenarios::parse_scenario(std::string(std::istreambuf_iterator<char>(in), {}), (from / "scenario.json").string());
      if (scenario.name.empty()) scenario.name = "replay";
      run_args.push_back("--seed");
      run_args.push_back(std::to_string(recorded.seed));
    } else if (vm.count("scenario")) {
      scenario = scenarios::load_scenario(vm["scenario"].as<std::string>(), scenario_library());
    } else {
      throw UsageError("pgchaos scenario: name a scenario (pgchaos scenario --list), or --replay RUN_DIR");
    }
    const std::string commit_mode = vm.count("commit-mode") ? vm["commit-mode"].as<std::string>() : "";
    if (!commit_mode.empty() && commit_mode != "sync" && commit_mode != "async")
      throw UsageError("--commit-mode: '" + commit_mode + "' must be async or sync");
    const bool operations_given = std::find_if(run_args.begin(), run_args.end(), [](const std::string& a) {
                                    return a.rfind("--operations", 0) == 0;
                                  }) != run_args.end();
    std::string conf;
    for (std::size_t i = 0; i < run_args.size(); ++i) {
      if (run_args[i] == "--conf" && i + 1 < run_args.size()) conf = run_args[i + 1];
      if (run_args[i].rfind("--conf=", 0) == 0) conf = run_args[i].substr(7);
    }
    RunOptions options = parse_run_options(run_args);
    if (options.help_shown) return 0;
    if (!operations_given) options.workload.operations = 1'000'000'000'000;  // the schedule decides the end
    if (conf.empty() || options.cluster.nodes.empty())
      throw UsageError("pgchaos scenario: --conf must name a configuration with [cluster] nodes (see conf/cluster.example.conf)");
    const bool lab = setting(options.cluster, "lab") == "true";
    if (!lab && setting(options.cluster, "allow_faults") != "true" && !vm["allow-faults"].as<bool>())
      throw UsageError("pgchaos scenario: " + conf + " is not the lab: faults on it need [cluster] allow_faults = true "
                       "or --allow-faults (they restart, reboot and crash its nodes)");

    std::error_code ec;
    if (std::filesystem::exists(options.output / "history.jsonl"))
      throw UsageError(options.output.string() + " already holds a history; choose another --output");
    std::filesystem::create_directories(options.output, ec);
    if (ec) throw UsageError("cannot create " + options.output.string() + ": " + ec.message());
    set_up_logging(options);

    faults::ClusterContext cluster;
    build_context(options, conf, vm["accept-new-host-keys"].as<bool>(), cluster);
    backend::StopFlag stop, finish;
    InterruptGuard interrupt_guard(stop);

    // Every node must answer over SSH (host key verified, key accepted) before anything starts.
    for (const auto& node : cluster.nodes) {
      const auto answer = cluster.execute_on(node.name, faults::Command{{"true"}});
      if (answer.exit_status != 0)
        throw faults::FaultError("ssh to " + node.name + ": `true` exited " + std::to_string(answer.exit_status));
    }
    fmt::print("scenario {} (seed {}): waiting for a healthy cluster\n", scenario.name, options.workload.seed);
    std::fflush(stdout);
    const auto before = scenarios::wait_healthy(cluster, std::chrono::seconds(90), stop);
    if (!before.healthy())
      throw faults::FaultError("the cluster is not healthy before the scenario: " + fmt::format("{}", fmt::join(before.problems, "; ")));
    CommitModeGuard commit_guard(cluster, commit_mode, options.workload.dsns);

    const std::int64_t run_id = backend::prepare_schema(options.workload);
    write_run_json(options, run_id, commit_mode.empty() ? backend::detect_commit_mode(options.workload.dsns) : commit_mode,
                   scenario.name);
    write_text(options.output / "scenario.json", scenario.source);
    const auto actions = scenarios::schedule(scenario, options.workload.seed);
    nlohmann::json schedule = nlohmann::json::array();
    for (const auto& a : actions)
      schedule.push_back({{"index", a.index}, {"fault", a.fault}, {"target", a.target}, {"delay_ms", a.delay.count()},
                          {"duration_ms", a.duration.count()}, {"choice", a.choice}, {"heal", a.heal}});
    write_text(options.output / "schedule.json", schedule.dump(1) + "\n");

    backend::WorkloadStats stats;
    {
      history::HistoryWriter history(options.output / "history.jsonl");
      record_run_started(history, run_id, options.workload.seed);
      fmt::print("scenario {}: {} faults scheduled, {} commit mode, {} threads; run directory {}\n", scenario.name,
                 actions.size(), commit_mode.empty() ? "current" : commit_mode, options.workload.threads,
                 options.output.string());
      std::fflush(stdout);
      options.workload.show_progress = false;  // fault lines are printed instead
      std::thread workload([&] { stats = backend::run_workload(options.workload, run_id, history, stop, finish); });
      std::thread deadline;
      if (vm.count("duration"))
        deadline = std::thread([&, limit = parse_duration_flag(vm["duration"].as<std::string>())] {
          const auto end = std::chrono::steady_clock::now() + limit;
          while (!finish.requested() && !stop.requested() && std::chrono::steady_clock::now() < end)
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
          finish.request();
        });
      // The schedule stops early on Ctrl-C or at --duration; it always heals what it started.
      backend::StopFlag schedule_stop;
      std::thread relay([&] {
        while (!finish.requested() && !stop.requested()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
        schedule_stop.request();
      });
      // Whatever happens below, the threads are told to end and joined before the history closes.
      struct Joiner {
        backend::StopFlag& finish;
        std::vector<std::thread*> threads;
        ~Joiner() {
          finish.request();
          for (auto* t : threads)
            if (t->joinable()) t->join();
        }
      } joiner{finish, {&relay, &workload, &deadline}};
      scenarios::RunnerResult runner;
      try {
        runner = scenarios::run_schedule(scenario, actions, cluster, history, schedule_stop, [](const std::string& line) {
          fmt::print("  {}\n", line);
          std::fflush(stdout);
        });
      } catch (const std::exception& error) {
        std::cerr << "pgchaos scenario: the schedule stopped: " << error.what() << '\n';
        runner.faults_failed = -1;
      }
      // A little load after the last heal shows the cluster taking writes again.
      stop.sleep_for(std::chrono::seconds(2));
      finish.request();
      relay.join();
      workload.join();
      if (deadline.joinable()) deadline.join();
      record_run_finished(history, stats.interrupted ? "interrupted"
                                                     : fmt::format("{} faults started, {} not", runner.faults_started,
                                                                   runner.faults_failed));
    }
    print_summary(stats, run_id);
    for (const auto& snapshot : take_snapshots_patiently(options)) history::write_snapshot(options.output, snapshot);
    const auto result = check_and_report(read_recorded_run(options.output), std::nullopt);
    fmt::print("run directory: {}\n", options.output.string());
    if (stats.interrupted) return 130;
    if (stats.fatal_error) return 2;
    return exit_code(result.verdict);
  } catch (const UsageError& error) {
    std::cerr << error.what() << '\n';
    return 2;
  } catch (const std::exception& error) {
    std::cerr << "pgchaos scenario: " << error.what() << '\n';
    return 2;
  }
}

}  // namespace pgchaos::app
