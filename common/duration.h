// The one duration grammar of pgchaos, for every flag and every scenario field: a number and a unit, `250ms`,
// `1.5s`, `10m`, `8h`. A bare number is refused: the unit is never guessed.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace pgchaos::common {

/// nullopt when `text` is not a duration of this grammar (or is larger than a year).
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) noexcept;
/// "250ms", "5s", "10m", "8h": the largest unit that says it exactly.
std::string format_duration(std::chrono::milliseconds duration);
/// For error messages: what a duration looks like.
inline constexpr const char* kDurationExamples = "a duration like 250ms, 5s, 10m or 8h";

}  // namespace pgchaos::common
