// Forensics collected when a fault window closes, while the lines that explain it are still in the logs:
// Patroni's /history and /cluster from every node, each node's Patroni and PostgreSQL log, pg_controldata. Saved
// raw; the lines that matter (promote, demote, lock, rewind, errors) picked out for the report.
#include <fmt/format.h>

#include <ctime>
#include <fstream>
#include <sstream>

#include "faults/topology.h"
#include "forensics.h"

namespace pgchaos::scenarios {
namespace {

constexpr std::size_t kKeyLinesPerNode = 60;

void save(const std::filesystem::path& file, const std::string& text) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << text;
}

// "2026-11-30 02:10:47" of a wall-clock time in UTC: how Patroni and PostgreSQL begin their log lines here.
std::string log_time(std::int64_t wall_us) {
  const std::time_t t = static_cast<std::time_t>(wall_us / 1'000'000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &tm);
  return text;
}

bool matters(const std::string& line) {
  if (line.find("no action") != std::string::npos) return false;  // Patroni's heartbeat line
  // Patroni repeats "Lock owner: ...; I am ..." and "Local timeline=..." every loop: not in the list. Why a replica
  // does not take over ("not the healthiest node", "Wal position of X is ahead of my wal position") is.
  static const char* const kWords[] = {"promot", "demot", "session lock", "leader key", "rewind", "ERROR", "FATAL",
                                       "PANIC", "failed", "witchover", "ailover", "new timeline", "primary_timeline",
                                       "crash", "shut down", "starting", "Lost", "DCS", "leader race", "synchronous",
                                       "diverged", "healthiest", "ahead of my wal position", "not a child",
                                       "basebackup", "einitializ", "emoving data directory", "failsafe"};
  for (const char* word : kWords)
    if (line.find(word) != std::string::npos) return true;
  return false;
}

// The lines of `log` stamped at or after `since` (continuations of a kept line kept too), one by one.
template <typename Visit>
void for_each_line_since(const std::string& log, const std::string& since, Visit visit) {
  bool in_window = false;
  std::size_t start = 0;
  while (start < log.size()) {
    const auto end = log.find('\n', start);
    const std::string line = log.substr(start, end == std::string::npos ? std::string::npos : end - start);
    start = end == std::string::npos ? log.size() : end + 1;
    const bool stamped = line.size() >= 19 && line[4] == '-' && line[10] == ' ' && line[13] == ':';
    if (stamped) in_window = line.compare(0, 19, since) >= 0;
    if (in_window && !visit(line, stamped)) return;
  }
}

}  // namespace

std::string key_log_lines(const std::string& log, std::int64_t since_wall_us) {
  std::string picked;
  std::size_t kept = 0;
  // Only lines that begin with a time count (continuations are dumps: pg_controldata inside pg_rewind's output),
  // except pg_rewind's own verdict lines.
  for_each_line_since(log, log_time(since_wall_us - 2'000'000), [&](const std::string& line, bool stamped) {
    if ((stamped || line.rfind("pg_rewind:", 0) == 0) && matters(line)) {
      picked += line + "\n";
      ++kept;
    }
    return kept < kKeyLinesPerNode;
  });
  return picked;
}

std::string double_demote_evidence(const std::string& node, const std::string& log, std::int64_t since_wall_us) {
  // Patroni's words (3.0.2): ha.py "AsyncExecutor is busy, demoting from the main thread", postmaster.py
  // "postmaster pid=N", PostgreSQL's lock file refusal, postgresql/__init__.py "Removing data directory: DIR".
  std::vector<std::string> evidence;
  bool second_demote = false;
  int postmasters_started = 0;
  bool refused_by_lock = false, removed = false;
  for_each_line_since(log, log_time(since_wall_us - 2'000'000), [&](const std::string& line, bool) {
    const bool demote = line.find("AsyncExecutor is busy, demoting from the main thread") != std::string::npos;
    const bool started = line.find("postmaster pid=") != std::string::npos;
    const bool lock = line.find("lock file \"postmaster.pid\" already exists") != std::string::npos;
    const bool removing = line.find("Removing data directory") != std::string::npos;
    if (demote) second_demote = true;
    if (!second_demote) return true;  // what counts comes after the second demote
    if (started) ++postmasters_started;
    refused_by_lock = refused_by_lock || lock;
    removed = removed || removing;
    if ((demote || started || lock || removing || line.find("Is another postmaster") != std::string::npos) &&
        evidence.size() < 12)
      evidence.push_back(line);
    return true;
  });
  if (!second_demote || (postmasters_started < 2 && !refused_by_lock && !removed)) return "";
  std::string what = "Patroni demoted again from its main thread while the first demote still ran";
  if (postmasters_started >= 2 || refused_by_lock)
    what += ", and started a second postmaster on the same data directory" +
            std::string(refused_by_lock ? " (refused by postmaster.pid: the first still ran)" : "");
  if (removed) what += ", and removed the data directory";
  std::string text = "double demote on " + node + " (Patroni 3.0.2, docs/patroni-3.0.2-bugs.md): " + what;
  for (const auto& line : evidence) text += "\n  " + line;
  return text;
}

std::string rejoin_evidence(const std::string& node, const std::string& log, std::int64_t since_wall_us) {
  std::string how, refused;
  for_each_line_since(log, log_time(since_wall_us - 2'000'000), [&](const std::string& line, bool) {
    if (line.find("pg_rewind exit code=0") != std::string::npos) {
      how = "by pg_rewind", refused.clear();
    } else if (line.find("pg_rewind exit code=") != std::string::npos) {
      how = "pg_rewind failed (" + line.substr(line.find("exit code=")) + ")";
    } else if (line.find("replica has been created using basebackup") != std::string::npos ||
               line.find("Reinitializ") != std::string::npos) {
      how = "by reinitialisation (a new base backup)", refused.clear();
    } else if (const auto at = line.find("is not a child of this server's history"); at != std::string::npos) {
      const auto from = line.find("requested timeline");
      refused = line.substr(from == std::string::npos ? 0 : from);
    }
    return true;
  });
  if (!refused.empty()) return fmt::format("{} did not rejoin the new timeline: {}", node, refused);
  if (how.empty()) return "";
  return how.rfind("by ", 0) == 0 ? fmt::format("{} rejoined {}", node, how) : fmt::format("{}: {}", node, how);
}

std::string dcs_evidence(const std::string& node, const std::string& log, std::int64_t since_wall_us) {
  bool demoted = false, failsafe = false;
  for_each_line_since(log, log_time(since_wall_us - 2'000'000), [&](const std::string& line, bool) {
    demoted = demoted || line.find("demoting self because DCS is not accessible") != std::string::npos;
    failsafe = failsafe || line.find("continue to run as a leader because failsafe mode is enabled") != std::string::npos;
    return true;
  });
  if (demoted && failsafe)
    return fmt::format("{} kept the lead in failsafe mode for a while, then demoted itself: the DCS was not accessible", node);
  if (demoted) return fmt::format("{} demoted itself: the DCS was not accessible", node);
  if (failsafe) return fmt::format("{} kept the lead in failsafe mode (the DCS was not accessible, every member answered)", node);
  return "";
}

std::string wal_disk_evidence(const std::string& node, const std::string& log, std::int64_t since_wall_us) {
  // PostgreSQL 15's words: "PANIC:  could not write to file "pg_wal/xlogtemp.N": No space left on device" (a
  // primary writing WAL), FATAL with the same message (its crash recovery's end-of-recovery checkpoint, again and
  // again), "could not write to log segment" (a standby's WAL receiver); Patroni 3.0.2's "updated leader lock during
  // restarting after failure" (it keeps the lock and starts PostgreSQL again, no failover before
  // primary_start_timeout), and PostgreSQL's "ready to accept connections" once it could write again.
  // The node's logs come one after the other (Patroni's, then PostgreSQL's): what came after the first refusal is
  // told by the time stamps ("2026-12-07 20:10:26" of both), not by the order of the lines.
  std::string first, first_stamp, earliest, last_stamp, back_at;  // first: the PANIC if any, else the earliest refusal
  int refused = 0, restarts = 0;
  bool panicked = false, kept_lock = false;
  std::vector<std::string> others;
  for_each_line_since(log, log_time(since_wall_us - 2'000'000), [&](const std::string& line, bool stamped) {
    if (!stamped) return true;
    if (line.find("No space left on device") == std::string::npos) {
      others.push_back(line);
      return true;
    }
    const bool panic = line.find("PANIC:") != std::string::npos;
    const std::string stamp = line.substr(0, 19);
    if (first.empty() || (panic && !panicked) || (panic == panicked && stamp < first_stamp)) {
      const char* level = panic ? "PANIC:" : line.find("FATAL:") != std::string::npos ? "FATAL:" : "ERROR:";
      const auto at = line.find(level);
      first = at == std::string::npos ? line.substr(19) : line.substr(at);
      first_stamp = stamp;
    }
    panicked = panicked || panic;
    earliest = earliest.empty() ? stamp : std::min(earliest, stamp);
    last_stamp = std::max(last_stamp, stamp);
    ++refused;
    return true;
  });
  for (const auto& line : others) {
    const std::string stamp = line.substr(0, 19);
    if (stamp < earliest) continue;
    if (line.find("postmaster pid=") != std::string::npos) ++restarts;
    kept_lock = kept_lock || line.find("updated leader lock during restarting after failure") != std::string::npos;
    if (stamp >= last_stamp && line.find("database system is ready to accept connections") != std::string::npos && back_at.empty())
      back_at = stamp.substr(11);
  }
  if (refused == 0) return "";
  std::string text = fmt::format("{}'s PostgreSQL {} at {}: {}", node, panicked ? "panicked" : "could not write WAL",
                                 first_stamp.substr(11), first);
  if (refused > 1) text += fmt::format(" ({} times in all)", refused);
  if (kept_lock)
    text += fmt::format(", then Patroni kept the leader lock and started it again{} (no failover)",
                        restarts > 0 ? fmt::format(" {} time{}", restarts, restarts == 1 ? "" : "s") : "");
  else if (restarts > 0)
    text += fmt::format(", then Patroni started it again {} time{}", restarts, restarts == 1 ? "" : "s");
  // No "; " inside: the story splits a window's notes at it.
  if (!back_at.empty()) text += fmt::format(", and it accepted writes again at {}", back_at);
  return text;
}

std::string lock_takeover_evidence(const std::map<std::string, std::string>& logs, std::int64_t since_wall_us) {
  constexpr std::size_t kStamp = 23;  // "2026-12-07 17:10:54,791": Patroni's lines compare as text
  struct Claim {
    std::string at, line;
  };
  std::map<std::string, std::vector<std::string>> acquired;  // node -> when it acquired the lock
  std::map<std::string, std::vector<Claim>> claimed;         // node -> when it acted on a lock it believed it held
  for (const auto& [node, log] : logs)
    for_each_line_since(log, log_time(since_wall_us - 2'000'000), [&, &n = node](const std::string& line, bool stamped) {
      if (!stamped || line.size() < kStamp) return true;
      if (line.find("promoted self to leader by acquiring session lock") != std::string::npos)
        acquired[n].push_back(line.substr(0, kStamp));
      else if (line.find("because I had the session lock") != std::string::npos ||
               line.find("the leader with the lock") != std::string::npos)
        claimed[n].push_back({line.substr(0, kStamp), line});
      return true;
    });
  for (const auto& [other, times] : acquired)
    for (const auto& acquired_at : times)
      for (const auto& [node, claims] : claimed) {
        if (node == other) continue;
        for (const auto& claim : claims) {
          if (claim.at <= acquired_at) continue;
          bool reacquired = false;  // the node won the lock itself since: a leader of its own right
          for (const auto& own : acquired[node]) reacquired = reacquired || (own > acquired_at && own <= claim.at);
          if (reacquired) break;
          return fmt::format("leader key taken back on {0} (Patroni 3.0.2's etcd3 leader-key overwrite, fixed in 3.0.3; "
                             "docs/patroni-3.0.2-bugs.md): {1} had acquired the leader lock at {2}, then {0} acted on "
                             "the session lock it still believed it held\n  {1}: {2} INFO: promoted self to leader by "
                             "acquiring session lock\n  {0}: {3}",
                             node, other, acquired_at, claim.line);
        }
      }
  return "";
}

std::string postmaster_problems(const std::string& node, const std::string& listing) {
  struct Postmaster {
    std::string pid, cwd;
  };
  std::vector<Postmaster> running;
  std::string pidfile;
  bool listed = false;
  std::istringstream lines(listing);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("postmaster ", 0) == 0) {
      const auto space = line.find(' ', 11);
      running.push_back({line.substr(11, space - 11), space == std::string::npos ? "" : line.substr(space + 1)});
    } else if (line.rfind("pidfile", 0) == 0) {
      listed = true;
      pidfile = line.size() > 8 ? line.substr(8) : "";
    }
  }
  if (!listed) return "";  // the template did not run (not collected): nothing to judge
  std::vector<std::string> problems;
  if (running.size() > 1) {
    std::string pids;
    for (const auto& p : running) pids += (pids.empty() ? "" : ", ") + p.pid;
    problems.push_back(std::to_string(running.size()) + " postmasters run for its data directory (pids " + pids + ")");
  }
  for (const auto& p : running) {
    if (p.cwd.size() > 10 && p.cwd.compare(p.cwd.size() - 10, 10, " (deleted)") == 0)
      problems.push_back("postmaster " + p.pid + " runs in a data directory removed under it (" + p.cwd + ")");
  }
  if (!running.empty()) {
    bool named = false;
    for (const auto& p : running) named = named || p.pid == pidfile;
    if (!named)
      problems.push_back(pidfile.empty() ? "no postmaster.pid names the running postmaster (an orphan)"
                                         : "postmaster.pid names " + pidfile + ", not the running postmaster (an orphan)");
  }
  if (problems.empty()) return "";
  std::string text = "postmasters on " + node + ": ";
  for (std::size_t i = 0; i < problems.size(); ++i) text += (i ? "; " : "") + problems[i];
  return text + "\n  " + listing.substr(0, 600);
}

Forensics collect_forensics(faults::ClusterContext& cluster, const std::filesystem::path& dir, std::int64_t since_wall_us) {
  std::error_code ignored;
  std::filesystem::create_directories(dir, ignored);
  Forensics found;
  std::map<std::string, std::string> logs;  // node -> its log, for what only several nodes' logs together show
  for (const auto& node : cluster.nodes) {
    for (const char* endpoint : {"history", "cluster"}) {
      try {
        save(dir / fmt::format("{}-{}.json", node.name, endpoint), rest::request(node.rest_url + "/" + endpoint, node.rest).body);
      } catch (const std::exception& error) {
        save(dir / fmt::format("{}-{}.error", node.name, endpoint), error.what());
      }
    }
    for (const std::string action : {"forensic-logs", "controldata", "postmasters"}) {
      std::string text;
      try {
        const auto result = cluster.run(action, node.name);
        text = result.out + (result.err.empty() ? "" : "\n--- stderr\n" + result.err);
      } catch (const std::exception& error) {
        text = std::string("not collected: ") + error.what();
      }
      save(dir / fmt::format("{}-{}.txt", node.name, action), text);
      if (action == "forensic-logs") {
        logs[node.name] = text;
        const auto picked = key_log_lines(text, since_wall_us);
        if (!picked.empty()) found.key_lines += fmt::format("--- {}\n{}", node.name, picked);
        if (auto evidence = double_demote_evidence(node.name, text, since_wall_us); !evidence.empty())
          found.findings.push_back(std::move(evidence));
        if (auto dcs = dcs_evidence(node.name, text, since_wall_us); !dcs.empty()) found.rejoins.push_back(std::move(dcs));
        if (auto rejoin = rejoin_evidence(node.name, text, since_wall_us); !rejoin.empty()) found.rejoins.push_back(std::move(rejoin));
        if (auto full = wal_disk_evidence(node.name, text, since_wall_us); !full.empty()) found.rejoins.push_back(std::move(full));
      } else if (action == "postmasters") {
        if (auto problems = postmaster_problems(node.name, text); !problems.empty()) found.findings.push_back(std::move(problems));
      }
    }
  }
  if (auto takeover = lock_takeover_evidence(logs, since_wall_us); !takeover.empty()) found.findings.push_back(std::move(takeover));
  save(dir / "key-lines.txt", found.key_lines);
  return found;
}

}  // namespace pgchaos::scenarios
