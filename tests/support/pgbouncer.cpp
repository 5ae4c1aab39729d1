#include "tests/support/pgbouncer.h"

#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <stdexcept>
#include <thread>

namespace pgchaos::testing {
namespace {

// pgbouncer will not run as root: as root (CI) it runs as `postgres`, as the server does.
std::string as_bouncer_user(const std::string& command) {
  return ::geteuid() == 0 ? "setpriv --reuid=postgres --regid=postgres --init-groups " + command : command;
}

}  // namespace

PgBouncer::PgBouncer(const PostgresServer& server, int pool_size) {
  char pattern[] = "/tmp/pgchaos-pgbouncer-XXXXXX";
  if (::mkdtemp(pattern) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = pattern;
  port_ = free_port();
  std::ofstream(dir_ / "userlist.txt") << "\"postgres\" \"\"\n";
  std::ofstream(dir_ / "pgbouncer.ini")
      << "[databases]\npostgres = host=127.0.0.1 port=" << server.port() << " dbname=postgres\n"
      << "[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = " << port_ << "\nunix_socket_dir =\n"
      << "auth_type = trust\nauth_file = " << (dir_ / "userlist.txt").string() << "\npool_mode = transaction\n"
      << "default_pool_size = " << pool_size << "\nmax_client_conn = 200\n"
      << "logfile = " << (dir_ / "pgbouncer.log").string() << "\npidfile = " << (dir_ / "pgbouncer.pid").string() << "\n";
  if (::geteuid() == 0) run_shell("chown -R postgres " + shell_quote(dir_.string()));
  start();
}

PgBouncer::~PgBouncer() {
  try {
    kill();
  } catch (...) {
  }
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::string PgBouncer::dsn() const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " user=postgres dbname=postgres";
}

void PgBouncer::kill() {
  const std::string pid = slurp(dir_ / "pgbouncer.pid");
  if (pid.empty()) return;
  ::kill(std::stoi(pid), SIGKILL);
  std::filesystem::remove(dir_ / "pgbouncer.pid");
}

void PgBouncer::start() {
  // -d: daemonized once it listens; a port still held by the killed one's sockets is retried.
  for (int tries = 0;; ++tries) {
    try {
      run_shell(as_bouncer_user("pgbouncer -d " + shell_quote((dir_ / "pgbouncer.ini").string())));
      break;
    } catch (const std::exception&) {
      if (tries == 20) throw;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  for (int tries = 0; tries < 100; ++tries) {
    try {
      run_shell("psql -X -q -A -t -c 'SELECT 1' " + shell_quote(dsn()));
      return;
    } catch (const std::exception&) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  throw std::runtime_error("pgbouncer did not start: " + slurp(dir_ / "pgbouncer.log"));
}

}  // namespace pgchaos::testing
