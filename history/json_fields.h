// Internal to history/: integer fields of a parsed JSON line, read without undefined behaviour. nlohmann::json
// converts a float (1e38) to an integer type with a static_cast; a history line may hold anything.
#pragma once

#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <type_traits>

namespace pgchaos::history {

/// The value of `key` as T when it is an integer T can hold; nullopt when absent; throws `Bad` otherwise.
template <typename T, typename Bad>
std::optional<T> json_integer(const nlohmann::json& j, const char* key, Bad bad) {
  static_assert(std::is_integral_v<T> && !std::is_same_v<T, bool>);
  const auto it = j.find(key);
  if (it == j.end()) return std::nullopt;
  if (it->is_number_unsigned()) {
    const auto value = it->template get<std::uint64_t>();
    if (value > static_cast<std::uint64_t>(std::numeric_limits<T>::max())) throw bad(key);
    return static_cast<T>(value);
  }
  if (!it->is_number_integer()) throw bad(key);
  const auto value = it->template get<std::int64_t>();
  if (value < static_cast<std::int64_t>(std::numeric_limits<T>::min()) ||
      value > static_cast<std::int64_t>(std::numeric_limits<T>::max()))
    throw bad(key);
  return static_cast<T>(value);
}

}  // namespace pgchaos::history
