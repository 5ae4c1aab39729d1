#include "history/commit_mode.h"

namespace pgchaos::history {

const char* to_string(CommitMode mode) noexcept {
  switch (mode) {
    case CommitMode::async: return "async";
    case CommitMode::sync: return "sync";
    case CommitMode::single: return "single";
  }
  return "?";
}

std::optional<CommitMode> parse_commit_mode(std::string_view text) noexcept {
  for (const auto mode : {CommitMode::async, CommitMode::sync, CommitMode::single})
    if (text == to_string(mode)) return mode;
  return std::nullopt;
}

}  // namespace pgchaos::history
