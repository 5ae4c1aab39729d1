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
#include "checker/checker.h"

namespace pgchaos::app {
namespace {

backend::StopFlag* g_stop = nullptr;

extern "C" void on_interrupt(int signal) {
  if (g_stop != nullptr) g_stop->request();
  std::signal(signal, SIG_DFL);  // a second Ctrl-C ends pgchaos at once
}

// Returns exit code 130 when interrupted; the handlers stay installed for the whole command.
class InterruptGuard {
 public:
  explicit InterruptGuard(backend::StopFlag& stop) {
    g_stop = &stop;
    std::signal(SIGINT, on_interrupt);
    std::signal(SIGTERM, on_interrupt);
  }
  ~InterruptGuard() {
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    g_stop = nullptr;
  }
};

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

void write_run_json(const RunOptions& options, std::int64_t run_id) {
  const auto& w = options.workload;
  nlohmann::json dsns = nlohmann::json::array();
  for (const auto& dsn : w.dsns) dsns.push_back(backend::mask_password(dsn));
  nlohmann::json run = {
      {"pgchaos_version", "0.1.0"},
      {"run_id", run_id},
      {"seed", w.seed},
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

std::string money(std::int64_t cents) {
  return fmt::format("{}{}.{:02}", cents < 0 ? "-" : "", std::abs(cents) / 100, std::abs(cents) % 100);
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

bool print_check(const checker::RunCheck& c, const history::Snapshot& primary) {
  auto mark = [](bool ok) { return ok ? "[ok]  " : "[FAIL]"; };
  auto first_ids = [](const std::vector<std::int64_t>& ids) {
    std::string text;
    for (std::size_t i = 0; i < ids.size() && i < 10; ++i) text += fmt::format("{}{}", i ? ", " : "", ids[i]);
    return ids.size() > 10 ? text + ", ..." : text;
  };
  fmt::print("check against the database ({} on timeline {}):\n", primary.node, primary.timeline);
  fmt::print("  {} every acknowledged op is in the ledger ({} acknowledged, {} lost{}{})\n", mark(c.lost.empty()),
             c.acknowledged, c.lost.size(), c.lost.empty() ? "" : ": ", first_ids(c.lost));
  fmt::print("  {} no failed attempt is in the ledger ({} failed attempts, {} phantom{}{})\n",
             mark(c.phantom.empty()), c.failed_attempts, c.phantom.size(), c.phantom.empty() ? "" : ": ",
             first_ids(c.phantom));
  fmt::print("  {} sum(balance) = accounts x 100 + committed ops: {} vs {} ({} accounts, {} ledger rows)\n",
             mark(c.balance_drift_cents == 0), money(c.balance_sum_cents),
             money(c.balance_sum_cents - c.balance_drift_cents), c.accounts, c.ledger_rows);
  fmt::print("  unknown attempts: {} committed, {} not committed\n", c.unknown_committed.size(),
             c.unknown_not_committed.size());
  fmt::print("  seed formula sum(balance) - (accounts x 100 + operations) = {}\n", money(c.seed_formula_cents));
  return c.holds();
}

// The cluster may still be settling after a fault; the snapshot waits a little for a writable server.
history::Snapshot snapshot_primary(const std::vector<std::string>& dsns) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (;;) {
    try {
      return backend::read_snapshot(dsns, true);
    } catch (const backend::BackendError& error) {
      if (std::chrono::steady_clock::now() > deadline) throw;
      spdlog::get("app")->warn("snapshot: {}; trying again", error.what());
      std::this_thread::sleep_for(std::chrono::seconds(1));
    }
  }
}

}  // namespace

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
    write_run_json(options, run_id);
    const auto history_path = options.output / "history.jsonl";

    backend::WorkloadStats stats;
    {
      history::HistoryWriter history(history_path);
      history::Event started;
      started.type = history::EventType::run_started;
      started.run_id = run_id;
      started.seed = static_cast<std::int64_t>(options.workload.seed);
      history.stamp(started);
      history.append(started);
      fmt::print("run {} (seed {}): {} operations on {} threads, {} accounts; run directory {}\n", run_id,
                 options.workload.seed, options.workload.operations, options.workload.threads,
                 options.workload.accounts, options.output.string());
      std::fflush(stdout);
      stats = backend::run_workload(options.workload, run_id, history, stop);
      history::Event finished;
      finished.type = history::EventType::run_finished;
      finished.message = stats.interrupted ? "interrupted" : stats.fatal_error ? "fatal error" : "completed";
      history.stamp(finished);
      history.append(finished);
    }  // the writer flushes and closes here

    print_summary(stats, run_id);
    if (stats.fatal_error) std::cerr << "pgchaos run: stopped by a harness error: " << *stats.fatal_error << '\n';

    // The check reads the history back from disk, so it sees exactly what `pgchaos check` will see later.
    const auto recorded = history::read_history(history_path);
    const auto primary = snapshot_primary(options.workload.dsns);
    history::write_snapshot(options.output / "snapshot-primary.json", primary);
    const bool holds = print_check(checker::check_run(recorded.events, primary, run_id), primary);
    fmt::print("run directory: {}\n", options.output.string());
    if (stats.interrupted) return 130;
    if (stats.fatal_error) return 2;
    return holds ? 0 : 1;
  } catch (const std::exception& error) {
    std::cerr << "pgchaos run: " << error.what() << '\n';
    return stop.requested() ? 130 : 2;
  }
}

}  // namespace pgchaos::app
