// Internal to workloads/append: PostgreSQL's text form of a bigint[], as the lists are read.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace pgchaos::append {

/// "{1,2,3}" (never NULL elements here). Throws std::invalid_argument naming the text.
std::vector<std::int64_t> parse_array(std::string_view text);

}  // namespace pgchaos::append
