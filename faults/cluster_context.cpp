#include <fmt/format.h>
#include <fmt/ranges.h>

#include <sstream>

#include "faults/cluster.h"

namespace pgchaos::faults {

std::map<std::string, std::string> default_templates() {
  // A systemd host with Patroni, as in pg_cluster's README. [commands] in the configuration overrides any of them.
  return {
      {"switchover", "patronictl -c {patroni_config} switchover {scope} --leader {leader} --candidate {candidate} --force"},
      {"failover", "patronictl -c {patroni_config} failover {scope} --candidate {candidate} --force"},
      {"restart", "patronictl -c {patroni_config} restart {scope} {node} --force"},
      {"reboot", "shutdown -r now"},
      {"crash", "sh -c 'echo 1 > /proc/sys/kernel/sysrq; echo b > /proc/sysrq-trigger'"},
      {"stop-patroni", "systemctl stop patroni"},
      {"start-patroni", "systemctl start patroni"},
      {"terminate-backends",
       "runuser -u postgres -- psql -X -A -t -d postgres -c \"SELECT count(pg_terminate_backend(pid)) FROM "
       "pg_stat_activity WHERE application_name = {application_name_sql}\""},
      // The postmaster is found through postmaster.pid, never by process name.
      {"kill-postgres", "sh -c 'kill -KILL \"$(head -n 1 \"$1/postmaster.pid\")\"' pgchaos {data_dir}"},
      {"pause", "sh -c 'kill -STOP \"$(head -n 1 \"$1/postmaster.pid\")\"' pgchaos {data_dir}"},
      {"resume", "sh -c 'kill -CONT \"$(head -n 1 \"$1/postmaster.pid\")\"' pgchaos {data_dir}"},
      {"partition",
       "sh -c 'nft add table inet pgchaos_partition"
       " && nft \"add chain inet pgchaos_partition input { type filter hook input priority -10 ; }\""
       " && nft \"add chain inet pgchaos_partition output { type filter hook output priority -10 ; }\""
       " && for ip in \"$@\"; do nft add rule inet pgchaos_partition input ip saddr \"$ip\" drop"
       " && nft add rule inet pgchaos_partition output ip daddr \"$ip\" drop || exit 1; done' pgchaos {peers}"},
      {"heal-partition", "nft delete table inet pgchaos_partition"},
      // pgchaos's own sessions waiting for the synchronous standby, cancelled for ~2 s (new waits keep coming):
      // each such COMMIT returns with a WARNING, committed locally only. Short, so that a crash right after it
      // still finds the standby synchronous (a walsender times out after wal_sender_timeout).
      {"cancel-sync-waits",
       "sh -c 'cd / && for i in 1 2 3 4 5 6 7 8 9 10; do runuser -u postgres -- psql -X -A -t -d postgres "
       "-c \"$1\"; sleep 0.1; done' pgchaos \"SELECT count(pg_cancel_backend(pid)) FROM pg_stat_activity WHERE "
       "application_name = {application_name_sql} AND wait_event = 'SyncRep'\""},
      // A standby cut off from the WAL its peers send (their PostgreSQL port), nothing else: Patroni and etcd go
      // on, the primary's walsender counts it as streaming (and synchronous) until wal_sender_timeout; commits
      // wait. Unlike a stopped wal receiver, nothing waits in the standby's socket buffer to arrive later.
      {"block-replication",
       "sh -c 'port=$1; shift; nft add table inet pgchaos_replication"
       " && nft \"add chain inet pgchaos_replication input { type filter hook input priority -10 ; }\""
       " && for ip in \"$@\"; do nft add rule inet pgchaos_replication input ip saddr \"$ip\" tcp sport \"$port\" drop"
       " || exit 1; done' pgchaos {port} {peers}"},
      {"heal-replication", "nft delete table inet pgchaos_replication"},
      // pgbouncer as Debian's package runs it (a systemd unit, port 6432, sockets in /var/run/postgresql, postgres in
      // admin_users). PAUSE waits for the transactions in flight, then holds every new query until RESUME.
      {"restart-pgbouncer", "systemctl restart pgbouncer"},
      {"pause-pgbouncer", "runuser -u postgres -- psql -X -A -t -h /var/run/postgresql -p 6432 -d pgbouncer -c PAUSE"},
      {"resume-pgbouncer", "runuser -u postgres -- psql -X -A -t -h /var/run/postgresql -p 6432 -d pgbouncer -c RESUME"},
      // By its unit, never by process name; the unit's own Restart= may bring it back before the heal does.
      {"kill-pgbouncer", "systemctl kill --signal=SIGKILL pgbouncer"},
      {"start-pgbouncer", "systemctl start pgbouncer"},
      // Patroni frozen (SIGSTOP to its main process only: PostgreSQL, in the same unit, runs on) and etcd paused or
      // stopped, by their units.
      {"freeze-patroni", "systemctl kill --kill-whom=main --signal=SIGSTOP patroni"},
      {"thaw-patroni", "systemctl kill --kill-whom=main --signal=SIGCONT patroni"},
      {"pause-etcd", "systemctl kill --kill-whom=main --signal=SIGSTOP etcd"},
      {"resume-etcd", "systemctl kill --kill-whom=main --signal=SIGCONT etcd"},
      {"stop-etcd", "systemctl stop etcd"},
      {"start-etcd", "systemctl start etcd"},
      // The node cut off from the DCS only: etcd's client and peer ports (2379, 2380) both ways, loopback included
      // (Patroni may talk to its own member), PostgreSQL's replication untouched.
      {"cut-dcs",
       "sh -c 'nft add table inet pgchaos_dcs"
       " && nft \"add chain inet pgchaos_dcs input { type filter hook input priority -10 ; }\""
       " && nft \"add chain inet pgchaos_dcs output { type filter hook output priority -10 ; }\""
       " && for port in 2379 2380; do for hook in input output; do"
       " nft add rule inet pgchaos_dcs $hook tcp dport $port drop && nft add rule inet pgchaos_dcs $hook tcp sport $port drop"
       " || exit 1; done; done'"},
      {"heal-dcs", "nft delete table inet pgchaos_dcs"},
      // The node's own etcd member as etcd sees it (its member_id, and the leader's): targets dcs-leader, dcs-member.
      {"etcd-status", "etcdctl --endpoints=http://127.0.0.1:2379 --command-timeout=3s endpoint status -w json"},
      // A full WAL disk: one file takes what the filesystem of {wal_fill_dir} has left (fallocate: no data written),
      // a few blocks more by dd; the command fails unless less than 1 MiB is left. The file lives where PostgreSQL's
      // tools never copy it: in pg_wal (the default; pg_basebackup skips its contents) or beside it on its own disk.
      {"fill-wal-disk",
       "sh -c 'f=\"$1/pgchaos-wal-fill\"; a=$(df --output=avail -B1 \"$1\" | tail -n 1) || exit 1;"
       " fallocate -l \"$a\" \"$f\" 2>/dev/null || fallocate -l $((a - 16777216)) \"$f\" || exit 1;"
       " dd if=/dev/zero of=\"$f.rest\" bs=65536 2>/dev/null;"
       " test \"$(df --output=avail -B1 \"$1\" | tail -n 1)\" -lt 1048576 && df -h \"$1\" | tail -n 1' pgchaos {wal_fill_dir}"},
      {"free-wal-disk", "sh -c 'rm -f \"$1/pgchaos-wal-fill\" \"$1/pgchaos-wal-fill.rest\"' pgchaos {wal_fill_dir}"},
      // Checks: each exits 0 while its fault is in effect on the node (a leftover of a pgchaos that did not heal it).
      {"partitioned", "nft list table inet pgchaos_partition"},
      {"replication-blocked", "nft list table inet pgchaos_replication"},
      {"dcs-cut", "nft list table inet pgchaos_dcs"},
      {"postgres-paused",
       "sh -c 'grep -q \"^State:[[:space:]]*T\" \"/proc/$(head -n 1 \"$1/postmaster.pid\")/status\"' pgchaos {data_dir}"},
      {"patroni-frozen",
       "sh -c 'grep -q \"^State:[[:space:]]*T\" \"/proc/$(systemctl show -p MainPID --value patroni)/status\"'"},
      {"etcd-paused", "sh -c 'grep -q \"^State:[[:space:]]*T\" \"/proc/$(systemctl show -p MainPID --value etcd)/status\"'"},
      {"wal-disk-filled", "sh -c 'test -e \"$1/pgchaos-wal-fill\"' pgchaos {wal_fill_dir}"},
      {"patroni-stopped", "sh -c 'systemctl is-active patroni >/dev/null 2>&1; test $? -ne 0'"},
      // A unit stopped counts only where it is enabled: a node that never runs etcd or pgbouncer has nothing left over.
      {"etcd-stopped",
       "sh -c 'systemctl is-enabled etcd >/dev/null 2>&1 || exit 1; systemctl is-active etcd >/dev/null 2>&1; test $? -ne 0'"},
      {"pgbouncer-stopped",
       "sh -c 'systemctl is-enabled pgbouncer >/dev/null 2>&1 || exit 1; systemctl is-active pgbouncer >/dev/null 2>&1; test $? -ne 0'"},
      // Patroni's watchdog as the node's configuration sets it (no section: mode automatic), and whether the node has
      // the device.
      {"watchdog",
       "sh -c 'sed -n \"/^watchdog:/,/^[^[:space:]]/p\" \"$1\" | grep -E \"^[[:space:]]+(mode|device):\";"
       " test -e /dev/watchdog && echo \"device present\"; true' pgchaos {patroni_config}"},
      {"log-tail", "journalctl -u patroni -n 30 --no-pager"},
      // Forensics: Patroni's log (with PostgreSQL's, on a systemd host) and the control file, read as a window closes.
      // 2000 lines: without its DCS Patroni logs a traceback every loop, and 400 lines no longer held the demote that
      // began a 40 s outage.
      {"forensic-logs", "journalctl -u patroni -n 2000 --no-pager"},
      {"controldata", "sh -c 'for d in /usr/lib/postgresql/*/bin; do PATH=$d:$PATH; done; pg_controldata \"$1\"' pgchaos {data_dir}"},
      // The postmasters running for the node's data directory (by their -D argument, never by name), each with its
      // working directory ("(deleted)" when the directory was removed under it), and the pid postmaster.pid names.
      // Not `postgres -D DIR -C NAME`: it prints a setting and exits (Patroni 3.0.2 runs it before a rewind, for
      // restore_command), and was once seen as a second postmaster.
      {"postmasters",
       "sh -c 'ps -eo pid=,args= | grep -v -e \" -C \" | awk -v d=\"$1\" \"{ for (i = 2; i < NF; i++) if (\\$i == \\\"-D\\\" && \\$(i + 1) == d) print \\$1 }\""
       " | while read p; do echo \"postmaster $p $(readlink /proc/$p/cwd)\"; done;"
       " echo \"pidfile $(head -n 1 \"$1/postmaster.pid\" 2>/dev/null)\"' pgchaos {data_dir}"},
      {"list", "patronictl -c {patroni_config} list {scope} -f json"},
  };
}

Command ClusterContext::command_for(const std::string& action, const std::string& node_name,
                                    const std::map<std::string, std::vector<std::string>>& extra) const {
  const auto found = templates.find(action);
  if (found == templates.end()) throw FaultError("no command template for '" + action + "'");
  const Node* node = nullptr;
  for (const auto& n : nodes)
    if (n.name == node_name) node = &n;
  if (node == nullptr) throw FaultError("unknown node '" + node_name + "'");

  std::map<std::string, std::vector<std::string>> values = extra;
  std::string sql_literal = "'";
  for (const char c : application_name) sql_literal += c == '\'' ? std::string("''") : std::string(1, c);
  sql_literal += "'";
  values.emplace("node", std::vector<std::string>{node->name});
  values.emplace("scope", std::vector<std::string>{scope});
  values.emplace("host", std::vector<std::string>{node->postgres_host});
  values.emplace("port", std::vector<std::string>{std::to_string(node->postgres_port)});
  values.emplace("application_name", std::vector<std::string>{application_name});
  values.emplace("application_name_sql", std::vector<std::string>{sql_literal});
  for (const auto& [key, value] : node->attributes) values.emplace(key, std::vector<std::string>{value});
  // Settings may refer to the node's attributes, e.g. patroni_config = {node_dir}/patroni.yml.
  std::map<std::string, std::vector<std::string>> node_values = values;
  // A setting is one value: an empty one is an empty value, not an empty command, and one with a space (a directory
  // "/srv/wal disk") stays one word.
  for (const auto& [key, value] : settings)
    values.emplace(key, std::vector<std::string>{value.empty() ? std::string() : fmt::format("{}", fmt::join(expand(value, node_values).argv, " "))});
  // Where fill-wal-disk puts its file unless the configuration says: inside pg_wal, on its filesystem.
  if (values.count("wal_fill_dir") == 0 && values.count("data_dir") != 0)
    values.emplace("wal_fill_dir", std::vector<std::string>{values["data_dir"].front() + "/pg_wal"});
  Command command = expand(found->second, values);
  if (sudo) command.argv.insert(command.argv.begin(), {"sudo", "-n", "--"});
  return command;
}

CommandResult ClusterContext::run(const std::string& action, const std::string& node,
                                  const std::map<std::string, std::vector<std::string>>& extra) {
  return execute_on(node, command_for(action, node, extra));
}

CommandResult ClusterContext::execute_on(const std::string& node, const Command& command) {
  const auto remote = remotes.find(node);
  if (remote == remotes.end()) throw FaultError("no SSH access configured for node '" + node + "'");
  CommandResult result = remote->second->execute(command, command_timeout);
  // sudo's own refusals (sudo 1.9): "sudo: a password is required", "Sorry, user U is not allowed to execute
  // '...' as root on H.", "U is not in the sudoers file."; and a node without sudo (the shell's 127).
  const std::string first_line = result.err.substr(0, result.err.find('\n'));
  const bool refused = result.exit_status == 1 && (first_line.rfind("sudo: ", 0) == 0 || first_line.rfind("Sorry, user ", 0) == 0 ||
                                                   first_line.find("not in the sudoers file") != std::string::npos);
  const bool missing = result.exit_status == 127 && first_line.find("sudo") != std::string::npos;
  if (command.argv.size() > 3 && command.argv.front() == "sudo" && (refused || missing)) {
    const std::vector<std::string> without_sudo(command.argv.begin() + 3, command.argv.end());
    result.err = fmt::format("sudo on {} refused `{}` ({}): give the SSH user the right to run it without a password "
                             "(NOPASSWD in sudoers), or set sudo = false for a root login",
                             node, Command{without_sudo}.shell(), first_line);
  }
  return result;
}

std::string describe_watchdog(ClusterContext& cluster, const std::string& node) {
  CommandResult result;
  try {
    result = cluster.run("watchdog", node);
  } catch (const FaultError& error) {
    return std::string("an unknown watchdog (") + error.what() + ")";
  }
  if (result.exit_status != 0) return "an unknown watchdog (" + failure_text(result) + ")";
  std::string mode, device;
  bool present = false;
  std::istringstream lines(result.out);
  for (std::string line; std::getline(lines, line);) {
    const auto colon = line.find(':');
    auto value = colon == std::string::npos ? std::string() : line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t'\""));
    value.erase(value.find_last_not_of(" \t'\"\r") + 1);
    if (line.find("mode:") != std::string::npos) mode = value;
    else if (line.find("device:") != std::string::npos) device = value;
    else if (line == "device present") present = true;
  }
  // YAML reads a bare off as false.
  if (mode == "off" || mode == "false") return "no watchdog (watchdog mode off in its Patroni configuration)";
  const std::string set = mode.empty() ? "mode automatic, Patroni's default" : "mode " + mode;
  if (!device.empty() && device != "/dev/watchdog")
    return fmt::format("watchdog {} with device {} (not checked on the node)", set, device);
  return present ? fmt::format("a watchdog ({}, /dev/watchdog present)", set)
                 : fmt::format("no watchdog ({} but no /dev/watchdog on the node)", set);
}

}  // namespace pgchaos::faults
