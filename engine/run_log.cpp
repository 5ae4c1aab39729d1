#include "run_log.h"

#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace pgchaos::engine {
namespace {
constexpr const char* kLoggers[] = {"engine", "backend", "workload", "faults"};
}  // namespace

RunLog::RunLog(const history::RunDirectory& directory, const RunRequest& request) {
  auto file = std::make_shared<spdlog::sinks::rotating_file_sink_mt>(directory.log().string(), request.log_file_max_bytes,
                                                                     request.log_file_backups);
  auto console = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  console->set_level(spdlog::level::warn);
  console->set_pattern("pgchaos: %l: %v");
  for (const char* part : kLoggers) {
    spdlog::drop(part);
    auto logger = std::make_shared<spdlog::logger>(part, spdlog::sinks_init_list{file, console});
    logger->set_level(spdlog::level::from_str(request.log_level));
    logger->flush_on(spdlog::level::info);
    spdlog::register_logger(logger);
  }
  engine_ = spdlog::get("engine");
}

RunLog::~RunLog() {
  engine_->flush();
  engine_.reset();
  for (const char* part : kLoggers) spdlog::drop(part);
}

}  // namespace pgchaos::engine
