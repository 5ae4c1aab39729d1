#include <fmt/format.h>

#include <charconv>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "app/app.h"
#include "faults/remote.h"

namespace pgchaos::app {
namespace {

// "host:port", "host" (default port) or "[v6-address]:port".
std::pair<std::string, int> host_port(const std::string& text, int default_port, const std::string& where) {
  std::string host = text, digits;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string::npos) throw UsageError(fmt::format("{}: unclosed [ in '{}'", where, text));
    host = text.substr(1, close - 1);
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':') throw UsageError(fmt::format("{}: expected :port after ] in '{}'", where, text));
      digits = text.substr(close + 2);
    }
  } else if (const auto colon = text.rfind(':'); colon != std::string::npos) {
    host = text.substr(0, colon);
    digits = text.substr(colon + 1);
  }
  int port = default_port;
  if (!digits.empty() || (text.find(':') != std::string::npos && text.front() != '[')) {
    const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (error != std::errc() || end != digits.data() + digits.size() || port < 1 || port > 65535)
      throw UsageError(fmt::format("{}: bad port in '{}'", where, text));
  }
  if (host.empty()) throw UsageError(fmt::format("{}: empty host in '{}'", where, text));
  return {host, port};
}

// The first line of a password file (an operator's `echo secret > file` ends in a newline that is not part of it).
std::string read_password_file(const std::string& path, const std::string& where) {
  std::ifstream in(path);
  std::string password;
  if (!in || !std::getline(in, password)) throw UsageError(fmt::format("{}: cannot read '{}'", where, path));
  if (!password.empty() && password.back() == '\r') password.pop_back();
  return password;
}

}  // namespace

ClusterConfig read_cluster_config(const std::filesystem::path& file) {
  ClusterConfig cluster;
  std::string password_from;  // where the REST password came from, for the error of a second one
  for (const auto& e : read_config_file(file)) {
    if (e.section != "cluster") continue;
    const std::string where = fmt::format("{}:{}: [cluster] {}", file.string(), e.line, e.key);
    if (e.key == "rest_password" || e.key == "rest_password_file") {
      if (!password_from.empty()) throw UsageError(fmt::format("{}: the REST password is already given by {}", where, password_from));
      password_from = fmt::format("{} (line {})", e.key, e.line);
      cluster.rest.password = e.key == "rest_password" ? e.value : read_password_file(e.value, where);
    } else if (e.key == "rest_ca_file" || e.key == "rest_cert_file" || e.key == "rest_key_file") {
      if (!std::filesystem::is_regular_file(e.value)) throw UsageError(fmt::format("{}: no such file '{}'", where, e.value));
      (e.key == "rest_ca_file" ? cluster.rest.ca_file : e.key == "rest_cert_file" ? cluster.rest.cert_file : cluster.rest.key_file) = e.value;
    } else if (e.key == "rest_user") {
      cluster.rest.user = e.value;
    } else if (e.key.rfind("rest_", 0) == 0) {
      throw UsageError(where + ": unknown REST setting (rest_user, rest_password, rest_password_file, rest_ca_file, "
                               "rest_cert_file, rest_key_file)");
    } else if (e.key == "sudo" && e.value != "true" && e.value != "false") {
      throw UsageError(fmt::format("{}: expected true or false, got '{}'", where, e.value));
    } else if (e.key == "scope") {
      cluster.scope = e.value;
    } else if (e.key.rfind("node.", 0) == 0) {
      ClusterNode node;
      node.name = e.key.substr(5);
      if (node.name.empty()) throw UsageError(where + ": a node needs a name (node.NAME = ...)");
      std::istringstream words(e.value);
      for (std::string word; words >> word;) {
        const auto equals = word.find('=');
        if (equals == std::string::npos || equals == 0)
          throw UsageError(fmt::format("{}: expected key=value, got '{}'", where, word));
        const std::string key = word.substr(0, equals), value = word.substr(equals + 1);
        node.attributes.emplace_back(key, value);
        if (key == "ssh") std::tie(node.ssh_host, node.ssh_port) = host_port(value, 22, where);
        else if (key == "postgres") std::tie(node.postgres_host, node.postgres_port) = host_port(value, 5432, where);
        else if (key == "rest") {
          // A password in the URL would be printed with every REST error.
          const auto scheme_end = value.find("://");
          const auto host_at = scheme_end == std::string::npos ? 0 : scheme_end + 3;
          if (value.substr(host_at, value.find('/', host_at) - host_at).find('@') != std::string::npos)
            throw UsageError(where + ": no credentials in rest= (they would be printed): use rest_user and rest_password_file");
          node.rest_url = value;
        }
      }
      if (node.postgres_host.empty()) throw UsageError(where + ": the node needs postgres=HOST:PORT");
      cluster.nodes.push_back(std::move(node));
    } else {
      cluster.settings.emplace_back(e.key, e.value);
    }
  }
  if (password_from.empty())
    if (const char* from_environment = std::getenv("PGCHAOS_REST_PASSWORD")) cluster.rest.password = from_environment;
  if (!cluster.rest.password.empty() && cluster.rest.user.empty())
    throw UsageError(file.string() + ": [cluster] has a REST password but no rest_user");
  if (cluster.rest.cert_file.empty() != cluster.rest.key_file.empty())
    throw UsageError(file.string() + ": [cluster] rest_cert_file and rest_key_file go together");
  return cluster;
}

}  // namespace pgchaos::app

namespace pgchaos::app {

void build_cluster_context(const RunOptions& options, faults::ClusterContext& cluster) {
  cluster.scope = options.cluster.scope;
  cluster.application_name = options.request.workload.application_name;
  cluster.templates = faults::default_templates();
  cluster.sudo = options.cluster.setting("sudo") == "true";
  // Every fault that needs a heal is journalled beside the configuration (or where [cluster] journal says).
  if (options.conf) {
    cluster.configuration = options.conf->string();
    cluster.journal = std::make_shared<faults::FaultJournal>(
        faults::journal_path(*options.conf, options.cluster.scope, options.cluster.setting("journal")));
  }
  if (options.conf)
    for (const auto& e : read_config_file(*options.conf))
      if (e.section == "commands") cluster.templates[e.key] = e.value;
  cluster.settings = {{"patroni_config", "/etc/patroni/{node}.yml"}, {"data_dir", "/var/lib/postgresql/15/main"}};
  for (const auto& [key, value] : options.cluster.settings)
    // The rest are placeholders of the command templates; the lab's own facts (lab, lab_*) are not.
    // Nor is how the REST API is reached (a password must never be a placeholder of a command).
    if (key.rfind("lab", 0) != 0 && key.rfind("rest_", 0) != 0 && key != "allow_faults" && key != "ssh_user" &&
        key != "ssh_key" && key != "known_hosts" && key != "sudo" && key != "journal")
      cluster.settings[key] = value;
  for (const auto& n : options.cluster.nodes) {
    faults::Node node;
    node.name = n.name;
    node.postgres_host = n.postgres_host;
    node.postgres_port = n.postgres_port;
    node.rest_url = n.rest_url.empty() ? "http://" + n.postgres_host + ":8008" : n.rest_url;
    node.rest = options.cluster.rest;
    for (const auto& [k, v] : n.attributes) node.attributes[k] = v;
    cluster.nodes.push_back(node);
    faults::SshOptions ssh;
    ssh.host = n.ssh_host.empty() ? n.postgres_host : n.ssh_host;
    ssh.port = n.ssh_port;
    ssh.user = options.cluster.setting("ssh_user", "root");
    ssh.key_file = options.cluster.setting("ssh_key");
    ssh.known_hosts = options.cluster.setting("known_hosts");
    ssh.accept_new_host_keys = options.accept_new_host_keys;
    cluster.remotes[n.name] = faults::make_ssh_remote(ssh);
  }
}

}  // namespace pgchaos::app
