// The bank workload: a port of pg_cluster_backend's transfers (../shared/docs/port-spec.md). Accounts and a ledger
// in schema pgchaos; each operation moves an amount from one account to another and writes its ledger row, keyed by
// (run, op), in the same transaction, so the database itself says which attempt of which operation committed.
// Everything the bank knows lives in this folder: its tables, its SQL, how a transfer is drawn and executed, how a
// node's accounts and ledger are read, and the invariants over them (balances, accounts that differ).
#pragma once

#include <chrono>
#include <optional>

#include "backend/workload.h"
#include "checker/checker.h"

namespace pgchaos::bank {

struct ThinkTime {
  std::chrono::milliseconds min{100}, max{200};
};

struct BankOptions {
  int accounts = 100;
  std::optional<ThinkTime> think_time;  ///< pg_cluster_backend's "billing calculation delay", twice per transfer
  /// The transaction's statements one round trip each, as pg_cluster_backend sends them. Without think time the
  /// default is two round trips: BEGIN through the ledger row as one batch, then COMMIT alone (the outcomes are
  /// classified alike: an error in the batch is before COMMIT). With think time that is the only way.
  bool statement_by_statement = false;
  bool log_sql = false;
  /// false: no statement is prepared; each is sent with its text (the extended protocol's unnamed statement; the
  /// batch with its values written in). For a pooler in transaction mode in the path: pgbouncer 1.18 gives each
  /// transaction whichever server connection is free, and a statement prepared on one is unknown on the others.
  bool prepared_statements = true;
  /// The way a transfer goes: one round trip per statement, or the batch.
  bool batched() const { return !think_time && !statement_by_statement; }
};

/// The bank's transfers for one run, drawn from `seed` (a pure function of seed and op: a replay draws the same).
class BankWorkload final : public backend::Workload {
 public:
  /// Throws backend::BackendError for fewer than 2 accounts.
  BankWorkload(BankOptions options, std::uint64_t seed);
  std::vector<std::string> own_relations() const override;
  int keys() const override { return options_.accounts; }
  std::vector<std::string> tables() const override;
  void create_tables(pqxx::transaction_base& tx) const override;
  void check_existing_tables(pqxx::transaction_base& tx) const override;
  void prepare_connection(pqxx::connection_base& connection) const override;
  void describe(std::int64_t op, history::Event& invoke) const override;
  backend::AttemptResult execute(pqxx::connection_base& connection, const backend::Attempt& attempt,
                                 const common::StopSource& stop) const override;
  int committed_attempt(pqxx::connection_base& connection, std::int64_t run_id, std::int64_t op) const override;
  void read_state(pqxx::transaction_base& tx, history::Snapshot& snapshot,
                  const std::function<void(const history::LedgerRow&)>& add_row) const override;

 private:
  BankOptions options_;
  std::uint64_t seed_;
};

/// The bank's invariants over a node's state: the balance formulas and account reconciliation on the primary,
/// the accounts of each other node against the primary's.
const checker::StateInvariants& invariants();

}  // namespace pgchaos::bank
