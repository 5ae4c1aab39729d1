// Internal to engine/: RUN_DIR/run.json, the effective configuration of a run (passwords masked).
#pragma once

#include <cstdint>

#include "engine/engine.h"

namespace pgchaos::engine {

void write_run_json(const history::RunDirectory& directory, const RunRequest& request, std::int64_t run_id,
                    history::CommitMode commit_mode);

}  // namespace pgchaos::engine
