// Where pgchaos finds its lab scripts and scenario library: set by a variable, installed beside the binary (a
// package puts them in /usr/share/pgchaos), or the source tree the binary was built from.
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

#include "app/app.h"

namespace pgchaos::app {
namespace {

// BIN/../share/pgchaos when the binary runs from an installation that has it (a package, `cmake --install`).
std::filesystem::path installed_data() {
  std::error_code error;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error) return {};
  const auto data = exe.parent_path().parent_path() / "share" / "pgchaos";
  return std::filesystem::is_directory(data, error) ? data : std::filesystem::path{};
}

std::filesystem::path data_directory(const char* variable, const char* installed_name, const char* source_tree) {
  if (const char* dir = std::getenv(variable); dir && *dir) return dir;
  if (const auto data = installed_data(); !data.empty()) return data / installed_name;
  return source_tree;  // set at build time: the checkout's own folder
}

void add_directory(std::vector<std::filesystem::path>& path, const std::filesystem::path& dir, const std::string& origin) {
  std::error_code error;
  if (!std::filesystem::is_directory(dir, error))
    throw UsageError(origin + ": " + dir.string() + " is not a directory");
  path.push_back(dir);
}

}  // namespace

std::filesystem::path lab_directory() { return data_directory("PGCHAOS_LAB_DIR", "lab", PGCHAOS_LAB_DIR); }

std::filesystem::path scenario_library() {
  return data_directory("PGCHAOS_SCENARIO_DIR", "scenarios", PGCHAOS_SCENARIO_DIR);
}

std::vector<std::filesystem::path> scenario_search_path(const std::vector<std::string>& scenario_dirs) {
  std::vector<std::filesystem::path> path;
  for (const auto& dir : scenario_dirs) add_directory(path, dir, "--scenario-dir");
  if (const char* variable = std::getenv("PGCHAOS_SCENARIO_PATH"); variable && *variable) {
    const std::string text = variable;
    std::size_t start = 0;
    while (start <= text.size()) {
      const auto end = std::min(text.find(':', start), text.size());
      if (end > start) add_directory(path, text.substr(start, end - start), "PGCHAOS_SCENARIO_PATH");
      start = end + 1;
    }
  }
  path.push_back(scenario_library());
  return path;
}

}  // namespace pgchaos::app
