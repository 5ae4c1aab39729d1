// Forensics collected when a fault window closes, while the lines that explain it are still in the logs:
// Patroni's /history and /cluster from every node, each node's Patroni and PostgreSQL log, pg_controldata. Saved
// raw; the lines that matter (promote, demote, lock, rewind, errors) picked out for the report.
#include <fmt/format.h>

#include <ctime>
#include <fstream>

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
  // Patroni repeats "Lock owner: ...; I am ..." and "Local timeline=..." every loop: not in the list.
  static const char* const kWords[] = {"promot", "demot", "session lock", "leader key", "rewind", "ERROR", "FATAL",
                                       "PANIC", "failed", "witchover", "ailover", "new timeline", "primary_timeline",
                                       "crash", "shut down", "starting", "Lost", "DCS", "leader race", "synchronous",
                                       "diverged"};
  for (const char* word : kWords)
    if (line.find(word) != std::string::npos) return true;
  return false;
}

}  // namespace

std::string key_log_lines(const std::string& log, std::int64_t since_wall_us) {
  const std::string since = log_time(since_wall_us - 2'000'000);
  std::string picked;
  std::size_t kept = 0;
  bool in_window = false;
  std::size_t start = 0;
  while (start < log.size() && kept < kKeyLinesPerNode) {
    const auto end = log.find('\n', start);
    const std::string line = log.substr(start, end == std::string::npos ? std::string::npos : end - start);
    start = end == std::string::npos ? log.size() : end + 1;
    // Only lines that begin with a time count (continuations are dumps: pg_controldata inside pg_rewind's
    // output), except pg_rewind's own verdict lines.
    const bool stamped = line.size() >= 19 && line[4] == '-' && line[10] == ' ' && line[13] == ':';
    if (stamped) in_window = line.compare(0, 19, since) >= 0;
    if (in_window && (stamped || line.rfind("pg_rewind:", 0) == 0) && matters(line)) {
      picked += line + "\n";
      ++kept;
    }
  }
  return picked;
}

std::string collect_forensics(faults::ClusterContext& cluster, const std::filesystem::path& dir,
                              std::int64_t since_wall_us) {
  std::error_code ignored;
  std::filesystem::create_directories(dir, ignored);
  std::string key_lines;
  for (const auto& node : cluster.nodes) {
    for (const char* endpoint : {"history", "cluster"}) {
      try {
        save(dir / fmt::format("{}-{}.json", node.name, endpoint), faults::http_request(node.rest_url + "/" + endpoint).second);
      } catch (const std::exception& error) {
        save(dir / fmt::format("{}-{}.error", node.name, endpoint), error.what());
      }
    }
    for (const char* action : {"forensic-logs", "controldata"}) {
      std::string text;
      try {
        const auto result = cluster.run(action, node.name);
        text = result.out + (result.err.empty() ? "" : "\n--- stderr\n" + result.err);
      } catch (const std::exception& error) {
        text = std::string("not collected: ") + error.what();
      }
      save(dir / fmt::format("{}-{}.txt", node.name, action), text);
      if (std::string(action) == "forensic-logs") {
        const auto picked = key_log_lines(text, since_wall_us);
        if (!picked.empty()) key_lines += fmt::format("--- {}\n{}", node.name, picked);
      }
    }
  }
  save(dir / "key-lines.txt", key_lines);
  return key_lines;
}

}  // namespace pgchaos::scenarios
