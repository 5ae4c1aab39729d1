// Synthetic runs for checker tests and benchmarks: a clean history with matching snapshots, built from a seed.
#pragma once

#include <random>

#include "history/run_history.h"
#include "history/snapshots.h"

namespace pgchaos::testing {

struct SyntheticRun {
  history::RunHistory history;
  std::vector<history::Snapshot> snapshots;  ///< primary first, then `replicas` identical copies
};

/// `ops` operations of run 1 over `accounts` accounts: some fail once (a deadlock) before they commit, every
/// one commits and is acknowledged; the primary's snapshot holds exactly those commits.
inline SyntheticRun make_clean_run(std::mt19937_64& rng, std::int64_t ops, int accounts, int replicas,
                                   std::int64_t step_ns = 200'000) {
  SyntheticRun run;
  auto& h = run.history;
  h.run_id = 1;
  h.seed = 42;
  h.attempts.reserve(static_cast<std::size_t>(ops + ops / 16));
  history::Snapshot primary;
  primary.name = "pgc1";
  primary.role = "primary";
  primary.node = "10.0.0.1:5432";
  primary.lsn = "0/1000";
  primary.ledger.reserve(static_cast<std::size_t>(ops));
  for (int id = 1; id <= accounts; ++id) primary.accounts.push_back({id, primary.initial_balance_cents});
  std::uniform_int_distribution<int> account(1, accounts);
  std::uniform_int_distribution<int> amount(1, 10000);
  std::uniform_int_distribution<int> percent(0, 99);
  std::int64_t now_ns = 0;
  for (std::int64_t op = 1; op <= ops; ++op) {
    std::uint16_t attempt = 1;
    now_ns += step_ns;
    if (percent(rng) < 5) {
      h.attempts.push_back({op, now_ns, 900, attempt++, history::Outcome::fail});
      now_ns += 1'000'000;
    }
    h.attempts.push_back({op, now_ns, 1500, attempt, history::Outcome::ok});
    const int from = account(rng);
    int to = account(rng);
    if (to == from) to = from % accounts + 1;
    const int cents = amount(rng);
    primary.ledger.push_back({op, 1000 + op, 1, attempt, from, to, cents, 0});
    primary.accounts[static_cast<std::size_t>(from - 1)].balance_cents -= cents;
    primary.accounts[static_cast<std::size_t>(to - 1)].balance_cents += cents + 100;
  }
  h.end_ns = now_ns + 5'000'000;
  h.finished = true;
  run.snapshots.push_back(std::move(primary));
  for (int r = 0; r < replicas; ++r) {
    history::Snapshot replica = run.snapshots.front();
    replica.name = "pgc" + std::to_string(r + 2);
    replica.role = "replica";
    replica.in_recovery = true;
    run.snapshots.push_back(std::move(replica));
  }
  return run;
}

}  // namespace pgchaos::testing
