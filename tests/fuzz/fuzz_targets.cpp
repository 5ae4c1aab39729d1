// libFuzzer targets: no parser of pgchaos may crash on any input. One binary per target, chosen at build time
// by PGCHAOS_FUZZ_TARGET; each input either parses or is refused with pgchaos's own error type.
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#if defined(PGCHAOS_FUZZ_INI)
#include "app/app.h"
#elif defined(PGCHAOS_FUZZ_SCENARIO)
#include "scenarios/scenarios.h"
#elif defined(PGCHAOS_FUZZ_HISTORY)
#include "history/compact_history.h"  // internal to history/: the side file's writer
#include "history/events.h"
#include "history/run_history.h"
#elif defined(PGCHAOS_FUZZ_SNAPSHOT)
#include "history/ledger_index.h"
#include "history/snapshots.h"
#elif defined(PGCHAOS_FUZZ_DSN)
#include "backend/cluster_reader.h"
#elif defined(PGCHAOS_FUZZ_APPEND)
#include "workloads/append/append.h"
#endif

namespace {

// A per-process scratch directory for the readers that take files.
const std::string& scratch() {
  static const std::string dir = [] {
    const char* tmp = std::getenv("TMPDIR");  // scripts/fuzz.sh points it at a directory it removes
    std::string pattern = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/pgchaos-fuzz-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) __builtin_trap();
    return pattern;
  }();
  return dir;
}

[[maybe_unused]] void write(const std::string& file, std::string_view text) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
}

[[maybe_unused]] std::string read_file(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  using namespace pgchaos;
#if defined(PGCHAOS_FUZZ_INI)
  try {
    app::parse_config_text(input, "fuzz.conf");
  } catch (const app::UsageError&) {
  }
#elif defined(PGCHAOS_FUZZ_SCENARIO)
  try {
    const auto scenario = scenarios::parse_scenario(input, "fuzz.json");
    const auto actions = scenarios::schedule(scenario, 1);
    // The schedule written as a run records it reads back the same, and aims a replay either way.
    const auto again = scenarios::parse_schedule_json(scenarios::schedule_json(actions), "schedule.json");
    if (again.size() != actions.size()) __builtin_trap();
    scenarios::aimed_as_recorded(actions, again, scenarios::ReplayBy::node);
  } catch (const scenarios::ScenarioError&) {
  }
  // The input as a recorded schedule (schedule.json of a run to replay).
  try {
    scenarios::parse_schedule_json(input, "schedule.json");
  } catch (const scenarios::ScenarioError&) {
  }
#elif defined(PGCHAOS_FUZZ_HISTORY)
  // One line through the full reader; what it reads must be written back and read again.
  try {
    const auto event = history::parse_event_line(input);
    std::string line = history::to_json_line(event);
    line.pop_back();
    history::parse_event_line(line);
  } catch (const history::HistoryError&) {
  }
  // The whole input as a history file through the compact loader.
  const std::string file = scratch() + "/history.jsonl";
  write(file, input);
  try {
    history::load_run_history(file);
  } catch (const history::HistoryError&) {
  }
  // The input as the records of a side file whose end record matches the history: decoding must stay in bounds
  // and fall back to the history on anything damaged.
  {
    history::CompactWriter side(file);
    side.finish();
  }
  const std::string side_file = file + ".compact";
  write(side_file, input + read_file(side_file));
  try {
    history::load_run_history(file);
  } catch (const history::HistoryError&) {
  }
  // The same bytes as a compressed history: the zstd reader must refuse garbage by name, never crash.
  const std::string compressed = scratch() + "/history.jsonl.zst";
  write(compressed, input);
  try {
    history::load_run_history(compressed);
  } catch (const history::HistoryError&) {
  }
#elif defined(PGCHAOS_FUZZ_SNAPSHOT)
  // The input is a snapshot's JSON, a line "---", then its ledger TSV.
  const auto split = input.find("\n---\n");
  write(scratch() + "/snapshot-x.json", input.substr(0, split));
  write(scratch() + "/snapshot-x.ledger.tsv", split == std::string::npos ? "" : input.substr(split + 5));
  std::optional<history::Snapshot> rows;
  try {
    rows = history::read_snapshot(scratch() + "/snapshot-x.json");
  } catch (const history::HistoryError&) {
  }
  // Read as the index of a run (what `pgchaos check` does): readable exactly when the rows are, and the same
  // index as the rows give.
  for (const std::int64_t run : {std::int64_t{1}, std::int64_t{rows && !rows->ledger.empty() ? rows->ledger.back().run_id : 0}}) {
    std::optional<history::Snapshot> indexed;
    try {
      indexed = history::read_snapshot(scratch() + "/snapshot-x.json", run);
    } catch (const history::HistoryError&) {
    }
    if (indexed.has_value() != rows.has_value()) __builtin_trap();
    if (!rows) continue;
    const auto expected = history::index_ledger(rows->ledger, run);
    const auto& got = *indexed->ledger_index;
    if (got.rows() != expected.rows() || got.rows_this_run() != expected.rows_this_run() ||
        got.last_op() != expected.last_op())
      __builtin_trap();
    std::vector<std::pair<std::int64_t, int>> a, b;
    got.for_each_op([&](std::int64_t op, int attempt) { a.emplace_back(op, attempt); });
    expected.for_each_op([&](std::int64_t op, int attempt) { b.emplace_back(op, attempt); });
    if (a != b || !std::is_sorted(a.begin(), a.end())) __builtin_trap();
  }
#elif defined(PGCHAOS_FUZZ_DSN)
  const auto masked = backend::mask_password(input);
  backend::without_masked_password(masked);
#elif defined(PGCHAOS_FUZZ_APPEND)
  // The input as the text of a transaction (history.jsonl's txn): parsed, or refused with invalid_argument; what
  // parses is written back to the same text's meaning; lines of it as a history go through the list-append checker.
  std::vector<append::Transaction> history;
  std::size_t start = 0;
  for (std::int64_t id = 1; start <= input.size(); ++id) {
    const auto end = std::min(input.find('\n', start), input.size());
    try {
      auto ops = append::parse_ops(std::string_view(input).substr(start, end - start));
      const auto again = append::parse_ops(append::format_ops(ops));
      if (append::format_ops(again) != append::format_ops(ops)) __builtin_trap();
      append::Transaction t;
      t.id = id;
      t.session = id % 3;
      t.outcome = id % 7 == 0 ? append::Outcome::fail : id % 5 == 0 ? append::Outcome::unknown : append::Outcome::ok;
      t.invoke_ns = id * 10;
      t.complete_ns = id % 2 == 0 ? id * 10 + 25 : id * 10 + 5;
      t.ops = std::move(ops);
      history.push_back(std::move(t));
    } catch (const std::invalid_argument&) {
    }
    start = end + 1;
  }
  const auto check = append::check_history(history);
  for (const auto& a : check.anomalies)
    if (a.kind.empty() || a.explanation.empty()) __builtin_trap();
#endif
  return 0;
}
