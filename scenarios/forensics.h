// Internal to scenarios/: picking the lines that matter out of a log (collect_forensics is in scenarios.h).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "scenarios/scenarios.h"

namespace pgchaos::scenarios {

/// The lines of a log that tell what happened (promote, demote, lock, rewind, errors; not Patroni's "no action"
/// heartbeat) from 2 s before `since_wall_us` on, at most 60.
std::string key_log_lines(const std::string& log, std::int64_t since_wall_us);

}  // namespace pgchaos::scenarios
