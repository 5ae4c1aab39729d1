// The workers: each runs the workload's operations until they are used up, recording every attempt.
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <pqxx/pqxx>
#include <random>
#include <thread>

#include "session.h"
#include "common/splitmix64.h"

namespace pgchaos::backend {
namespace {

using history::Event;
using history::EventType;

constexpr std::size_t kMaxMessage = 300;
constexpr int kMaxInProgressPolls = 100;

enum class Resolution { committed, not_committed, stopped };

class Worker {
 public:
  Worker(const WorkloadConfig& config, const Workload& workload, std::int64_t run_id, int id,
         history::HistoryWriter& history, LiveCounters& counters, common::StopSource& stop,
         std::atomic<std::int64_t>& next_op)
      : config_(config), workload_(workload), run_id_(run_id), id_(id), history_(history), counters_(counters),
        stop_(stop), next_op_(next_op), session_(config, workload, id, counters),
        random_(common::splitmix64(config.seed + static_cast<std::uint64_t>(id))) {}

  void cancel() noexcept { session_.cancel_query(); }

  void run() {
    while (!should_stop()) {
      const std::int64_t op = next_op_.fetch_add(1, std::memory_order_relaxed);
      if (op > config_.operations) break;
      run_operation(op);
      if (!session_.setup_error().empty()) {
        fatal_error = fmt::format("worker {}: {}", id_, session_.setup_error());
        stop_.request(common::StopReason::harness_error);
      }
    }
  }

  std::vector<float> latencies_ms;
  std::optional<std::string> fatal_error;

 private:
  bool should_stop() const { return stop_.requested(); }

  Event event(EventType type, std::int64_t op, int attempt) const {
    Event e;
    e.type = type;
    e.op = op;
    e.attempt = attempt;
    e.worker = id_;
    history_.stamp(e);
    return e;
  }

  void run_operation(std::int64_t op) {
    for (int attempt = 1; session_.ensure_connected(stop_); ++attempt) {
      Event invoke = event(EventType::invoke, op, attempt);
      workload_.describe(op, invoke);
      invoke.node = session_.node().address;
      invoke.timeline = session_.node().timeline;
      const std::int64_t started_ns = invoke.mono_ns;
      history_.append(std::move(invoke));

      const AttemptResult outcome = execute(op, attempt);
      if (outcome.ok) {
        Event done = event(EventType::ok, op, attempt);
        done.txid = outcome.txid;
        done.commit_lsn = outcome.commit_lsn;
        done.warning = outcome.commit_warning.substr(0, kMaxMessage);
        done.txn = outcome.txn;
        latencies_ms.push_back(static_cast<float>(done.mono_ns - started_ns) / 1e6f);
        history_.append(std::move(done));
        counters_.ok.fetch_add(1, std::memory_order_relaxed);
        if (config_.live_ok != nullptr) config_.live_ok->fetch_add(1, std::memory_order_relaxed);
        return;
      }

      const ErrorFacts& facts = *outcome.error;
      const Classification c = classify_error(facts);
      const bool in_doubt = c.action == ErrorAction::unknown_outcome;
      Event done = event(in_doubt ? EventType::unknown : EventType::fail, op, attempt);
      done.txid = outcome.txid;
      done.sqlstate = facts.sqlstate;
      done.error_class = to_string(c.kind);
      done.message = facts.message.substr(0, kMaxMessage);
      done.node = session_.node().address;
      history_.append(std::move(done));
      (in_doubt ? counters_.unknown : counters_.fail).fetch_add(1, std::memory_order_relaxed);
      counters_.count(c.kind);

      switch (c.action) {
        case ErrorAction::retry_op: break;  // pg_cluster_backend retries a deadlock at once
        case ErrorAction::reconnect:
          session_.drop();
          if (!stop_.sleep_for(config_.conn_exception_sleep)) return;
          break;
        case ErrorAction::rotate_host:
          session_.drop();
          session_.rotate();
          if (!stop_.sleep_for(config_.conn_exception_sleep)) return;
          break;
        case ErrorAction::unknown_outcome: {
          const NodeInfo served_by = session_.node();
          session_.drop();
          const Resolution r = resolve(op, attempt, outcome.txid, served_by);
          if (r != Resolution::not_committed) return;  // committed, or stopping: the checker decides later
          break;
        }
        case ErrorAction::already_committed: {
          // An earlier attempt (recorded unknown) did commit: the ledger key refused this one.
          Event resolved = event(EventType::resolve, op, 0);
          resolved.committed = true;
          resolved.via = "duplicate_key";
          history_.append(std::move(resolved));
          counters_.resolved_committed.fetch_add(1, std::memory_order_relaxed);
          return;
        }
        case ErrorAction::fatal:
          fatal_error = fmt::format("worker {}: {} (SQLSTATE {})", id_, facts.message, facts.sqlstate);
          stop_.request(common::StopReason::harness_error);
          return;
      }
    }
  }

  // One attempt through the workload; a failed one leaves no transaction open on a connection that stays.
  AttemptResult execute(std::int64_t op, int attempt) {
    const Attempt a{.run_id = run_id_, .op = op, .attempt = attempt, .worker = id_, .worker_random = &random_,
                    .warnings = &session_};
    AttemptResult result = workload_.execute(session_.connection(), a, stop_);
    if (!result.ok) roll_back_or_drop();
    return result;
  }

  void roll_back_or_drop() noexcept {
    try {
      if (session_.connection().is_open()) {
        pqxx::nontransaction tx(session_.connection());
        tx.exec0("ROLLBACK");
        return;
      }
    } catch (...) {
    }
    session_.drop();
  }

  // Learns whether an in-doubt attempt committed: the ledger row says so. Waits while the server still
  // shows the transaction in progress (a COMMIT waiting for a synchronous standby).
  Resolution resolve(std::int64_t op, int attempt, std::int64_t txid, const NodeInfo& served_by) {
    int in_progress_polls = 0;
    while (session_.ensure_connected(stop_)) {
      try {
        const int committed_attempt = workload_.committed_attempt(session_.connection(), run_id_, op);
        if (committed_attempt == 0 && txid != 0 && served_by.address == session_.node().address &&
            served_by.timeline == session_.node().timeline && in_progress_polls < kMaxInProgressPolls) {
          pqxx::nontransaction tx(session_.connection());
          const auto status = tx.exec1("SELECT coalesce(txid_status(" + std::to_string(txid) + "), '')")[0]
                                  .as<std::string>();
          if (status == "in progress") {
            ++in_progress_polls;
            if (!stop_.sleep_for(std::chrono::milliseconds(100))) break;
            continue;
          }
        }
        Event resolved = event(EventType::resolve, op, attempt);
        resolved.committed = committed_attempt == attempt;
        resolved.via = "ledger";
        resolved.node = session_.node().address;
        history_.append(std::move(resolved));
        if (committed_attempt != 0) {
          counters_.resolved_committed.fetch_add(1, std::memory_order_relaxed);
          return Resolution::committed;
        }
        counters_.resolved_not_committed.fetch_add(1, std::memory_order_relaxed);
        return Resolution::not_committed;
      } catch (const std::exception& error) {
        counters_.count(classify_error(error_facts(error, false)).kind);
        session_.drop();
        if (!stop_.sleep_for(config_.conn_exception_sleep)) break;
      }
    }
    return Resolution::stopped;
  }

  const WorkloadConfig& config_;
  const Workload& workload_;
  std::int64_t run_id_;
  int id_;
  history::HistoryWriter& history_;
  LiveCounters& counters_;
  common::StopSource& stop_;
  std::atomic<std::int64_t>& next_op_;
  Session session_;
  std::mt19937_64 random_;  // the worker's own: the workload's think time
};

std::string error_summary(const LiveCounters& counters) {
  std::string text;
  for (std::size_t i = 0; i < kErrorKinds; ++i) {
    const auto n = counters.errors[i].load(std::memory_order_relaxed);
    if (n > 0) text += fmt::format("{}{} {}", text.empty() ? "" : ", ", to_string(static_cast<ErrorKind>(i)), n);
  }
  return text.empty() ? "none" : text;
}

void print_progress(const WorkloadConfig& config, const LiveCounters& counters, double seconds) {
  const auto ok = counters.ok.load(std::memory_order_relaxed);
  std::printf("\r\033[K[%lld/%lld] %.0f ops/s | fail %lld unknown %lld | errors: %s", static_cast<long long>(ok),
              static_cast<long long>(config.operations), seconds > 0 ? static_cast<double>(ok) / seconds : 0.0,
              static_cast<long long>(counters.fail.load()), static_cast<long long>(counters.unknown.load()),
              error_summary(counters).c_str());
  std::fflush(stdout);
}

double percentile(std::vector<float>& values, double p) {
  if (values.empty()) return 0;
  const auto index = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1));
  std::nth_element(values.begin(), values.begin() + static_cast<long>(index), values.end());
  return values[index];
}

}  // namespace

WorkloadStats run_workload(const WorkloadConfig& config, const Workload& workload, std::int64_t run_id,
                           history::HistoryWriter& history, common::StopSource& stop) {
  if (config.dsns.empty()) throw BackendError("no database given");
  if (config.threads < 1) throw BackendError("threads must be at least 1");

  LiveCounters counters;
  std::atomic<std::int64_t> next_op{1};
  std::vector<std::unique_ptr<Worker>> workers;
  for (int i = 0; i < config.threads; ++i)
    workers.push_back(std::make_unique<Worker>(config, workload, run_id, i, history, counters, stop, next_op));

  const auto started = std::chrono::steady_clock::now();
  // The last worker to finish wakes the progress line; without one, joining is all the waiting there is.
  std::mutex done_mutex;
  std::condition_variable done;
  int running = config.threads;
  std::vector<std::thread> threads;
  for (auto& worker : workers)
    threads.emplace_back([&worker, &done_mutex, &done, &running] {
      worker->run();
      const std::lock_guard lock(done_mutex);
      if (--running == 0) done.notify_all();
    });
  if (config.show_progress && ::isatty(STDOUT_FILENO) == 1) {
    std::unique_lock lock(done_mutex);
    while (!done.wait_for(lock, std::chrono::milliseconds(250), [&] { return running == 0; }))
      print_progress(config, counters,
                     std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    std::printf("\n");
  }
  // A stop must not wait for a statement that may never end: a COMMIT held for a synchronous standby that is not
  // coming (sync-strict with none left) holds its worker for ever. Once the stop is 5 s old, every statement
  // still running is cancelled, again each second until the workers are done. A cancelled wait for the standby
  // comes back committed with PostgreSQL's warning (a cancelled sync wait); any other statement fails.
  std::thread canceller([&] {
    std::unique_lock lock(done_mutex);
    std::optional<std::chrono::steady_clock::time_point> next_cancel;
    while (!done.wait_for(lock, std::chrono::milliseconds(250), [&] { return running == 0; })) {
      if (!stop.requested()) continue;
      const auto now = std::chrono::steady_clock::now();
      if (!next_cancel) next_cancel = now + std::chrono::seconds(5);
      if (now < *next_cancel) continue;
      next_cancel = now + std::chrono::seconds(1);
      lock.unlock();
      backend_log()->info("the run is stopping and statements still run: cancelling them");
      for (auto& worker : workers) worker->cancel();
      lock.lock();
    }
  });
  for (auto& thread : threads) thread.join();
  canceller.join();

  WorkloadStats stats;
  stats.elapsed = std::chrono::steady_clock::now() - started;
  stats.ok = counters.ok.load();
  stats.fail = counters.fail.load();
  stats.unknown = counters.unknown.load();
  stats.resolved_committed = counters.resolved_committed.load();
  stats.resolved_not_committed = counters.resolved_not_committed.load();
  stats.reconnects = counters.reconnects.load();
  stats.rotations = counters.rotations.load();
  for (std::size_t i = 0; i < kErrorKinds; ++i) stats.errors[i] = counters.errors[i].load();
  stats.operations_done = !stop.requested();  // workers end without a stop only when the operations ran out
  std::vector<float> latencies;
  for (auto& worker : workers) {
    latencies.insert(latencies.end(), worker->latencies_ms.begin(), worker->latencies_ms.end());
    if (worker->fatal_error && !stats.fatal_error) stats.fatal_error = worker->fatal_error;
  }
  stats.p50_ms = percentile(latencies, 0.50);
  stats.p99_ms = percentile(latencies, 0.99);
  return stats;
}

}  // namespace pgchaos::backend
