// Internal to engine/: RUN_DIR/pgchaos.log for one run, and warnings on stderr, for the parts' loggers.
#pragma once

#include <memory>
#include <spdlog/logger.h>
#include <string>

#include "engine/engine.h"

namespace pgchaos::engine {

/// Registers the "engine", "backend" and "faults" loggers for the run's lifetime (file at the run's level,
/// stderr from warnings on) and drops them when it ends, which closes the file. One run at a time.
class RunLog {
 public:
  RunLog(const history::RunDirectory& directory, const RunRequest& request);
  ~RunLog();
  RunLog(const RunLog&) = delete;
  RunLog& operator=(const RunLog&) = delete;
  spdlog::logger& operator*() const { return *engine_; }
  spdlog::logger* operator->() const { return engine_.get(); }

 private:
  std::shared_ptr<spdlog::logger> engine_;
};

}  // namespace pgchaos::engine
