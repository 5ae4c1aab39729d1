#include "common/duration.h"

#include <charconv>
#include <cmath>

namespace pgchaos::common {

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) noexcept {
  // Digits, an optional fraction, then the unit; nothing else (no sign, no spaces, no exponent).
  std::size_t digits = 0;
  while (digits < text.size() && ((text[digits] >= '0' && text[digits] <= '9') || text[digits] == '.')) ++digits;
  const std::string_view number = text.substr(0, digits), unit = text.substr(digits);
  if (number.empty() || number.front() == '.' || number.back() == '.' ||
      number.find('.') != number.rfind('.'))
    return std::nullopt;
  double value = 0;
  const auto [end, error] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (error != std::errc() || end != number.data() + number.size()) return std::nullopt;
  double ms_per_unit = 0;
  if (unit == "ms") ms_per_unit = 1;
  else if (unit == "s") ms_per_unit = 1e3;
  else if (unit == "m") ms_per_unit = 60e3;
  else if (unit == "h") ms_per_unit = 3600e3;
  else return std::nullopt;
  const double ms = std::round(value * ms_per_unit);
  if (!(ms >= 0) || ms > 366.0 * 24 * 3600e3) return std::nullopt;
  return std::chrono::milliseconds(static_cast<std::int64_t>(ms));
}

std::string format_duration(std::chrono::milliseconds duration) {
  const auto ms = duration.count();
  if (ms != 0 && ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms != 0 && ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

std::optional<DurationRange> parse_duration_range(std::string_view text, std::string& why) {
  const auto dash = text.find('-');
  const auto min_text = text.substr(0, dash);
  const auto max_text = dash == std::string_view::npos ? min_text : text.substr(dash + 1);
  const auto min = parse_duration(min_text), max = parse_duration(max_text);
  if (!min || !max) {
    why = "'" + std::string(!min ? min_text : max_text) + "' is not " + kDurationExamples;
    return std::nullopt;
  }
  if (*max < *min) {
    why = "'" + std::string(text) + "': the range is backwards";
    return std::nullopt;
  }
  return DurationRange{*min, *max};
}

}  // namespace pgchaos::common
