// Integer fields of JSON that pgchaos reads back (history lines, snapshots, run.json, report.json), read without
// undefined behaviour: nlohmann::json converts a float (1e38) to an integer type with a static_cast, and a file on
// disk may hold anything. Users link nlohmann_json themselves.
#pragma once

#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace pgchaos::common {

/// `value` as T when it is an integer T can hold, else nullopt (a float, a string, out of range).
template <typename T>
std::optional<T> json_integer_value(const nlohmann::json& value) {
  static_assert(std::is_integral_v<T> && !std::is_same_v<T, bool>);
  if (value.is_number_unsigned()) {
    const auto v = value.get<std::uint64_t>();
    if (v > static_cast<std::uint64_t>(std::numeric_limits<T>::max())) return std::nullopt;
    return static_cast<T>(v);
  }
  if (!value.is_number_integer()) return std::nullopt;
  const auto v = value.get<std::int64_t>();
  if constexpr (std::is_unsigned_v<T>) {
    if (v < 0 || static_cast<std::uint64_t>(v) > static_cast<std::uint64_t>(std::numeric_limits<T>::max()))
      return std::nullopt;
  } else {
    if (v < static_cast<std::int64_t>(std::numeric_limits<T>::min()) ||
        v > static_cast<std::int64_t>(std::numeric_limits<T>::max()))
      return std::nullopt;
  }
  return static_cast<T>(v);
}

/// The value of `key` as T when it is an integer T can hold; nullopt when absent; throws `Bad` otherwise.
template <typename T, typename Bad>
std::optional<T> json_integer(const nlohmann::json& j, const char* key, Bad bad) {
  const auto it = j.find(key);
  if (it == j.end()) return std::nullopt;
  const auto value = json_integer_value<T>(*it);
  if (!value) throw bad(key);
  return value;
}

/// j[key] as T; `fallback` when absent. Throws std::invalid_argument naming the key when it is not an integer T
/// can hold: the readers of pgchaos's own files catch it beside nlohmann::json::exception.
template <typename T>
T integer_or(const nlohmann::json& j, const char* key, T fallback) {
  return json_integer<T>(j, key, [](const char* name) {
           return std::invalid_argument(std::string(name) + " must be an integer in range");
         }).value_or(fallback);
}
/// j[key] as T, required: absent is an error too.
template <typename T>
T integer_at(const nlohmann::json& j, const char* key) {
  if (!j.contains(key)) throw std::invalid_argument(std::string(key) + " is missing");
  return integer_or<T>(j, key, T{});
}

}  // namespace pgchaos::common
