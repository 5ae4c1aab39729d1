// A run directory of N operations (default 10 million) as `pgchaos run` writes one, for timing `pgchaos check`
// on a night's worth of history: history.jsonl (invoke + completion per attempt, 5 % of operations failing once
// first, as deadlocks do), run.json, and the snapshots of a primary and REPLICAS caught-up replicas (default 2).
//   build/dev/bench/make_run_directory DIR [OPS=10000000] [REPLICAS=2]
// The verdict of `pgchaos check DIR` is valid: every acknowledged commit is in every ledger.
#include <fmt/format.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <random>

#include "history/compact_history.h"
#include "history/events.h"
#include "history/run_directory.h"
#include "history/snapshots.h"
#include "common/files.h"

int main(int argc, char** argv) {
  using namespace pgchaos;
  if (argc < 2) {
    std::fputs("usage: make_run_directory DIR [OPS=10000000] [REPLICAS=2]\n", stderr);
    return 2;
  }
  const std::filesystem::path root = argv[1];
  const std::int64_t ops = argc > 2 ? std::atoll(argv[2]) : 10'000'000;
  const int replicas = argc > 3 ? std::atoi(argv[3]) : 2;
  constexpr int kAccounts = 100, kWorkers = 10;
  constexpr std::int64_t kRunId = 1, kSeed = 42;
  const auto directory = history::RunDirectory::for_new_run(root);
  directory.create();

  const nlohmann::json run = {
      {"pgchaos_version", "bench"}, {"run_id", kRunId}, {"seed", kSeed}, {"commit_mode", "async"},
      {"synchronous_commit", "local"},
      {"nodes", nlohmann::json::array()},
      {"config", {{"dsns", {"host=127.0.0.1"}}, {"accounts", kAccounts}, {"operations", ops}, {"threads", kWorkers}}}};
  common::write_file_atomically(directory.run_json(), run.dump(2) + "\n");

  history::Snapshot primary;
  primary.name = "pgc1";
  primary.role = "primary";
  primary.node = "10.213.7.11:5432";
  primary.system_identifier = "7713070853598746906";
  primary.timeline = 1;
  primary.lsn = "0/1000";
  primary.ledger.reserve(static_cast<std::size_t>(ops));
  for (int id = 1; id <= kAccounts; ++id) primary.accounts.push_back({id, primary.initial_balance_cents});

  // What HistoryWriter's thread does with each event, without its queue (which 20 million events would fill
  // faster than it drains): the JSON line, and the same line into the compact side file.
  std::FILE* out = std::fopen(directory.history().c_str(), "w");
  if (out == nullptr) return 2;
  history::CompactWriter compact(directory.history());
  auto write = [&](const history::Event& event) {
    const std::string line = history::to_json_line(event);
    std::fputs(line.c_str(), out);
    compact.add(event, line);
  };
  history::Event e;
  e.type = history::EventType::run_started;
  e.run_id = kRunId;
  e.seed = kSeed;
  e.wall_us = 1'795'000'000'000'000;
  write(e);
  std::mt19937_64 rng(1);
  std::uniform_int_distribution<int> account(1, kAccounts), amount(1, 10000), percent(0, 99);
  std::int64_t now_ns = 1'000'000, lsn = 1 << 24, txid = 1000;
  for (std::int64_t op = 1; op <= ops; ++op) {
    const int from = account(rng);
    int to = account(rng);
    if (to == from) to = from % kAccounts + 1;
    const int cents = amount(rng);
    const int attempts = percent(rng) < 5 ? 2 : 1;
    for (int attempt = 1; attempt <= attempts; ++attempt) {
      history::Event a;
      a.type = history::EventType::invoke;
      a.op = op;
      a.attempt = attempt;
      a.worker = static_cast<int>(op % kWorkers);
      a.from_account = from;
      a.to_account = to;
      a.amount_cents = cents;
      a.node = primary.node;
      a.timeline = 1;
      a.mono_ns = now_ns += 95'000;
      a.wall_us = 1'795'000'000'000'000 + now_ns / 1000;
      write(a);
      a.mono_ns = now_ns += 2'000'000;
      a.wall_us = 1'795'000'000'000'000 + now_ns / 1000;
      a.txid = ++txid;
      if (attempt < attempts) {
        a.type = history::EventType::fail;
        a.sqlstate = "40P01";
        a.error_class = "deadlock";
        a.message = "deadlock detected";
      } else {
        a.type = history::EventType::ok;
        a.commit_lsn = lsn += 400;
      }
      write(a);
    }
    primary.ledger.push_back({op, txid, static_cast<std::int32_t>(kRunId), attempts, from, to, cents,
                              static_cast<std::int32_t>(op % kWorkers)});
    primary.accounts[static_cast<std::size_t>(from - 1)].balance_cents -= cents;
    primary.accounts[static_cast<std::size_t>(to - 1)].balance_cents += cents + 100;
  }
  e = history::Event{};
  e.type = history::EventType::run_finished;
  e.mono_ns = now_ns + 1'000'000;
  e.message = "operations_done";
  write(e);
  if (std::fclose(out) != 0) return 2;
  compact.finish();

  history::write_snapshot(directory, primary);
  for (int r = 0; r < replicas; ++r) {
    primary.name = fmt::format("pgc{}", r + 2);
    primary.role = "replica";
    primary.node = fmt::format("10.213.7.{}:5432", 12 + r);
    primary.in_recovery = true;
    history::write_snapshot(directory, primary);
  }
  fmt::print("{}: {} operations, {} replicas\n", root.string(), ops, replicas);
  return 0;
}
