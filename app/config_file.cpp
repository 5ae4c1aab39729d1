#include <fmt/format.h>

#include <fstream>
#include <sstream>

#include "app/app.h"

namespace pgchaos::app {
namespace {

std::string trim(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\r");
  if (first == std::string::npos) return "";
  const auto last = text.find_last_not_of(" \t\r");
  return text.substr(first, last - first + 1);
}

}  // namespace

std::vector<ConfigEntry> read_config_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw UsageError(fmt::format("{}: cannot read the configuration file", file.string()));
  return parse_config_text(std::string(std::istreambuf_iterator<char>(in), {}), file.string());
}

std::vector<ConfigEntry> parse_config_text(const std::string& content, const std::string& origin) {
  const std::filesystem::path file = origin;
  std::istringstream in(content);
  std::vector<ConfigEntry> entries;
  std::string section, raw;
  int line = 0;
  while (std::getline(in, raw)) {
    ++line;
    const std::string text = trim(raw);
    if (text.empty() || text[0] == '#' || text[0] == ';') continue;
    if (text.front() == '[') {
      if (text.back() != ']' || text.size() < 3)
        throw UsageError(fmt::format("{}:{}: malformed section header '{}'", file.string(), line, text));
      section = trim(text.substr(1, text.size() - 2));
      continue;
    }
    const auto equals = text.find('=');
    if (equals == std::string::npos)
      throw UsageError(fmt::format("{}:{}: expected 'key = value', got '{}'", file.string(), line, text));
    if (section.empty())
      throw UsageError(fmt::format("{}:{}: '{}' appears before any [section]", file.string(), line, text));
    const std::string key = trim(text.substr(0, equals));
    if (key.empty()) throw UsageError(fmt::format("{}:{}: empty key", file.string(), line));
    entries.push_back({section, key, trim(text.substr(equals + 1)), line});
  }
  return entries;
}

std::string convert_pg_cluster_dsn(const std::string& dsn) {
  // The documented one-line rule: pq://user:password@host:port/db  ->  postgresql://user:password@host:port/db
  if (dsn.rfind("pq://", 0) == 0) return "postgresql://" + dsn.substr(5);
  return dsn;
}

}  // namespace pgchaos::app
