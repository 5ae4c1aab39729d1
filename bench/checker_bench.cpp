// The checker on a synthetic run of N operations (default 10 million) with one replica: time and peak memory.
// Also the history loader on a written history of a tenth of that. Printed, not asserted.
// Goals (issue 4): <= 1 s per million operations, <= 64 bytes per operation.
#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "checker/checker.h"
#include "tests/checker/synthetic_run.h"
#include "workloads/bank/bank.h"

namespace {

long peak_rss_kb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  using namespace pgchaos;
  const std::int64_t ops = argc > 1 ? std::atoll(argv[1]) : 10'000'000;
  const int replicas = argc > 2 ? std::atoi(argv[2]) : 0;

  std::mt19937_64 rng(1);
  const long before_kb = peak_rss_kb();
  auto run = testing::make_clean_run(rng, ops, 1000, replicas, 500'000);
  const long inputs_kb = peak_rss_kb();
  const auto start = std::chrono::steady_clock::now();
  checker::CheckOptions options;
  options.commit.mode = checker::CommitMode::sync;
  const auto result = checker::check(run.history, run.snapshots, options, bank::invariants());
  const double check_s = seconds_since(start);
  const long peak_kb = peak_rss_kb();
  fmt::print("checker: {} ops ({} attempts, {} ledger rows, {} replica(s)): verdict {}\n", ops, run.history.attempts.size(),
             run.snapshots[0].ledger.size(), replicas, checker::to_string(result.verdict));
  fmt::print("  time {:.2f} s = {:.3f} s per million ops (goal <= 1)\n", check_s, check_s / (static_cast<double>(ops) / 1e6));
  fmt::print("  memory: inputs {:.1f} bytes/op, peak {:.1f} bytes/op (goal <= 64), checker's own {:.1f} bytes/op\n",
             static_cast<double>(inputs_kb - before_kb) * 1024 / static_cast<double>(ops),
             static_cast<double>(peak_kb - before_kb) * 1024 / static_cast<double>(ops),
             static_cast<double>(peak_kb - inputs_kb) * 1024 / static_cast<double>(ops));

  // The loader, on a history file of ops / 10 operations (2 lines each).
  const std::int64_t file_ops = ops / 10;
  const std::string path = "/tmp/pgchaos-bench-history-" + std::to_string(::getpid()) + ".jsonl";
  {
    std::FILE* out = std::fopen(path.c_str(), "w");
    history::Event e;
    for (std::int64_t op = 1; op <= file_ops; ++op) {
      e.op = op;
      e.attempt = 1;
      e.worker = static_cast<int>(op % 10);
      e.type = history::EventType::invoke;
      e.mono_ns = op * 500'000;
      e.wall_us = 1'795'000'000'000'000 + op * 500;
      e.node = "10.213.7.11:5432";
      e.from_account = 1 + static_cast<int>(op % 100);
      e.to_account = 2 + static_cast<int>(op % 98);
      e.amount_cents = op % 10000 + 1;
      std::fputs(history::to_json_line(e).c_str(), out);
      e.type = history::EventType::ok;
      e.mono_ns += 2'000'000;
      e.txid = 1000 + op;
      std::fputs(history::to_json_line(e).c_str(), out);
    }
    std::fclose(out);
  }
  const auto load_start = std::chrono::steady_clock::now();
  const auto loaded = history::load_run_history(path);
  const double load_s = seconds_since(load_start);
  fmt::print("loader: {} ops ({} lines) in {:.2f} s = {:.3f} s per million ops\n", loaded.attempts.size(), 2 * file_ops,
             load_s, load_s / (static_cast<double>(file_ops) / 1e6));
  std::remove(path.c_str());
  return 0;
}
