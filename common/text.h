// Text for people: bytes from files and peers made printable, times in UTC.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

namespace pgchaos::common {

/// Text from a file or a peer made safe for one line of a terminal: control characters and bytes that are not
/// UTF-8 become \n, \t, \xNN escapes.
std::string printable(std::string_view text);
/// `when` in UTC through strftime's `format`, e.g. "%Y-%m-%dT%H:%M:%SZ" (run.json, soak.json) or "%Y%m%dT%H%M%SZ"
/// (directory names).
std::string utc_text(std::time_t when, const char* format);
/// A Unix time in microseconds as UTC with milliseconds, "2026-12-06T19:25:19.136Z": what run.json, soak.json and
/// the reports print, so an outside log or probe can be aligned with a run to the millisecond.
std::string utc_millis(std::int64_t unix_us);
/// Now, as utc_millis prints it.
std::string utc_millis_now();

}  // namespace pgchaos::common
