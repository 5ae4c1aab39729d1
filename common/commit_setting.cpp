#include "common/commit_setting.h"

#include <array>

namespace pgchaos::common {
namespace {

constexpr std::array<std::string_view, 5> kLevels = {"off", "local", "remote_write", "on", "remote_apply"};

bool level_waits_for_standby(std::string_view level) {
  return level == "on" || level == "remote_write" || level == "remote_apply";
}

}  // namespace

const char* to_string(CommitMode mode) noexcept {
  switch (mode) {
    case CommitMode::async: return "async";
    case CommitMode::sync: return "sync";
    case CommitMode::sync_strict: return "sync-strict";
    case CommitMode::single: return "single";
  }
  return "?";
}

std::optional<CommitMode> parse_commit_mode(std::string_view text) noexcept {
  for (const auto mode : {CommitMode::async, CommitMode::sync, CommitMode::sync_strict, CommitMode::single})
    if (text == to_string(mode)) return mode;
  return std::nullopt;
}

bool names_sync_standby(CommitMode mode) noexcept { return mode == CommitMode::sync || mode == CommitMode::sync_strict; }

const char* default_level(CommitMode mode) noexcept { return names_sync_standby(mode) ? "remote_apply" : "local"; }

std::string CommitSetting::text() const {
  std::string out = to_string(mode);
  // Without a standby to wait for (one server; async, where Patroni names none) on, remote_write and remote_apply
  // are all local: only off (no flush before the acknowledgement) is a different mode there.
  const bool named_standby = names_sync_standby(mode);
  if (named_standby ? !level.empty() && level != default_level(mode) : level == "off") out += ":" + level;
  return out;
}

bool CommitSetting::promises_no_loss() const noexcept {
  if (mode == CommitMode::single) return level != "off";  // off acknowledges before the commit is flushed
  return names_sync_standby(mode) && (level.empty() || level_waits_for_standby(level));
}

std::optional<CommitSetting> parse_commit_setting(std::string_view text, std::string& why, bool single_too) {
  const auto colon = text.find(':');
  const auto mode = parse_commit_mode(text.substr(0, colon));
  if (!mode || (*mode == CommitMode::single && !single_too)) {
    why = "'" + std::string(text) + "': the mode must be async, sync or sync-strict (optionally :LEVEL)";
    return std::nullopt;
  }
  CommitSetting setting{*mode, default_level(*mode)};
  if (colon != std::string_view::npos) {
    const auto level = text.substr(colon + 1);
    bool known = false;
    for (const auto l : kLevels) known = known || l == level;
    if (!known) {
      why = "'" + std::string(text) + "': the synchronous_commit level must be off, local, remote_write, on or remote_apply";
      return std::nullopt;
    }
    setting.level = level;
  }
  return setting;
}

}  // namespace pgchaos::common
