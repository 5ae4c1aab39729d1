// A transfer: drawn from the seed, executed as pg_cluster_backend's statements plus the ledger row, resolved
// through the ledger.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <pqxx/pqxx>

#include "workloads/bank/bank.h"
#include "common/splitmix64.h"

namespace pgchaos::bank {
namespace {

struct Transfer {
  int from = 0, to = 0;  // locked in this order: the debited account first, as in pg_cluster_backend
  std::int64_t amount_cents = 0;
};

// A pure function of (seed, op): the same seed replays the same transfers, whichever worker runs them.
Transfer draw_transfer(std::uint64_t seed, std::int64_t op, int accounts) {
  const std::uint64_t a = common::splitmix64(seed ^ common::splitmix64(static_cast<std::uint64_t>(op)));
  const std::uint64_t b = common::splitmix64(a);
  const std::uint64_t c = common::splitmix64(b);
  const auto n = static_cast<std::uint64_t>(accounts);
  Transfer t;
  t.from = static_cast<int>(a % n) + 1;
  t.to = static_cast<int>((static_cast<std::uint64_t>(t.from - 1) + 1 + b % (n - 1)) % n) + 1;
  t.amount_cents = static_cast<std::int64_t>(c % 10000) + 1;  // 0.01 .. 100.00
  return t;
}

// The transfer's statements (pg_cluster_backend's, plus the ledger row), by name.
const std::pair<const char*, const char*> kTransferStatements[] = {
    {"lock_pair", "SELECT id, balance FROM pgchaos.accounts WHERE id IN ($1, $2) ORDER BY id = $1 DESC FOR UPDATE"},
    {"debit", "UPDATE pgchaos.accounts SET balance = balance - $1::bigint / 100.0 WHERE id = $2"},
    {"credit", "UPDATE pgchaos.accounts SET balance = balance + $1::bigint / 100.0 + 1 WHERE id = $2"},
    {"ledger",
     "INSERT INTO pgchaos.ledger (run_id, op_id, attempt, from_account, to_account, amount, worker) "
     "VALUES ($1, $2, $3, $4, $5, $6::bigint / 100.0, $7) RETURNING txid, (pg_current_wal_insert_lsn() - '0/0')::bigint"},
};

const char* statement_sql(const char* name) {
  for (const auto& [n, sql] : kTransferStatements)
    if (std::string_view(n) == name) return sql;
  return nullptr;
}

// A statement's text with its $N parameters written in: every value is an integer of ours, no quoting needed.
std::string with_values(const char* sql, const std::vector<std::int64_t>& values) {
  std::string text;
  for (const char* c = sql; *c != '\0'; ++c) {
    if (*c == '$' && c[1] >= '1' && c[1] <= '9') {  // at most $7
      text += std::to_string(values.at(static_cast<std::size_t>(c[1] - '1')));
      ++c;
    } else {
      text += *c;
    }
  }
  return text;
}

constexpr const char* kPoolerHint =
    " (a pooler in transaction mode, such as pgbouncer, is in the path: run with --no-prepared-statements)";
constexpr const char* kFindOp = "SELECT attempt FROM pgchaos.ledger WHERE run_id = $1 AND op_id = $2";

struct Interrupted {};

std::shared_ptr<spdlog::logger> workload_log() {
  if (auto logger = spdlog::get("workload")) return logger;
  return spdlog::default_logger();
}

class TransferAttempt {
 public:
  TransferAttempt(const BankOptions& options, pqxx::connection_base& connection, const backend::Attempt& attempt,
                  const Transfer& transfer, const common::StopSource& stop)
      : options_(options), tx_(connection), attempt_(attempt), t_(transfer), stop_(stop) {}

  // pg_cluster_backend's statements, one round trip each, with its think time between them.
  pqxx::row up_to_the_ledger_row() {
    log_sql("BEGIN");
    tx_.exec0("BEGIN");
    log_sql("lock_pair");
    run("lock_pair", t_.from, t_.to);
    think();
    log_sql("debit");
    run("debit", t_.amount_cents, t_.from);
    think();
    log_sql("credit");
    run("credit", t_.amount_cents, t_.to);
    log_sql("ledger");
    const auto ledger = run("ledger", attempt_.run_id, attempt_.op, attempt_.attempt, t_.from, t_.to, t_.amount_cents,
                            attempt_.worker);
    if (ledger.size() != 1) throw pqxx::unexpected_rows("the ledger row did not come back");
    return ledger[0];
  }

  // The same statements in one simple-protocol query, each an EXECUTE of its prepared statement (prepared on
  // connecting: the server plans them once, not on every batch): the server runs them in order and stops at the
  // first error, which comes back as this call's exception, before COMMIT was ever sent (a fail, as statement by
  // statement). Only the ledger row's result comes back. Every value is an integer of ours: no quoting needed.
  pqxx::row up_to_the_ledger_row_at_once() {
    if (!options_.prepared_statements) return up_to_the_ledger_row_in_one_text();
    const std::string batch = fmt::format(
        "BEGIN;EXECUTE pgchaos_lock_pair({0}, {1});EXECUTE pgchaos_debit({2}, {0});EXECUTE pgchaos_credit({2}, {1});"
        "EXECUTE pgchaos_ledger({3}, {4}, {5}, {0}, {1}, {2}, {6})",
        t_.from, t_.to, t_.amount_cents, attempt_.run_id, attempt_.op, attempt_.attempt, attempt_.worker);
    if (options_.log_sql) workload_log()->debug("worker {}: {}", attempt_.worker, batch);
    return tx_.exec1(batch);
  }

  // The batch without prepared statements: the same statements with their values written in.
  pqxx::row up_to_the_ledger_row_in_one_text() {
    const std::vector<std::int64_t> v = {t_.from, t_.to, t_.amount_cents, attempt_.run_id, attempt_.op, attempt_.attempt,
                                         attempt_.worker};
    const std::string batch = "BEGIN;" + with_values(statement_sql("lock_pair"), {v[0], v[1]}) + ";" +
                              with_values(statement_sql("debit"), {v[2], v[0]}) + ";" +
                              with_values(statement_sql("credit"), {v[2], v[1]}) + ";" +
                              with_values(statement_sql("ledger"), {v[3], v[4], v[5], v[0], v[1], v[2], v[6]});
    if (options_.log_sql) workload_log()->debug("worker {}: {}", attempt_.worker, batch);
    return tx_.exec1(batch);
  }

  void stop_if_requested() const {
    if (stop_.requested()) throw Interrupted();
  }
  void commit() {
    log_sql("COMMIT");
    tx_.exec0("COMMIT");
  }

 private:
  void think() {
    if (!options_.think_time) return;
    std::uniform_int_distribution<long> pause(options_.think_time->min.count(), options_.think_time->max.count());
    stop_.sleep_for(std::chrono::milliseconds(pause(*attempt_.worker_random)));
  }
  // One statement: its prepared form, or its text (unnamed, so a pooler may give each transaction another server).
  template <typename... Values>
  pqxx::result run(const char* name, Values... values) {
    if (options_.prepared_statements) return tx_.exec_prepared(name, values...);
    return tx_.exec_params(statement_sql(name), values...);
  }
  void log_sql(const char* statement) const {
    if (options_.log_sql) workload_log()->debug("worker {}: {}", attempt_.worker, statement);
  }

  const BankOptions& options_;
  pqxx::nontransaction tx_;
  const backend::Attempt& attempt_;
  const Transfer& t_;
  const common::StopSource& stop_;
};

}  // namespace

BankWorkload::BankWorkload(BankOptions options, std::uint64_t seed) : options_(options), seed_(seed) {
  if (options_.accounts < 2) throw backend::BackendError("accounts must be at least 2 (a transfer needs two accounts)");
}

void BankWorkload::prepare_connection(pqxx::connection_base& connection) const {
  if (!options_.prepared_statements) return;
  for (const auto& [name, sql] : kTransferStatements) connection.prepare(name, sql);
  if (options_.batched()) {
    // The batched transfer runs the same statements by SQL EXECUTE: prepared here once a connection, so that the
    // server plans them once, as it does for the protocol-level ones, not on every batch.
    std::string prepare;
    for (const auto& [name, sql] : kTransferStatements) prepare += fmt::format("PREPARE pgchaos_{} AS {};", name, sql);
    try {
      pqxx::nontransaction(connection).exec0(prepare);
    } catch (const pqxx::sql_error& error) {
      // A new PostgreSQL session has no prepared statement: one that has ours is shared, through a pooler.
      if (error.sqlstate() == "42P05") throw backend::WorkloadSetupError(std::string(error.what()) + kPoolerHint);
      throw;
    }
  }
  connection.prepare("find_op", kFindOp);
}

void BankWorkload::describe(std::int64_t op, history::Event& invoke) const {
  const Transfer transfer = draw_transfer(seed_, op, options_.accounts);
  invoke.from_account = transfer.from;
  invoke.to_account = transfer.to;
  invoke.amount_cents = transfer.amount_cents;
}

backend::AttemptResult BankWorkload::execute(pqxx::connection_base& connection, const backend::Attempt& attempt,
                                             const common::StopSource& stop) const {
  const Transfer transfer = draw_transfer(seed_, attempt.op, options_.accounts);
  backend::AttemptResult result;
  bool commit_sent = false;
  try {
    TransferAttempt tx(options_, connection, attempt, transfer, stop);
    const pqxx::row row = options_.batched() ? tx.up_to_the_ledger_row_at_once() : tx.up_to_the_ledger_row();
    result.txid = row[0].as<std::int64_t>();
    result.commit_lsn = row[1].as<std::int64_t>();
    tx.stop_if_requested();
    attempt.warnings->take();  // only what COMMIT itself brings counts
    commit_sent = true;
    tx.commit();
    result.commit_warning = attempt.warnings->take();
    result.ok = true;
  } catch (const Interrupted&) {
    // Stopping between statements: recorded as a cancelled attempt, which definitely did not commit.
    result.error = backend::ErrorFacts{.sqlstate = "57014", .message = "run interrupted before COMMIT"};
  } catch (const std::exception& error) {
    result.error = backend::error_facts(error, commit_sent);
    // Our own statement unknown to the server that ran it: a pooler gave this transaction another server connection.
    if ((result.error->sqlstate == "26000" || result.error->sqlstate == "42P05") && options_.prepared_statements)
      result.error->message += kPoolerHint;
  }
  return result;
}

int BankWorkload::committed_attempt(pqxx::connection_base& connection, std::int64_t run_id, std::int64_t op) const {
  pqxx::nontransaction tx(connection);
  const auto rows = options_.prepared_statements ? tx.exec_prepared("find_op", run_id, op)
                                                 : tx.exec_params(kFindOp, run_id, op);
  return rows.empty() ? 0 : rows[0][0].as<int>();
}

}  // namespace pgchaos::bank
