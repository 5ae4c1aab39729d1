#include <gtest/gtest.h>

#include <pqxx/except>

#include "backend/cluster_reader.h"
#include "backend/errors.h"

namespace pgchaos::backend {
namespace {

struct Row {
  const char* sqlstate;
  bool broken, in_doubt, commit_sent;
  const char* message;
  ErrorAction action;
  ErrorKind kind;
};

class ClassificationTable : public ::testing::TestWithParam<Row> {};

TEST_P(ClassificationTable, Classifies) {
  const Row& row = GetParam();
  ErrorFacts facts;
  facts.sqlstate = row.sqlstate;
  facts.broken_connection = row.broken;
  facts.in_doubt = row.in_doubt;
  facts.commit_sent = row.commit_sent;
  facts.message = row.message;
  const Classification c = classify_error(facts);
  EXPECT_EQ(static_cast<int>(c.action), static_cast<int>(row.action)) << row.sqlstate << " " << row.message;
  EXPECT_STREQ(to_string(c.kind), to_string(row.kind));
}

using A = ErrorAction;
using K = ErrorKind;
INSTANTIATE_TEST_SUITE_P(
    Table, ClassificationTable,
    ::testing::Values(
        Row{"40P01", false, false, false, "deadlock detected", A::retry_op, K::deadlock},
        Row{"40001", false, false, false, "could not serialize", A::retry_op, K::serialization},
        Row{"40001", false, false, true, "could not serialize at commit", A::retry_op, K::serialization},
        Row{"25006", false, false, false, "read-only transaction", A::rotate_host, K::read_only},
        Row{"57P01", false, false, false, "terminating connection due to administrator command", A::reconnect,
            K::admin_shutdown},
        Row{"57P02", false, false, false, "crash shutdown", A::reconnect, K::crash_shutdown},
        Row{"57P03", false, false, false, "the database system is starting up", A::reconnect,
            K::cannot_connect_now},
        Row{"57014", false, false, false, "canceling statement due to user request", A::reconnect,
            K::query_cancelled},
        Row{"08006", false, false, false, "connection failure", A::reconnect, K::connection},
        Row{"08001", false, false, false, "could not connect", A::reconnect, K::connection},
        Row{"", true, false, false, "server closed the connection unexpectedly", A::reconnect, K::connection},
        Row{"53300", false, false, false, "too many clients", A::reconnect, K::too_many_connections},
        // Once COMMIT is in flight a lost connection leaves the outcome unknown, whatever the SQLSTATE says.
        Row{"", true, false, true, "server closed the connection unexpectedly", A::unknown_outcome, K::connection},
        Row{"57P01", false, false, true, "terminating connection", A::unknown_outcome, K::connection},
        Row{"08006", false, false, true, "connection failure", A::unknown_outcome, K::connection},
        Row{"", false, true, true, "in doubt", A::unknown_outcome, K::in_doubt},
        Row{"", false, true, false, "in doubt", A::unknown_outcome, K::in_doubt},
        Row{"23505", false, false, false,
            "duplicate key value violates unique constraint \"ledger_pkey\"", A::already_committed,
            K::duplicate_op},
        Row{"23505", false, false, false, "duplicate key value violates unique constraint \"other_key\"",
            A::fatal, K::fatal},
        Row{"42P01", false, false, false, "relation does not exist", A::fatal, K::fatal},
        Row{"42501", false, false, false, "permission denied", A::fatal, K::fatal},
        Row{"XX000", false, false, false, "internal error", A::reconnect, K::other},
        Row{"53100", false, false, false, "disk full", A::reconnect, K::other}));

TEST(ErrorFacts, ReadsLibpqxxExceptionTypes) {
  const ErrorFacts deadlock = error_facts(pqxx::deadlock_detected("deadlock detected"), false);
  EXPECT_EQ(deadlock.sqlstate, "40P01") << "libpqxx 6.4's deadlock_detected carries no SQLSTATE of its own";
  EXPECT_FALSE(deadlock.broken_connection);
  EXPECT_FALSE(deadlock.in_doubt);
  EXPECT_EQ(classify_error(deadlock).kind, ErrorKind::deadlock);
  EXPECT_EQ(error_facts(pqxx::serialization_failure("could not serialize"), false).sqlstate, "40001");
  EXPECT_EQ(classify_error(error_facts(pqxx::too_many_connections("too many"), false)).kind,
            ErrorKind::too_many_connections);

  const ErrorFacts sql = error_facts(pqxx::sql_error("read-only", "UPDATE", "25006"), false);
  EXPECT_EQ(sql.sqlstate, "25006");
  EXPECT_EQ(classify_error(sql).action, ErrorAction::rotate_host);

  const ErrorFacts broken = error_facts(pqxx::broken_connection("gone"), true);
  EXPECT_TRUE(broken.broken_connection);
  EXPECT_EQ(classify_error(broken).action, ErrorAction::unknown_outcome);

  const ErrorFacts doubt = error_facts(pqxx::in_doubt_error("commit in doubt"), true);
  EXPECT_TRUE(doubt.in_doubt);
  EXPECT_EQ(classify_error(doubt).kind, ErrorKind::in_doubt);

  const ErrorFacts unique = error_facts(
      pqxx::unique_violation("duplicate key value violates unique constraint \"ledger_pkey\"", "INSERT", "23505"),
      false);
  EXPECT_EQ(classify_error(unique).action, ErrorAction::already_committed);
}

TEST(MaskPassword, HidesPasswordsInUrisAndConninfo) {
  EXPECT_EQ(mask_password("postgresql://bank:s3cret@10.0.0.1:5432/db"), "postgresql://bank:***@10.0.0.1:5432/db");
  EXPECT_EQ(mask_password("postgresql://bank@h/db?password=s3cret&sslmode=off"),
            "postgresql://bank@h/db?password=***&sslmode=off");
  EXPECT_EQ(mask_password("host=h user=u password=s3cret dbname=d"), "host=h user=u password=*** dbname=d");
  EXPECT_EQ(mask_password("host=h password='a b\\'c' dbname=d"), "host=h password=*** dbname=d");
  EXPECT_EQ(mask_password("host=h dbname=d"), "host=h dbname=d");
}

}  // namespace
}  // namespace pgchaos::backend
