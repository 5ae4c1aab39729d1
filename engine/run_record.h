// Internal to engine/: RUN_DIR/run.json, the effective configuration of a run (passwords masked).
#pragma once

#include <cstdint>
#include <string>

#include "engine/engine.h"

namespace pgchaos::engine {

/// Creates `dir` for a soak or matrix (`what`), or refuses one that holds anything: results are never mixed.
/// Throws common::FileError.
void create_empty_directory(const std::filesystem::path& dir, const std::string& what);

/// Now in UTC, as run.json and soak.json write times: 2026-11-30T05:21:18Z.
std::string utc_now();

/// `watchdog`: each node's Patroni watchdog in words (empty: not read, a run without faults).
void write_run_json(const history::RunDirectory& directory, const RunRequest& request, std::int64_t run_id,
                    const common::CommitSetting& commit, const std::string& patroni_config,
                    const std::map<std::string, std::string>& watchdog);

}  // namespace pgchaos::engine
