// The commit mode of a run: one type from the flag (`--commit-mode`) through run.json to the checker.
#pragma once

#include <optional>
#include <string_view>

namespace pgchaos::history {

/// async: replicas may lag, lost commits are reported. sync: Patroni's synchronous_mode with
/// synchronous_commit = remote_apply. single: one server, no replica (judged like sync).
enum class CommitMode { async, sync, single };

const char* to_string(CommitMode mode) noexcept;
/// "async", "sync" or "single"; nullopt for anything else.
std::optional<CommitMode> parse_commit_mode(std::string_view text) noexcept;

}  // namespace pgchaos::history
