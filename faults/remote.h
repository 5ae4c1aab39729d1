// Running commands on nodes: a command as data (an argv, quoted once), and the Remote that runs it (libssh, or
// a fake in tests). The only part of pgchaos that includes <libssh/...> is its implementation.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace pgchaos::faults {

/// I/O failures: SSH, HTTP, a node that cannot be reached. Messages name the node.
struct FaultError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// A command as data: an argv. shell() quotes every element, once, for the remote shell.
struct Command {
  std::vector<std::string> argv;
  std::string shell() const;
};
/// Splits a template into words (whitespace; '...' and "..." group), then replaces {name} placeholders in each
/// word from `values`; a word that is exactly {name} with a list value becomes several words. Values never
/// split or re-quote: they stay inside their word. Throws FaultError for an unknown placeholder.
Command expand(const std::string& command_template, const std::map<std::string, std::vector<std::string>>& values);

struct CommandResult {
  int exit_status = -1;  ///< -1: the connection ended before an exit status (expected for reboot and crash)
  std::string out, err;
};

/// Why a command failed, in its own words: the lines of its output (stderr first) that are not patronictl's
/// topology table ("Current cluster topology" and its +---/| rows) nor blank, joined by " / " — e.g. Patroni's
/// "Switchover failed, details: 412, candidate name does not match with sync_standby". The output's last line
/// when nothing else is left; empty for no output.
std::string failure_text(const CommandResult& result);

/// Runs commands on one node. Implementations are not thread-safe; one Remote per node.
class Remote {
 public:
  virtual ~Remote() = default;
  /// Throws FaultError when the node cannot be reached (connect, authentication, host key).
  virtual CommandResult execute(const Command& command, std::chrono::seconds timeout) = 0;
};

struct SshOptions {
  std::string host;
  int port = 22;
  std::string user = "root";
  std::string key_file;      ///< empty: the SSH agent
  std::string known_hosts;   ///< empty: ~/.ssh/known_hosts
  bool accept_new_host_keys = false;  ///< an unknown key is added; a changed key is refused regardless
  std::chrono::seconds connect_timeout{5};
};
/// libssh: key authentication, host keys verified against known_hosts, one session reused (and reopened after
/// a reboot broke it).
std::unique_ptr<Remote> make_ssh_remote(const SshOptions& options);

}  // namespace pgchaos::faults
