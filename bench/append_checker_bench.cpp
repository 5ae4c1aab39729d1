// The list-append checker (workloads/append) on a synthetic history of N transactions (default 1 million) of 1-4
// micro-operations: keys rotate out after 32 appends, reads return whole lists, 10% of the transactions roll back,
// 16 sessions, each transaction overlapping the 15 before it in real time. A serial execution: the checker does all
// its inference (real-time order included) and finds nothing. Printed, not asserted.
// Goals (issue 23): >= 100,000 transactions per second on one core, <= 200 bytes per micro-operation.
#include <fmt/format.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdlib>
#include <random>
#include <unordered_map>

#include "workloads/append/append.h"

namespace {

long peak_rss_kb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace pgchaos::append;
  const std::int64_t count = argc > 1 ? std::atoll(argv[1]) : 1'000'000;
  std::mt19937_64 random(1);
  std::vector<Transaction> history;
  history.reserve(static_cast<std::size_t>(count));
  std::unordered_map<std::int64_t, std::vector<std::int64_t>> lists;
  std::vector<std::int64_t> active(1000);
  for (std::size_t i = 0; i < active.size(); ++i) active[i] = static_cast<std::int64_t>(i);
  std::int64_t next_key = static_cast<std::int64_t>(active.size()), next_value = 1, micro_ops = 0;
  for (std::int64_t i = 0; i < count; ++i) {
    Transaction t;
    t.id = i + 1;
    t.session = static_cast<std::int64_t>(random() % 16);
    t.outcome = random() % 10 == 0 ? Outcome::fail : Outcome::ok;
    // In real time, as 16 clients would run them: each overlaps the 15 before it, so real-time order is inferred too.
    t.invoke_ns = i * 100;
    t.complete_ns = i * 100 + 1550;
    std::vector<std::pair<std::int64_t, std::int64_t>> appended;
    const int ops = 1 + static_cast<int>(random() % 4);
    for (int k = 0; k < ops; ++k) {
      auto& slot = active[random() % active.size()];
      auto& list = lists[slot];
      if (random() % 2 == 0) {
        t.ops.push_back({MicroOp::Kind::append, slot, next_value, std::nullopt});
        if (t.outcome == Outcome::ok) list.push_back(next_value);
        ++next_value;
        if (list.size() >= 32) slot = next_key++;  // the key rotates out
      } else {
        t.ops.push_back({MicroOp::Kind::read, slot, 0, t.outcome == Outcome::ok ? std::optional(list) : std::nullopt});
      }
      ++micro_ops;
    }
    history.push_back(std::move(t));
  }
  lists.clear();
  const long inputs_kb = peak_rss_kb();
  const auto start = std::chrono::steady_clock::now();
  const auto check = check_history(history);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const long peak_kb = peak_rss_kb();
  fmt::print("append checker: {} transactions, {} micro-operations, {} dependencies, {} anomalies, level {}\n",
             check.transactions, micro_ops, check.edges, check.anomalies.size(), check.strongest_level);
  fmt::print("  {:.2f} s: {:.0f} transactions/s (goal >= 100,000)\n", seconds, static_cast<double>(count) / seconds);
  fmt::print("  checker memory: {:.0f} bytes per micro-operation (goal <= 200; peak RSS {} MB, of which the history "
             "{} MB)\n",
             static_cast<double>(peak_kb - inputs_kb) * 1024.0 / static_cast<double>(micro_ops), peak_kb / 1024,
             inputs_kb / 1024);
  return check.anomalies.empty() ? 0 : 1;
}
