// The real Remote: libssh with key authentication and host keys verified against known_hosts.
#include <libssh/libssh.h>

#include <thread>

#include "faults/remote.h"

namespace pgchaos::faults {
namespace {

class SshRemote : public Remote {
 public:
  explicit SshRemote(SshOptions options) : options_(std::move(options)) {}
  ~SshRemote() override { disconnect(); }

  CommandResult execute(const Command& command, std::chrono::seconds timeout) override {
    try {
      return run(command, timeout);
    } catch (const FaultError&) {
      // A node that rebooted broke the session: one fresh connection is tried before giving up.
      disconnect();
      return run(command, timeout);
    }
  }

 private:
  std::string where() const { return options_.user + "@" + options_.host + ":" + std::to_string(options_.port); }

  void disconnect() {
    if (session_ != nullptr) {
      ssh_disconnect(session_);
      ssh_free(session_);
      session_ = nullptr;
    }
  }

  void connect() {
    if (session_ != nullptr && ssh_is_connected(session_)) return;
    disconnect();
    session_ = ssh_new();
    if (session_ == nullptr) throw FaultError("libssh: cannot allocate a session");
    const long timeout = options_.connect_timeout.count();
    const int port = options_.port;
    const int no = 0;
    ssh_options_set(session_, SSH_OPTIONS_HOST, options_.host.c_str());
    ssh_options_set(session_, SSH_OPTIONS_PORT, &port);
    ssh_options_set(session_, SSH_OPTIONS_USER, options_.user.c_str());
    ssh_options_set(session_, SSH_OPTIONS_TIMEOUT, &timeout);
    ssh_options_set(session_, SSH_OPTIONS_PROCESS_CONFIG, &no);  // ~/.ssh/config must not change what we verify
    if (!options_.known_hosts.empty()) ssh_options_set(session_, SSH_OPTIONS_KNOWNHOSTS, options_.known_hosts.c_str());
    if (ssh_connect(session_) != SSH_OK) fail("cannot connect");
    verify_host_key();
    authenticate();
  }

  void verify_host_key() {
    switch (ssh_session_is_known_server(session_)) {
      case SSH_KNOWN_HOSTS_OK: return;
      case SSH_KNOWN_HOSTS_CHANGED:
      case SSH_KNOWN_HOSTS_OTHER:
        fail("host key CHANGED or of another type than known_hosts says: refused (possible man-in-the-middle; fix " +
             (options_.known_hosts.empty() ? std::string("~/.ssh/known_hosts") : options_.known_hosts) + ")");
      case SSH_KNOWN_HOSTS_UNKNOWN:
      case SSH_KNOWN_HOSTS_NOT_FOUND:
        if (!options_.accept_new_host_keys)
          fail("host key unknown to " + (options_.known_hosts.empty() ? std::string("~/.ssh/known_hosts") : options_.known_hosts) +
               ": refused (add it, or pass --accept-new-host-keys)");
        if (ssh_session_update_known_hosts(session_) != SSH_OK) fail("cannot record the new host key");
        return;
      case SSH_KNOWN_HOSTS_ERROR: fail("cannot check the host key");
    }
  }

  void authenticate() {
    int rc = SSH_AUTH_DENIED;
    if (!options_.key_file.empty()) {
      ssh_key key = nullptr;
      if (ssh_pki_import_privkey_file(options_.key_file.c_str(), nullptr, nullptr, nullptr, &key) != SSH_OK)
        fail("cannot read the key file " + options_.key_file);
      rc = ssh_userauth_publickey(session_, nullptr, key);
      ssh_key_free(key);
    } else {
      rc = ssh_userauth_agent(session_, nullptr);
    }
    if (rc != SSH_AUTH_SUCCESS) fail("key authentication refused");
  }

  [[noreturn]] void fail(const std::string& what) {
    std::string detail = session_ != nullptr ? ssh_get_error(session_) : "";
    disconnect();
    throw FaultError("ssh " + where() + ": " + what + (detail.empty() ? "" : " (" + detail + ")"));
  }

  CommandResult run(const Command& command, std::chrono::seconds timeout) {
    connect();
    ssh_channel channel = ssh_channel_new(session_);
    if (channel == nullptr) fail("cannot open a channel");
    // ssh_free() of the session frees its channels too: the channel is released here only while the session
    // lives (fail() and disconnect() end the session, and with it the channel).
    struct Closer {
      SshRemote& owner;
      ssh_channel c;
      ~Closer() {
        if (owner.session_ == nullptr) return;
        ssh_channel_close(c);
        ssh_channel_free(c);
      }
    } closer{*this, channel};
    if (ssh_channel_open_session(channel) != SSH_OK) fail("cannot open a session channel");
    if (ssh_channel_request_exec(channel, command.shell().c_str()) != SSH_OK) fail("cannot start the command");
    CommandResult result;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    char buffer[4096];
    while (!ssh_channel_is_eof(channel)) {
      if (std::chrono::steady_clock::now() > deadline) {
        result.err += "\n(pgchaos: command timed out after " + std::to_string(timeout.count()) + " s)";
        return result;
      }
      bool read_any = false;
      for (const int is_stderr : {0, 1}) {
        const int n = ssh_channel_read_timeout(channel, buffer, sizeof buffer, is_stderr, 100);
        if (n == SSH_ERROR) {
          disconnect();  // the node went away mid-command (a reboot): no exit status
          return result;
        }
        if (n > 0) {
          (is_stderr ? result.err : result.out).append(buffer, static_cast<std::size_t>(n));
          read_any = true;
        }
      }
      if (!read_any && !ssh_channel_is_open(channel)) break;
    }
    result.exit_status = ssh_channel_get_exit_status(channel);
    return result;
  }

  SshOptions options_;
  ssh_session session_ = nullptr;
};

}  // namespace

std::unique_ptr<Remote> make_ssh_remote(const SshOptions& options) { return std::make_unique<SshRemote>(options); }

}  // namespace pgchaos::faults
