// A real pgbouncer (Debian 12's 1.18) for integration tests, in front of a PostgresServer: transaction pooling on
// a free port of 127.0.0.1, its files in a temporary directory, stopped when the object dies.
#pragma once

#include <filesystem>
#include <string>

#include "tests/support/postgres_server.h"

namespace pgchaos::testing {

class PgBouncer {
 public:
  /// Transaction pooling with at most `pool_size` server connections: fewer than the workers, so that
  /// transactions of one client land on different server connections.
  explicit PgBouncer(const PostgresServer& server, int pool_size = 3);
  ~PgBouncer();
  PgBouncer(const PgBouncer&) = delete;
  PgBouncer& operator=(const PgBouncer&) = delete;

  /// libpq conninfo through pgbouncer (user postgres, database postgres).
  std::string dsn() const;
  /// SIGKILL: every client and server connection drops at once, as when its host fails.
  void kill();
  /// Starts it again on the same port (after kill()).
  void start();

 private:
  std::filesystem::path dir_;
  int port_ = 0;
};

}  // namespace pgchaos::testing
