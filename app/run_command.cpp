// `pgchaos run`: set up, run the workload with its history, snapshot the primary, check, summarize.
#include <fmt/format.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "app/app.h"
#include "app/run_support.h"
#include "app/verdict.h"

namespace pgchaos::app {
namespace {
backend::StopFlag* g_stop = nullptr;
}  // namespace

static void on_interrupt(int signal) {
  if (g_stop != nullptr) g_stop->request();
  std::signal(signal, SIG_DFL);  // a second Ctrl-C ends pgchaos at once
}

InterruptGuard::InterruptGuard(backend::StopFlag& stop) {
  g_stop = &stop;
  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
}
InterruptGuard::~InterruptGuard() {
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  g_stop = nullptr;
}

void set_up_logging(const RunOptions& options) {
  auto file = std::make_shared<spdlog::sinks::rotating_file_sink_mt>(
      (options.output / "pgchaos.log").string(), static_cast<std::size_t>(options.log_file_max_mb) * 1024 * 1024,
      static_cast<std::size_t>(options.log_file_backups));
  auto console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  console->set_level(spdlog::level::warn);
  for (const char* part : {"app", "backend"}) {
    spdlog::drop(part);
    auto logger = std::make_shared<spdlog::logger>(part, spdlog::sinks_init_list{file, console});
    logger->set_level(spdlog::level::from_str(options.log_level));
    logger->flush_on(spdlog::level::warn);
    spdlog::register_logger(logger);
  }
}

std::vector<backend::NodeAddress> node_addresses(const ClusterConfig& cluster) {
  std::vector<backend::NodeAddress> nodes;
  for (const auto& n : cluster.nodes) nodes.push_back({n.name, n.postgres_host, n.postgres_port});
  return nodes;
}

void write_run_json(const RunOptions& options, std::int64_t run_id, const std::string& commit_mode,
                    const std::string& scenario) {
  const auto& w = options.workload;
  nlohmann::json dsns = nlohmann::json::array();
  for (const auto& dsn : w.dsns) dsns.push_back(backend::mask_password(dsn));
  nlohmann::json nodes = nlohmann::json::array();
  for (const auto& n : node_addresses(options.cluster))
    nodes.push_back({{"name", n.name}, {"host", n.host}, {"port", n.port}});
  nlohmann::json run = {
      {"pgchaos_version", "0.1.0"},
      {"run_id", run_id},
      {"seed", w.seed},
      {"commit_mode", commit_mode},
      {"scenario", scenario.empty() ? nlohmann::json(nullptr) : nlohmann::json(scenario)},
      {"max_lost", options.max_lost ? nlohmann::json(*options.max_lost) : nlohmann::json(nullptr)},
      {"nodes", nodes},
      {"config",
       {{"dsns", dsns},
        {"application_name", w.application_name},
        {"threads", w.threads},
        {"conn_exception_sleep_ms", w.conn_exception_sleep.count()},
        {"reconnect_attempt", w.reconnect_attempt},
        {"accounts", w.accounts},
        {"operations", w.operations},
        {"think_time_ms", w.think_time ? nlohmann::json{w.think_time->min.count(), w.think_time->max.count()}
                                       : nlohmann::json(nullptr)},
        {"reset", w.reset},
        {"log_level", options.log_level},
        {"log_sql", w.log_sql}}},
  };
  std::ofstream out(options.output / "run.json");
  out << run.dump(2) << '\n';
  if (!out) throw backend::BackendError("cannot write " + (options.output / "run.json").string());
}

void record_run_started(history::HistoryWriter& history, std::int64_t run_id, std::uint64_t seed) {
  history::Event started;
  started.type = history::EventType::run_started;
  started.run_id = run_id;
  started.seed = static_cast<std::int64_t>(seed);
  history.stamp(started);
  history.append(started);
}

void record_run_finished(history::HistoryWriter& history, const std::string& how) {
  history::Event finished;
  finished.type = history::EventType::run_finished;
  finished.message = how;
  history.stamp(finished);
  history.append(finished);
}

void print_summary(const backend::WorkloadStats& s, std::int64_t run_id) {
  std::string errors;
  for (std::size_t i = 0; i < backend::kErrorKinds; ++i)
    if (s.errors[i] > 0)
      errors += fmt::format("{}{} {}", errors.empty() ? "" : ", ", backend::to_string(static_cast<backend::ErrorKind>(i)),
                            s.errors[i]);
  const double seconds = s.elapsed.count();
  fmt::print("run {} {} after {:.1f} s: {} ok, {:.1f} ops/s\n", run_id, s.interrupted ? "INTERRUPTED" : "finished",
             seconds, s.ok, seconds > 0 ? static_cast<double>(s.ok) / seconds : 0.0);
  fmt::print("  attempts: ok {}, fail {}, unknown {} (resolved by the workload: {} committed, {} not)\n", s.ok,
             s.fail, s.unknown, s.resolved_committed, s.resolved_not_committed);
  fmt::print("  errors by class: {}\n", errors.empty() ? "none" : errors);
  fmt::print("  deadlocks {}, reconnects {}, host rotations {}\n",
             s.errors[static_cast<std::size_t>(backend::ErrorKind::deadlock)], s.reconnects, s.rotations);
  fmt::print("  latency of acknowledged attempts: p50 {:.1f} ms, p99 {:.1f} ms\n", s.p50_ms, s.p99_ms);
}

// The cluster may still be settling after a fault: the primary is waited for a little.
std::vector<history::Snapshot> take_snapshots_patiently(const RunOptions& options) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (;;) {
    try {
      return backend::take_snapshots(options.workload.dsns, node_addresses(options.cluster), std::chrono::seconds(30));
    } catch (const backend::BackendError& error) {
      if (std::chrono::steady_clock::now() > deadline) throw;
      spdlog::get("app")->warn("snapshot: {}; trying again", error.what());
      std::this_thread::sleep_for(std::chrono::seconds(1));
    }
  }
}

int run_command(const std::vector<std::string>& args) {
  RunOptions options;
  try {
    options = parse_run_options(args);
  } catch (const UsageError& error) {
    std::cerr << error.what() << '\n';
    return 2;
  }
  if (options.help_shown) return 0;

  std::error_code ec;
  if (std::filesystem::exists(options.output / "history.jsonl")) {
    std::cerr << "pgchaos run: " << options.output.string()
              << " already holds a history; choose another --output (pgchaos never overwrites a history)\n";
    return 2;
  }
  std::filesystem::create_directories(options.output, ec);
  if (ec) {
    std::cerr << "pgchaos run: cannot create " << options.output.string() << ": " << ec.message() << '\n';
    return 2;
  }

  backend::StopFlag stop;
  InterruptGuard interrupt_guard(stop);
  try {
    set_up_logging(options);
    const std::int64_t run_id = backend::prepare_schema(options.workload);
    write_run_json(options, run_id, backend::detect_commit_mode(options.workload.dsns), "");
    const auto history_path = options.output / "history.jsonl";

    backend::WorkloadStats stats;
    {
      history::HistoryWriter history(history_path);
      record_run_started(history, run_id, options.workload.seed);
      fmt::print("run {} (seed {}): {} operations on {} threads, {} accounts; run directory {}\n", run_id,
                 options.workload.seed, options.workload.operations, options.workload.threads,
                 options.workload.accounts, options.output.string());
      std::fflush(stdout);
      stats = backend::run_workload(options.workload, run_id, history, stop);
      record_run_finished(history, stats.interrupted ? "interrupted" : stats.fatal_error ? "fatal error" : "completed");
    }  // the writer flushes and closes here

    print_summary(stats, run_id);
    if (stats.fatal_error) std::cerr << "pgchaos run: stopped by a harness error: " << *stats.fatal_error << '\n';

    // Every node's snapshot goes into the run directory, and the verdict is computed from the directory alone,
    // exactly as `pgchaos check` will compute it later.
    for (const auto& snapshot : take_snapshots_patiently(options))
      history::write_snapshot(options.output, snapshot);
    const auto result = check_and_report(read_recorded_run(options.output), std::nullopt);
    fmt::print("run directory: {}\n", options.output.string());
    if (stats.interrupted) return 130;
    if (stats.fatal_error) return 2;
    return exit_code(result.verdict);
  } catch (const std::exception& error) {
    std::cerr << "pgchaos run: " << error.what() << '\n';
    return stop.requested() ? 130 : 2;
  }
}

}  // namespace pgchaos::app
