// The one temporary-directory helper of the tests: a fresh directory, removed with everything in it when the
// object dies (also when the test failed).
#pragma once

#include <filesystem>
#include <string>

namespace pgchaos::testing {

class TempDirectory {
 public:
  explicit TempDirectory(const std::string& prefix = "pgchaos-test");
  ~TempDirectory();
  TempDirectory(const TempDirectory&) = delete;
  TempDirectory& operator=(const TempDirectory&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

}  // namespace pgchaos::testing
