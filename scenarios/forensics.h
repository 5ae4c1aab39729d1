// Internal to scenarios/: forensics collected when a fault window closes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "faults/cluster.h"

namespace pgchaos::scenarios {

/// Saves every node's /history, /cluster, logs (template `forensic-logs`) and pg_controldata (`controldata`) into
/// `dir`, and returns (and saves as key-lines.txt) the log lines that matter since `since_wall_us`. Never throws
/// for a node that does not answer: what could not be collected says why in its file.
std::string collect_forensics(faults::ClusterContext& cluster, const std::filesystem::path& dir, std::int64_t since_wall_us);

/// The lines of a log that tell what happened (promote, demote, lock, rewind, errors; not Patroni's "no action"
/// heartbeat) from 2 s before `since_wall_us` on, at most 60.
std::string key_log_lines(const std::string& log, std::int64_t since_wall_us);

}  // namespace pgchaos::scenarios
