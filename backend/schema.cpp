// Schema pgchaos: the only place pgchaos writes. It refuses to work in a schema it did not create and never
// drops anything but its own tables: the runs, the write probe's row and the workload's tables.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <pqxx/pqxx>
#include <set>

#include "backend/cluster_reader.h"
#include "session.h"

namespace pgchaos::backend {
namespace {

constexpr const char* kSchemaMarker = "created by pgchaos; holds only pgchaos's own tables";
// What pgchaos itself creates in its schema, whatever the workload.
const std::set<std::string> kHarnessRelations = {"runs", "runs_pkey", "runs_id_seq", "probe", "probe_pkey"};

// Lists what in schema pgchaos was not made by pgchaos.
std::vector<std::string> foreign_objects(pqxx::work& tx, const std::set<std::string>& own) {
  std::vector<std::string> found;
  for (const auto& row : tx.exec(
           "SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'pgchaos'::regnamespace "
           "UNION ALL SELECT p.proname || '()' FROM pg_proc p WHERE p.pronamespace = 'pgchaos'::regnamespace "
           "UNION ALL SELECT t.typname FROM pg_type t WHERE t.typnamespace = 'pgchaos'::regnamespace "
           "  AND t.typrelid = 0 AND t.typelem = 0 ORDER BY 1")) {
    const auto name = row[0].as<std::string>();
    if (own.count(name) == 0) found.push_back(name);
  }
  return found;
}

}  // namespace

std::int64_t prepare_schema(const WorkloadConfig& config, const Workload& workload,
                            const std::vector<const Workload*>& others) {
  if (config.dsns.empty()) throw BackendError("no database given: set [databases] in the configuration or --dsn");
  std::set<std::string> own = kHarnessRelations;
  for (auto& name : workload.own_relations()) own.insert(std::move(name));
  for (const auto* other : others)
    for (auto& name : other->own_relations()) own.insert(std::move(name));
  auto connection = connect_first(config.dsns, config.application_name, true);
  try {
    pqxx::work tx(*connection);
    tx.exec("SELECT pg_advisory_xact_lock(hashtext('pgchaos.schema'))");
    const auto schema = tx.exec(
        "SELECT coalesce(obj_description(oid, 'pg_namespace'), '') FROM pg_namespace WHERE nspname = 'pgchaos'");
    if (schema.empty()) {
      tx.exec("CREATE SCHEMA pgchaos");
      tx.exec(fmt::format("COMMENT ON SCHEMA pgchaos IS {}", tx.quote(kSchemaMarker)));
    } else if (schema[0][0].as<std::string>() != kSchemaMarker) {
      throw BackendError(
          "schema \"pgchaos\" exists but was not created by pgchaos (its comment is not pgchaos's marker); "
          "pgchaos will not write into it. Rename or drop it yourself, or use another database.");
    } else if (const auto foreign = foreign_objects(tx, own); !foreign.empty()) {
      std::string names;
      for (const auto& n : foreign) names += (names.empty() ? "" : ", ") + n;
      throw BackendError("schema \"pgchaos\" holds objects pgchaos did not create (" + names +
                         "); pgchaos will not touch it. Move them elsewhere first.");
    }

    const bool runs_exist = tx.exec1("SELECT to_regclass('pgchaos.runs') IS NOT NULL")[0].as<bool>();
    if (config.reset || !runs_exist) {
      // Only our own tables, each named: nothing outside the schema, nothing we did not create.
      std::string tables = "pgchaos.runs, pgchaos.probe";
      for (const auto& table : workload.tables()) tables += ", " + table;
      for (const auto* other : others)
        for (const auto& table : other->tables()) tables += ", " + table;
      tx.exec("DROP TABLE IF EXISTS " + tables);
      tx.exec(
          "CREATE TABLE pgchaos.runs (id bigserial PRIMARY KEY, started_at timestamptz NOT NULL DEFAULT now(), "
          "seed bigint NOT NULL, accounts int NOT NULL, application_name text NOT NULL)");
      workload.create_tables(tx);
    } else {
      workload.check_existing_tables(tx);
    }
    // The write probe's one row (watcher/): created by schemas of earlier versions on their next run.
    tx.exec("CREATE TABLE IF NOT EXISTS pgchaos.probe (id int PRIMARY KEY, beats bigint NOT NULL, at timestamptz)");
    tx.exec("INSERT INTO pgchaos.probe VALUES (1, 0, now()) ON CONFLICT (id) DO NOTHING");
    const auto run_id =
        tx.exec1(fmt::format("INSERT INTO pgchaos.runs (seed, accounts, application_name) VALUES ({}, {}, {}) "
                             "RETURNING id",
                             static_cast<std::int64_t>(config.seed), workload.keys(),
                             tx.quote(config.application_name)))[0]
            .as<std::int64_t>();
    tx.commit();
    return run_id;
  } catch (const pqxx::failure& error) {
    throw BackendError(std::string("preparing schema pgchaos failed: ") + error.what());
  }
}

}  // namespace pgchaos::backend
