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
/// A range of durations, "100ms-200ms", or one duration (min = max).
struct DurationRange {
  std::chrono::milliseconds min{0}, max{0};
};
/// nullopt with `why` set ("'x' is not a duration like ...", "'2s-1s': the range is backwards") when `text` is not one.
std::optional<DurationRange> parse_duration_range(std::string_view text, std::string& why);
/// For error messages: what a duration looks like.
inline constexpr const char* kDurationExamples = "a duration like 250ms, 5s, 10m or 8h";

}  // namespace pgchaos::common
