#include "tests/support/postgres_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <pwd.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace pgchaos::testing {
namespace {

const std::string kBin = "/usr/lib/postgresql/15/bin/";

// PostgreSQL refuses to run as root: as root (CI), the server runs as the `postgres` user.
std::string as_server_user(const std::string& command) {
  if (::geteuid() != 0) return command;
  return "setpriv --reuid=postgres --regid=postgres --init-groups " + command;
}

}  // namespace

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof address;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0)
    throw std::runtime_error("no free port on 127.0.0.1");
  ::close(fd);
  return ntohs(address.sin_port);
}

std::string slurp(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string shell_quote(const std::string& value) {
  std::string quoted = "'";
  for (const char c : value) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

std::string run_shell(const std::string& command) {
  std::FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("cannot run: " + command);
  std::string output;
  std::array<char, 4096> buffer{};
  while (const std::size_t n = std::fread(buffer.data(), 1, buffer.size(), pipe)) output.append(buffer.data(), n);
  const int status = ::pclose(pipe);
  if (status != 0) throw std::runtime_error("command failed (" + std::to_string(status) + "): " + command + "\n" + output);
  return output;
}

PostgresServer::PostgresServer() { start(std::nullopt); }

PostgresServer::PostgresServer(const CertificateFiles& tls) { start(tls); }

void PostgresServer::start(const std::optional<CertificateFiles>& tls) {
  char pattern[] = "/tmp/pgchaos-pg-XXXXXX";
  if (::mkdtemp(pattern) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = pattern;
  if (::geteuid() == 0) {
    const passwd* postgres = ::getpwnam("postgres");
    if (postgres == nullptr) throw std::runtime_error("running as root needs the postgres user (postgresql package)");
    if (::chown(dir_.c_str(), postgres->pw_uid, postgres->pw_gid) != 0) throw std::runtime_error("chown failed");
  }
  run_shell(as_server_user(kBin + "initdb -A trust -U postgres -E UTF8 --no-sync -D " +
                           shell_quote((dir_ / "data").string())));
  std::string tls_options;
  if (tls) {
    // The server's own copies: PostgreSQL wants its key private to the user it runs as.
    const auto data = dir_ / "data";
    std::filesystem::copy_file(tls->certificate, data / "server.crt");
    std::filesystem::copy_file(tls->key, data / "server.key");
    std::filesystem::permissions(data / "server.key", std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    std::ofstream(data / "pg_hba.conf") << "local all all trust\nhostssl all all 127.0.0.1/32 trust\n";
    if (::geteuid() == 0) run_shell("chown postgres:postgres " + shell_quote((data / "server.crt").string()) + " " +
                                    shell_quote((data / "server.key").string()) + " " + shell_quote((data / "pg_hba.conf").string()));
    tls_options = " -c ssl=on -c ssl_cert_file=server.crt -c ssl_key_file=server.key";
  }
  std::string last_error;
  for (int tries = 0; tries < 5; ++tries) {
    port_ = free_port();
    try {
      pg_ctl("start -w -t 60 -o " +
             shell_quote("-p " + std::to_string(port_) + " -k " + dir_.string() +
                         " -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60"
                         " -c deadlock_timeout=100ms -c shared_buffers=32MB" + tls_options));
      return;
    } catch (const std::exception& error) {
      last_error = error.what();
    }
  }
  throw std::runtime_error("PostgreSQL did not start: " + last_error);
}

PostgresServer::~PostgresServer() {
  try {
    pg_ctl("stop -m immediate -w -t 30");
  } catch (...) {
  }
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::string PostgresServer::pg_ctl(const std::string& arguments) const {
  return run_shell(as_server_user(kBin + "pg_ctl -D " + shell_quote((dir_ / "data").string()) + " -l " +
                                  shell_quote((dir_ / "server.log").string()) + " " + arguments));
}

std::string PostgresServer::dsn() const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " user=postgres dbname=postgres";
}

std::string PostgresServer::psql(const std::string& sql) const {
  return run_shell("psql -X -q -A -t -v ON_ERROR_STOP=1 " + shell_quote(dsn()) + " -c " + shell_quote(sql));
}

void PostgresServer::restart_fast() const { pg_ctl("restart -m fast -w -t 60"); }

}  // namespace pgchaos::testing
