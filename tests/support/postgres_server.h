// A real PostgreSQL 15 for integration tests: initdb into a fresh temporary directory, a free port on
// 127.0.0.1, stopped and removed when the object dies (also when the test failed).
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "tests/support/test_authority.h"

namespace pgchaos::testing {

class PostgresServer {
 public:
  PostgresServer();  ///< throws std::runtime_error with the server log when it cannot start
  /// With TLS (`tls`: its certificate and key): TCP connections without TLS are refused (hostssl only).
  explicit PostgresServer(const CertificateFiles& tls);
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  /// libpq conninfo of the superuser `postgres` over TCP.
  std::string dsn() const;
  int port() const { return port_; }
  /// Runs SQL through psql as the superuser; returns its output (unaligned, tuples only). Throws on error.
  std::string psql(const std::string& sql) const;
  /// `pg_ctl restart -m fast`: every session is disconnected, the server is back when this returns.
  void restart_fast() const;

 private:
  void start(const std::optional<CertificateFiles>& tls);
  std::string pg_ctl(const std::string& arguments) const;
  std::filesystem::path dir_;
  int port_ = 0;
};

/// A TCP port of 127.0.0.1 that nothing listens on (the kernel's pick).
int free_port();
/// Runs a shell command; returns its stdout. Throws std::runtime_error with the output when it fails.
std::string run_shell(const std::string& command);
/// A whole file as text ("" when it cannot be read).
std::string slurp(const std::filesystem::path& file);
/// Single-quotes a value for /bin/sh.
std::string shell_quote(const std::string& value);

}  // namespace pgchaos::testing
