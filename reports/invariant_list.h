// Internal to reports/: the check as a list of named invariants, shared by the JSON report and JUnit.
#pragma once

#include <string>
#include <vector>

#include "checker/checker.h"

namespace pgchaos::reports {

enum class Status { pass, fail, report, not_checked };
const char* to_string(Status status);

struct InvariantResult {
  std::string name;      ///< stable identifier, e.g. no_lost_commits
  std::string group;     ///< invariants | convergence | faults
  Status status;
  std::string detail;
};

std::vector<InvariantResult> invariant_results(const checker::CheckResult& r);

/// Escapes text for HTML and XML (&, <, >, quotes; control characters dropped).
std::string escape_markup(const std::string& text);

/// "12, 15, 40 … (total 1043)" for long op lists.
std::string first_ids(const std::vector<std::int64_t>& ids, std::size_t limit, std::int64_t total = -1);

}  // namespace pgchaos::reports
