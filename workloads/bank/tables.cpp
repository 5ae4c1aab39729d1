// The bank's tables in schema pgchaos (accounts, ledger) and how a node's state is read from them.
#include <fmt/format.h>

#include <pqxx/pqxx>

#include "workloads/bank/bank.h"

namespace pgchaos::bank {

std::vector<std::string> BankWorkload::own_relations() const {
  return {"accounts", "accounts_pkey", "ledger", "ledger_pkey"};
}

std::vector<std::string> BankWorkload::tables() const { return {"pgchaos.ledger", "pgchaos.accounts"}; }

void BankWorkload::create_tables(pqxx::transaction_base& tx) const {
  tx.exec(
      "CREATE TABLE pgchaos.accounts (id int PRIMARY KEY, user_name varchar(128) NOT NULL, "
      "balance numeric(16,2) NOT NULL)");
  tx.exec(
      "CREATE TABLE pgchaos.ledger (run_id bigint NOT NULL, op_id bigint NOT NULL, attempt int NOT NULL, "
      "from_account int NOT NULL, to_account int NOT NULL, amount numeric(16,2) NOT NULL, worker int NOT NULL, "
      "txid bigint NOT NULL DEFAULT txid_current(), committed_at timestamptz NOT NULL DEFAULT now(), "
      "CONSTRAINT ledger_pkey PRIMARY KEY (run_id, op_id))");
  tx.exec(fmt::format(
      "INSERT INTO pgchaos.accounts SELECT i, 'user_' || i, 100 FROM generate_series(1, {}) AS i", options_.accounts));
}

void BankWorkload::check_existing_tables(pqxx::transaction_base& tx) const {
  const bool exist =
      tx.exec1("SELECT to_regclass('pgchaos.accounts') IS NOT NULL AND to_regclass('pgchaos.ledger') IS NOT NULL")[0]
          .as<bool>();
  if (!exist) {
    create_tables(tx);
    return;
  }
  const auto existing = tx.exec1("SELECT count(*) FROM pgchaos.accounts")[0].as<int>();
  if (existing != options_.accounts)
    throw backend::BackendError(fmt::format(
        "pgchaos.accounts holds {} accounts but this run asks for {}; run with --reset to recreate "
        "pgchaos's tables (this discards earlier runs' ledger)",
        existing, options_.accounts));
}

// Accounts, then the ledger in (run, op) order through a cursor, so that not even libpq holds a night's ledger whole.
void BankWorkload::read_state(pqxx::transaction_base& tx, history::Snapshot& s,
                              const std::function<void(const history::LedgerRow&)>& add_row) const {
  for (const auto& row : tx.exec("SELECT id, (balance * 100)::bigint FROM pgchaos.accounts ORDER BY id"))
    s.accounts.push_back({row[0].as<int>(), row[1].as<std::int64_t>()});
  tx.exec("DECLARE pgchaos_ledger NO SCROLL CURSOR FOR SELECT run_id, op_id, attempt, worker, from_account, "
          "to_account, (amount * 100)::bigint, txid FROM pgchaos.ledger ORDER BY run_id, op_id");
  for (;;) {
    const auto batch = tx.exec("FETCH FORWARD 20000 FROM pgchaos_ledger");
    if (batch.empty()) break;
    for (const auto& row : batch) {
      history::LedgerRow r;
      r.run_id = row[0].as<std::int32_t>();
      r.op_id = row[1].as<std::int64_t>();
      r.attempt = row[2].as<std::int32_t>();
      r.worker = row[3].as<std::int32_t>();
      r.from_account = row[4].as<std::int32_t>();
      r.to_account = row[5].as<std::int32_t>();
      r.amount_cents = row[6].as<std::int32_t>();
      r.txid = row[7].as<std::int64_t>();
      add_row(r);
    }
  }
}

}  // namespace pgchaos::bank
