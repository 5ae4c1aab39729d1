#include "faults/journal.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/text.h"
#include "faults/catalog.h"
#include "faults/cluster.h"

namespace pgchaos::faults {
namespace {

std::string system_error(const std::string& what, const std::filesystem::path& file) {
  return fmt::format("fault journal {}: {}: {}", file.string(), what, std::strerror(errno));
}

// An exclusive flock on FILE.lock for one read-modify-write: the journal itself is replaced by rename, so it
// cannot carry the lock.
class JournalLock {
 public:
  explicit JournalLock(const std::filesystem::path& file) {
    std::error_code ec;
    std::filesystem::create_directories(file.parent_path().empty() ? "." : file.parent_path(), ec);
    const auto lock = file.string() + ".lock";
    fd_ = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) throw FaultError(system_error("cannot open " + lock, file));
    while (::flock(fd_, LOCK_EX) != 0)
      if (errno != EINTR) throw FaultError(system_error("cannot lock " + lock, file));
  }
  ~JournalLock() { ::close(fd_); }  // closing releases the lock
  JournalLock(const JournalLock&) = delete;
  JournalLock& operator=(const JournalLock&) = delete;

 private:
  int fd_ = -1;
};

std::vector<JournalEntry> read_entries(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return {};  // no journal: nothing active
  const std::string text{std::istreambuf_iterator<char>(in), {}};
  if (text.empty()) return {};
  std::vector<JournalEntry> entries;
  try {
    const auto j = nlohmann::json::parse(text);
    for (const auto& e : j.at("active")) {
      JournalEntry entry;
      entry.fault = e.at("fault").get<std::string>();
      entry.node = e.at("node").get<std::string>();
      entry.heal_action = e.at("heal_action").get<std::string>();
      entry.heal_argv = e.at("heal_command").get<std::vector<std::string>>();
      entry.run_directory = e.value("run_directory", "");
      entry.pid = e.value("pid", 0L);
      entry.started_at = e.value("started_at", "");
      entries.push_back(std::move(entry));
    }
  } catch (const nlohmann::json::exception& error) {
    throw FaultError(fmt::format("fault journal {}: not a journal ({}); look at it, then remove it", file.string(), error.what()));
  }
  return entries;
}

// The journal on disk before the call returns: the file's data, then its name in the directory.
void write_entries(const std::filesystem::path& file, const std::vector<JournalEntry>& entries) {
  nlohmann::json active = nlohmann::json::array();
  for (const auto& e : entries)
    active.push_back({{"fault", e.fault}, {"node", e.node}, {"heal_action", e.heal_action}, {"heal_command", e.heal_argv},
                      {"run_directory", e.run_directory}, {"pid", e.pid}, {"started_at", e.started_at}});
  const std::string text =
      nlohmann::json{{"what", "faults pgchaos started and has not healed; `pgchaos heal --conf FILE` undoes them"},
                     {"active", active}}.dump(2) + "\n";
  const auto temporary = file.string() + ".tmp";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw FaultError(system_error("cannot write " + temporary, file));
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!written || ::rename(temporary.c_str(), file.c_str()) != 0) throw FaultError(system_error("cannot write", file));
  const auto directory = file.parent_path().empty() ? std::filesystem::path(".") : file.parent_path();
  const int dir_fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
}

}  // namespace

void FaultJournal::add(JournalEntry entry) {
  entry.pid = static_cast<long>(::getpid());
  entry.run_directory = run_directory_;
  entry.started_at = common::utc_millis_now();
  JournalLock lock(file_);
  auto entries = read_entries(file_);
  entries.push_back(std::move(entry));
  write_entries(file_, entries);
}

void FaultJournal::remove(const std::string& fault, const std::string& node) {
  JournalLock lock(file_);
  auto entries = read_entries(file_);
  const long pid = static_cast<long>(::getpid());
  for (auto it = entries.begin(); it != entries.end(); ++it)
    if (it->fault == fault && it->node == node && it->pid == pid) {
      entries.erase(it);
      return write_entries(file_, entries);
    }
}

void FaultJournal::remove_entry(const JournalEntry& entry) {
  JournalLock lock(file_);
  auto entries = read_entries(file_);
  for (auto it = entries.begin(); it != entries.end(); ++it)
    if (it->fault == entry.fault && it->node == entry.node && it->pid == entry.pid && it->started_at == entry.started_at) {
      entries.erase(it);
      return write_entries(file_, entries);
    }
}

std::vector<JournalEntry> FaultJournal::entries() const {
  JournalLock lock(file_);
  return read_entries(file_);
}

std::filesystem::path journal_path(const std::filesystem::path& conf, const std::string& scope, const std::string& setting) {
  if (!setting.empty()) return setting;
  std::string name;
  for (const char c : scope) name += std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ? c : '_';
  return std::filesystem::absolute(conf).parent_path() / ("pgchaos-journal-" + name + ".json");
}

bool process_alive(long pid) { return pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM); }

std::vector<Leftover> find_leftovers(ClusterContext& cluster, std::vector<std::string>& unreachable) {
  const auto checks = checkable_faults();
  // One thread per node: a node's Remote is used by one thread only.
  std::map<std::string, std::vector<Leftover>> found;
  std::map<std::string, std::string> failed;
  for (const auto& node : cluster.nodes) found[node.name], failed[node.name];
  std::vector<std::thread> threads;
  for (const auto& node : cluster.nodes)
    threads.emplace_back([&, name = node.name] {
      try {
        for (const auto& check : checks)
          if (cluster.run(check.check_action, name).exit_status == 0) found[name].push_back({name, check.fault, check.check_action, check.heal_action});
      } catch (const std::exception& error) {
        failed[name] = error.what();
      }
    });
  for (auto& t : threads) t.join();
  std::vector<Leftover> leftovers;
  for (const auto& node : cluster.nodes) {
    leftovers.insert(leftovers.end(), found[node.name].begin(), found[node.name].end());
    if (!failed[node.name].empty()) unreachable.push_back(node.name + ": " + failed[node.name]);
  }
  return leftovers;
}

void refuse_leftovers(ClusterContext& cluster, const std::function<void(const std::string&)>& warn) {
  std::vector<std::string> what;
  std::set<std::pair<std::string, std::string>> journalled;  // (fault, node): told once, with its journal entry
  if (cluster.journal) {
    for (const auto& e : cluster.journal->entries()) {
      journalled.insert({e.fault, e.node});
      what.push_back(fmt::format("{} on {} (journalled by pid {}{}, run {})", e.fault, e.node, e.pid,
                                 process_alive(e.pid) ? ", still running" : "", e.run_directory.empty() ? "?" : e.run_directory));
    }
  }
  std::vector<std::string> unreachable;
  bool found_unjournalled = false;  // only `heal --all` undoes what no journal names
  for (const auto& l : find_leftovers(cluster, unreachable))
    if (journalled.count({l.fault, l.node}) == 0) {
      what.push_back(fmt::format("{} on {} (found by `{}`)", l.fault, l.node, l.check));
      found_unjournalled = true;
    }
  for (const auto& u : unreachable) warn("could not look for leftover faults on " + u);
  if (what.empty()) return;
  std::string list;
  for (const auto& w : what) list += (list.empty() ? "" : "; ") + w;
  throw FaultError(fmt::format("the cluster still has faults in effect: {}; run `pgchaos heal --conf {}{}` first{}", list,
                               cluster.configuration.empty() ? "FILE" : cluster.configuration, found_unjournalled ? " --all" : "",
                               cluster.journal ? " (journal " + cluster.journal->file().string() + ")" : ""));
}

}  // namespace pgchaos::faults
