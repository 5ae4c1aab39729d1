// The commit mode of a run: one type from the flag (`--commit-mode`) through run.json to the checker.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace pgchaos::common {

/// async: replicas may lag, lost commits are reported. sync: Patroni's synchronous_mode. sync_strict: Patroni's
/// synchronous_mode_strict (no commit without a synchronous standby, even when none is left). single: one server,
/// no replica (judged like sync).
enum class CommitMode { async, sync, sync_strict, single };

const char* to_string(CommitMode mode) noexcept;  ///< async, sync, sync-strict, single
/// "async", "sync", "sync-strict" or "single"; nullopt for anything else.
std::optional<CommitMode> parse_commit_mode(std::string_view text) noexcept;
/// sync or sync-strict: Patroni names a synchronous standby.
bool names_sync_standby(CommitMode mode) noexcept;

/// A mode with its synchronous_commit level, as `--commit-mode` takes it: MODE or MODE:LEVEL (async:off,
/// sync:remote_write, sync-strict:on, ...). The level defaults to local for async and remote_apply for the sync modes.
struct CommitSetting {
  CommitMode mode = CommitMode::async;
  std::string level;  ///< synchronous_commit: off, local, remote_write, on, remote_apply
  /// "sync", or "sync:remote_write" when the level is not the mode's default; async and single show only ":off"
  /// (without a standby named, every other level is local).
  std::string text() const;
  /// Patroni's documented guarantee holds: no acknowledged commit lost (except a cancelled sync wait). True for
  /// the sync modes with a level that waits for the standby (on, remote_write, remote_apply), and for single
  /// unless its level is off.
  bool promises_no_loss() const noexcept;
};
const char* default_level(CommitMode mode) noexcept;
/// Parses MODE[:LEVEL]; nullopt with `why` set for a mode or level that is not one of the above. `single_too`:
/// single is a mode too (as text() writes a run's setting into a report; --commit-mode cannot set it).
std::optional<CommitSetting> parse_commit_setting(std::string_view text, std::string& why, bool single_too = false);

}  // namespace pgchaos::common
