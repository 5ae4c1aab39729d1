// The list-append workload: transactions of reads and appends on a few keys in pgchaos's schema, drawn from the
// seed, a statement per micro-operation (batched up to each read), at the isolation level asked for.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <pqxx/pqxx>
#include <stdexcept>

#include "common/splitmix64.h"
#include "workloads/append/append.h"
#include "pg_array.h"

namespace pgchaos::append {
namespace {

constexpr int kMaxOps = 4;  // micro-operations in a transaction: 1..4

// A read of a key that was never appended to is the empty list: no row.
constexpr const char* kRead = "SELECT elements FROM pgchaos.append_lists WHERE run_id = $1 AND key = $2";
constexpr const char* kAppend =
    "INSERT INTO pgchaos.append_lists AS l (run_id, key, elements) VALUES ($1, $2, ARRAY[$3::bigint]) "
    "ON CONFLICT (run_id, key) DO UPDATE SET elements = l.elements || $3::bigint";
constexpr const char* kRecord =
    "INSERT INTO pgchaos.append_ledger (run_id, op_id, attempt, worker) VALUES ($1, $2, $3, $4) "
    "RETURNING txid, (pg_current_wal_insert_lsn() - '0/0')::bigint";
constexpr const char* kFindOp = "SELECT attempt FROM pgchaos.append_ledger WHERE run_id = $1 AND op_id = $2";

const char* begin_statement(const std::string& isolation) {
  if (isolation == "repeatable-read") return "BEGIN ISOLATION LEVEL REPEATABLE READ";
  if (isolation == "read-committed") return "BEGIN ISOLATION LEVEL READ COMMITTED";
  return "BEGIN ISOLATION LEVEL SERIALIZABLE";
}

struct Interrupted {};

}  // namespace

bool valid_isolation(std::string_view level) {
  return level == "serializable" || level == "repeatable-read" || level == "read-committed";
}

AppendWorkload::AppendWorkload(AppendOptions options, std::uint64_t seed) : options_(std::move(options)), seed_(seed) {
  if (!valid_isolation(options_.isolation))
    throw backend::BackendError("isolation must be serializable, repeatable-read or read-committed, not " + options_.isolation);
  if (options_.active_keys < 1) throw backend::BackendError("the list-append workload needs at least 1 active key");
  if (options_.appends_per_key < 1) throw backend::BackendError("appends per key must be at least 1");
}

// Keys come in generations of `active_keys`: a generation lasts as many ops as give each of its keys about
// `appends_per_key` appends (1.25 appends an op on average), then the next generation's keys take over, so no list
// grows without bound and reads stay cheap.
std::vector<MicroOp> AppendWorkload::draw(std::int64_t op) const {
  std::uint64_t r = common::splitmix64(seed_ ^ common::splitmix64(static_cast<std::uint64_t>(op) ^ 0x6170706eULL));
  const auto next = [&r] { return r = common::splitmix64(r); };
  const std::int64_t ops_per_generation =
      std::max<std::int64_t>(1, static_cast<std::int64_t>(options_.active_keys) * options_.appends_per_key * 4 / 5);
  const std::int64_t generation = (op - 1) / ops_per_generation;
  const int n = 1 + static_cast<int>(next() % kMaxOps);
  std::vector<MicroOp> ops(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    auto& m = ops[static_cast<std::size_t>(i)];
    m.kind = next() % 2 == 0 ? MicroOp::Kind::read : MicroOp::Kind::append;
    m.key = generation * options_.active_keys + static_cast<std::int64_t>(next() % static_cast<std::uint64_t>(options_.active_keys));
    if (m.kind == MicroOp::Kind::append) m.value = op * kMaxOps + i;  // unique in the run, the same on every attempt
  }
  // A transaction's appends lock their keys' rows in ascending key order, so that two transactions never wait for
  // each other's rows (each such deadlock costs deadlock_timeout, a second by default); reads stay where they were.
  std::vector<std::int64_t> append_keys;
  for (const auto& m : ops)
    if (m.kind == MicroOp::Kind::append) append_keys.push_back(m.key);
  std::sort(append_keys.begin(), append_keys.end());
  auto key = append_keys.begin();
  for (auto& m : ops)
    if (m.kind == MicroOp::Kind::append) m.key = *key++;
  return ops;
}

std::vector<std::string> AppendWorkload::own_relations() const {
  return {"append_lists", "append_lists_pkey", "append_ledger", "append_ledger_pkey"};
}

std::vector<std::string> AppendWorkload::tables() const { return {"pgchaos.append_ledger", "pgchaos.append_lists"}; }

void AppendWorkload::create_tables(pqxx::transaction_base& tx) const {
  tx.exec("CREATE TABLE pgchaos.append_lists (run_id bigint NOT NULL, key bigint NOT NULL, elements bigint[] NOT NULL, "
          "CONSTRAINT append_lists_pkey PRIMARY KEY (run_id, key))");
  tx.exec("CREATE TABLE pgchaos.append_ledger (run_id bigint NOT NULL, op_id bigint NOT NULL, attempt int NOT NULL, "
          "worker int NOT NULL, txid bigint NOT NULL DEFAULT txid_current(), "
          "CONSTRAINT append_ledger_pkey PRIMARY KEY (run_id, op_id))");
}

void AppendWorkload::check_existing_tables(pqxx::transaction_base& tx) const {
  const bool exist = tx.exec1("SELECT to_regclass('pgchaos.append_lists') IS NOT NULL AND "
                              "to_regclass('pgchaos.append_ledger') IS NOT NULL")[0]
                         .as<bool>();
  if (!exist) create_tables(tx);
}

void AppendWorkload::prepare_connection(pqxx::connection_base& connection) const {
  if (!options_.prepared_statements) return;
  connection.prepare("append_find_op", kFindOp);
  // The batches EXECUTE these (SQL-level, prepared once a connection, so the server plans them once).
  std::string prepare;
  for (const auto& [name, sql] : {std::pair{"read", kRead}, std::pair{"append", kAppend}, std::pair{"record", kRecord}})
    prepare += fmt::format("PREPARE pgchaos_append_{} AS {};", name, sql);
  try {
    pqxx::nontransaction(connection).exec0(prepare);
  } catch (const pqxx::sql_error& error) {
    // A new PostgreSQL session has no prepared statement: one that has ours is shared, through a pooler.
    if (error.sqlstate() == "42P05")
      throw backend::WorkloadSetupError(std::string(error.what()) + " (a pooler in transaction mode is in the path: run "
                                                                   "with --no-prepared-statements)");
    throw;
  }
}

void AppendWorkload::describe(std::int64_t op, history::Event& invoke) const { invoke.txn = format_ops(draw(op)); }

// Statements go in batches, one round trip each (the simple protocol runs a batch's statements in order and stops at
// the first error): BEGIN and the appends with whatever comes next, up to and including a read, whose list is the
// batch's result; the last batch ends with the record row. COMMIT goes alone, so that an error before it is a sure
// failure. Every value is an integer of ours: written in, no quoting needed.
backend::AttemptResult AppendWorkload::execute(pqxx::connection_base& connection, const backend::Attempt& attempt,
                                               const common::StopSource& stop) const {
  auto ops = draw(attempt.op);
  backend::AttemptResult result;
  bool commit_sent = false;
  const bool prepared = options_.prepared_statements;
  auto statement = [&](const char* name, const char* sql, std::initializer_list<std::int64_t> values) {
    if (prepared) return fmt::format("EXECUTE pgchaos_append_{}({})", name, fmt::join(values, ", "));
    std::string text;
    const std::vector<std::int64_t> v(values);
    for (const char* c = sql; *c != '\0'; ++c) {
      if (*c == '$' && c[1] >= '1' && c[1] <= '9') text += std::to_string(v.at(static_cast<std::size_t>(*++c - '1')));
      else text += *c;
    }
    return text;
  };
  try {
    pqxx::nontransaction tx(connection);
    std::string batch = begin_statement(options_.isolation);
    for (auto& op : ops) {
      if (op.kind == MicroOp::Kind::append) {
        batch += ";" + statement("append", kAppend, {attempt.run_id, op.key, op.value});
        continue;
      }
      batch += ";" + statement("read", kRead, {attempt.run_id, op.key});
      if (stop.requested()) throw Interrupted();
      const auto rows = tx.exec(batch);
      batch.clear();
      op.read = rows.empty() ? std::vector<std::int64_t>{} : parse_array(rows[0][0].c_str());
    }
    batch += (batch.empty() ? "" : ";") + statement("record", kRecord, {attempt.run_id, attempt.op, attempt.attempt, attempt.worker});
    if (stop.requested()) throw Interrupted();
    const auto record = tx.exec(batch);
    if (record.size() != 1) throw pqxx::unexpected_rows("the record row did not come back");
    result.txid = record[0][0].as<std::int64_t>();
    result.commit_lsn = record[0][1].as<std::int64_t>();
    if (stop.requested()) throw Interrupted();
    attempt.warnings->take();  // only what COMMIT itself brings counts
    commit_sent = true;
    tx.exec0("COMMIT");
    result.commit_warning = attempt.warnings->take();
    result.txn = format_ops(ops);
    result.ok = true;
  } catch (const Interrupted&) {
    result.error = backend::ErrorFacts{.sqlstate = "57014", .message = "run interrupted before COMMIT"};
  } catch (const std::exception& error) {
    result.error = backend::error_facts(error, commit_sent);
  }
  return result;
}

int AppendWorkload::committed_attempt(pqxx::connection_base& connection, std::int64_t run_id, std::int64_t op) const {
  pqxx::nontransaction tx(connection);
  const auto rows = options_.prepared_statements ? tx.exec_prepared("append_find_op", run_id, op)
                                                 : tx.exec_params(kFindOp, run_id, op);
  return rows.empty() ? 0 : rows[0][0].as<int>();
}

// The run's lists (only the run's: earlier runs' lists stay in the table), then every run's record rows in (run, op)
// order through a cursor, as the bank's ledger.
void AppendWorkload::read_state(pqxx::transaction_base& tx, history::Snapshot& s,
                                const std::function<void(const history::LedgerRow&)>& add_row) const {
  const std::string run = options_.state_run > 0 ? std::to_string(options_.state_run)
                                                 : "(SELECT max(run_id) FROM pgchaos.append_ledger)";
  for (const auto& row : tx.exec("SELECT key, elements::text FROM pgchaos.append_lists WHERE run_id = " + run +
                                 " ORDER BY key"))
    s.lists.push_back({row[0].as<std::int64_t>(), parse_array(row[1].c_str())});
  tx.exec("DECLARE pgchaos_append_ledger NO SCROLL CURSOR FOR SELECT run_id, op_id, attempt, worker, txid "
          "FROM pgchaos.append_ledger ORDER BY run_id, op_id");
  for (;;) {
    const auto batch = tx.exec("FETCH FORWARD 20000 FROM pgchaos_append_ledger");
    if (batch.empty()) break;
    for (const auto& row : batch) {
      history::LedgerRow r;
      r.run_id = row[0].as<std::int32_t>();
      r.op_id = row[1].as<std::int64_t>();
      r.attempt = row[2].as<std::int32_t>();
      r.worker = row[3].as<std::int32_t>();
      r.txid = row[4].as<std::int64_t>();
      add_row(r);
    }
  }
}

}  // namespace pgchaos::append
