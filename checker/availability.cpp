// Throughput, latency, the longest stretches without an acknowledged commit, and what each fault cost.
// Memory: one 4-byte temporary per acknowledged attempt, reused for each pass.
#include <algorithm>

#include "invariants.h"

namespace pgchaos::checker {

using history::Outcome;

namespace {

constexpr std::size_t kGapsKept = 5;

double at(std::vector<std::uint32_t>::iterator first, std::vector<std::uint32_t>::iterator last, double p) {
  if (first == last) return 0;
  const auto n = static_cast<std::size_t>(last - first);
  const auto k = std::min(n - 1, static_cast<std::size_t>(p * static_cast<double>(n - 1) + 0.5));
  std::nth_element(first, first + static_cast<long>(k), last);
  return first[static_cast<long>(k)] / 1000.0;
}

Latency latency_of(std::vector<std::uint32_t>::iterator first, std::vector<std::uint32_t>::iterator last) {
  Latency l;
  if (first == last) return l;
  l.max_ms = *std::max_element(first, last) / 1000.0;
  l.p99_ms = at(first, last, 0.99);
  l.p95_ms = at(first, last, 0.95);
  l.p50_ms = at(first, last, 0.50);
  return l;
}

}  // namespace

void check_availability(const history::RunHistory& h, CheckResult& r) {
  r.duration_s = static_cast<double>(h.end_ns) / 1e9;
  r.ops_per_s = r.duration_s > 0 ? static_cast<double>(r.acknowledged) / r.duration_s : 0;

  // Pass 1: acknowledged commits in time order, in microseconds: gaps and each fault's unavailability.
  std::vector<std::uint32_t> scratch;
  scratch.reserve(static_cast<std::size_t>(r.acknowledged) + 16);
  for (const auto& a : h.attempts)
    if (a.outcome == Outcome::ok) scratch.push_back(static_cast<std::uint32_t>(std::min<std::int64_t>(a.completion_ns() / 1000, UINT32_MAX)));
  std::sort(scratch.begin(), scratch.end());
  {
    // The longest stretches, kept while scanning: longest first, at most kGapsKept.
    const auto length = [](const Gap& g) { return g.end_ns - g.start_ns; };
    auto keep = [&](Gap gap) {
      auto& kept = r.longest_gaps;
      const auto at = std::find_if(kept.begin(), kept.end(), [&](const Gap& g) { return length(gap) > length(g); });
      if (at == kept.end() && kept.size() >= kGapsKept) return;
      kept.insert(at, gap);
      if (kept.size() > kGapsKept) kept.pop_back();
    };
    std::int64_t previous = 0;
    for (const std::uint32_t t : scratch) {
      keep({previous, static_cast<std::int64_t>(t) * 1000});
      previous = static_cast<std::int64_t>(t) * 1000;
    }
    keep({previous, std::max(previous, h.end_ns)});
  }
  for (const auto& fault : h.faults) {
    FaultImpact impact;
    impact.fault = fault;
    // Unavailability: the longest stretch without an acknowledged commit that overlaps the fault's window.
    const std::int64_t window_end_ns = fault.end_ns >= 0 ? fault.end_ns : h.end_ns;
    auto it = std::lower_bound(scratch.begin(), scratch.end(), static_cast<std::uint32_t>(fault.start_ns / 1000));
    if (it != scratch.end()) {
      std::int64_t previous_us = it == scratch.begin() ? 0 : static_cast<std::int64_t>(*(it - 1));
      std::int64_t longest_us = 0;
      for (; it != scratch.end(); ++it) {
        longest_us = std::max(longest_us, static_cast<std::int64_t>(*it) - previous_us);
        previous_us = *it;
        if (previous_us * 1000 > window_end_ns) break;
      }
      impact.unavailable_ns = longest_us * 1000;
    }
    // In doubt inside the window: attempts whose (missing) acknowledgement fell in it.
    for (const auto& a : h.attempts) {
      const std::int64_t at = a.outcome == Outcome::pending ? a.invoke_ns : a.completion_ns();
      if ((a.outcome == Outcome::unknown || a.outcome == Outcome::pending) && at >= fault.start_ns && at <= window_end_ns)
        impact.unknown.push_back(a.op);
    }
    r.faults.push_back(std::move(impact));
  }
  // Which fault took each lost commit is decided with its cause (story.cpp).

  // Pass 2: latencies grouped by the second they completed in (a counting sort), then percentiles.
  const std::int64_t seconds = h.end_ns / 1'000'000'000 + 1;
  std::vector<std::uint32_t> start(static_cast<std::size_t>(seconds) + 1, 0);
  auto second_of = [&](const history::Attempt& a) {
    return std::min<std::int64_t>(a.completion_ns() / 1'000'000'000, seconds - 1);
  };
  for (const auto& a : h.attempts)
    if (a.outcome == Outcome::ok) ++start[static_cast<std::size_t>(second_of(a)) + 1];
  for (std::size_t s = 1; s < start.size(); ++s) start[s] += start[s - 1];
  std::vector<std::uint32_t> next(start.begin(), start.end() - 1);
  for (const auto& a : h.attempts)
    if (a.outcome == Outcome::ok) scratch[next[static_cast<std::size_t>(second_of(a))]++] = a.latency_us;
  r.per_second.reserve(static_cast<std::size_t>(seconds));
  for (std::int64_t s = 0; s < seconds; ++s) {
    const auto first = scratch.begin() + start[static_cast<std::size_t>(s)];
    const auto last = scratch.begin() + start[static_cast<std::size_t>(s) + 1];
    r.per_second.push_back({s, last - first, latency_of(first, last)});
  }
  r.latency = latency_of(scratch.begin(), scratch.end());
}

}  // namespace pgchaos::checker
