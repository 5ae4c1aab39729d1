// `pgchaos run` options: the seed's configuration file, then flags over it.
#include <fmt/format.h>

#include <boost/program_options.hpp>
#include <charconv>
#include <ctime>
#include <iostream>
#include <random>
#include <regex>

#include "app/app.h"

namespace pgchaos::app {
namespace po = boost::program_options;
namespace {

template <typename Number>
Number parse_number(const std::string& text, const std::string& where, Number min, Number max) {
  Number value{};
  const auto* end = text.data() + text.size();
  const auto [ptr, error] = std::from_chars(text.data(), end, value);
  if (error != std::errc() || ptr != end || value < min || value > max)
    throw UsageError(fmt::format("{}: '{}' is not a number from {} to {}", where, text, min, max));
  return value;
}

std::chrono::milliseconds parse_seconds(const std::string& text, const std::string& where) {
  // The seed gives seconds, possibly fractional ("3", "0.5").
  static const std::regex number(R"(\d+(\.\d+)?)");
  if (!std::regex_match(text, number))
    throw UsageError(fmt::format("{}: '{}' is not a number of seconds", where, text));
  return std::chrono::milliseconds(static_cast<long>(std::stod(text) * 1000));
}

bool parse_bool(const std::string& text, const std::string& where) {
  std::string lower;
  for (const char c : text) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "1" || lower == "true" || lower == "yes" || lower == "on") return true;
  if (lower == "0" || lower == "false" || lower == "no" || lower == "off") return false;
  throw UsageError(fmt::format("{}: '{}' is not a boolean (0/1, true/false)", where, text));
}

std::string parse_log_level(const std::string& text, const std::string& where) {
  std::string lower;
  for (const char c : text) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "warning") lower = "warn";
  if (lower == "critical" || lower == "fatal") lower = "critical";
  for (const char* level : {"trace", "debug", "info", "warn", "error", "critical"})
    if (lower == level) return lower;
  throw UsageError(fmt::format("{}: '{}' is not a log level (debug, info, warning, error)", where, text));
}

std::chrono::milliseconds parse_duration(const std::string& text, const std::string& where) {
  static const std::regex duration(R"((\d+(?:\.\d+)?)(ms|s))");
  std::smatch match;
  if (!std::regex_match(text, match, duration))
    throw UsageError(fmt::format("{}: '{}' is not a duration like 150ms or 0.2s", where, text));
  const double value = std::stod(match[1]);
  return std::chrono::milliseconds(static_cast<long>(match[2] == "s" ? value * 1000 : value));
}

backend::ThinkTime parse_think_time(const std::string& text, const std::string& where) {
  const auto dash = text.find('-');
  backend::ThinkTime think;
  think.min = parse_duration(text.substr(0, dash), where);
  think.max = dash == std::string::npos ? think.min : parse_duration(text.substr(dash + 1), where);
  if (think.max < think.min) throw UsageError(fmt::format("{}: '{}': the range is backwards", where, text));
  return think;
}

std::string utc_timestamp() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y%m%dT%H%M%SZ", &tm);
  return buffer;
}

void apply_config_file(const std::filesystem::path& file, RunOptions& options) {
  for (const auto& e : read_config_file(file)) {
    const std::string where = fmt::format("{}:{}: [{}] {}", file.string(), e.line, e.section, e.key);
    auto& w = options.workload;
    if (e.section == "databases") {
      if (e.value.empty()) throw UsageError(where + ": empty DSN");
      w.dsns.push_back(convert_seed_dsn(e.value));
    } else if (e.section == "main" && e.key == "application_name") {
      w.application_name = e.value;
    } else if (e.section == "main" && e.key == "threads_num") {
      w.threads = parse_number(e.value, where, 1, 1000);
    } else if (e.section == "main" && e.key == "conn_exception_sleep_interval") {
      w.conn_exception_sleep = parse_seconds(e.value, where);
    } else if (e.section == "main" && e.key == "reconnect_attempt") {
      w.reconnect_attempt = parse_number(e.value, where, 1, 1000);
    } else if (e.section == "test" && e.key == "accounts") {
      w.accounts = parse_number(e.value, where, 2, 100000000);
    } else if (e.section == "test" && e.key == "operations") {
      w.operations = parse_number<std::int64_t>(e.value, where, 1, 1'000'000'000'000);
    } else if (e.section == "test" && e.key == "think_time") {
      w.think_time = parse_think_time(e.value, where);
    } else if (e.section == "log" && e.key == "log_level") {
      options.log_level = parse_log_level(e.value, where);
    } else if (e.section == "log" && e.key == "log_sql") {
      w.log_sql = parse_bool(e.value, where);
    } else if (e.section == "log" && e.key == "file_maxmbytes") {
      options.log_file_max_mb = parse_number(e.value, where, 1, 100000);
    } else if (e.section == "log" && e.key == "file_backupcount") {
      options.log_file_backups = parse_number(e.value, where, 0, 1000);
    } else if (e.section == "cluster" || e.section == "commands" || e.section == "lab") {
      // Read by the commands that drive a cluster; `run` does not need them.
    } else {
      throw UsageError(where + ": unknown key");
    }
  }
}

}  // namespace

RunOptions parse_run_options(const std::vector<std::string>& args) {
  po::options_description flags("pgchaos run options");
  flags.add_options()
      ("help,h", "show this help")
      ("conf", po::value<std::string>(), "configuration file (the seed's INI format)")
      ("operations", po::value<std::string>(), "operations to commit (default 1000)")
      ("threads", po::value<std::string>(), "worker threads (default 10; [main] threads_num)")
      ("accounts", po::value<std::string>(), "accounts (default 100; 10 makes deadlocks frequent)")
      ("dsn", po::value<std::vector<std::string>>(), "libpq conninfo or URI; repeat for several; replaces [databases]")
      ("think-time", po::value<std::string>(), "pause before debit and before credit, e.g. 100ms-200ms (off by default)")
      ("output", po::value<std::string>(), "run directory (default runs/<UTC timestamp>)")
      ("seed", po::value<std::string>(), "random seed (default: drawn and recorded)")
      ("reset", po::bool_switch(), "recreate pgchaos's own tables before the run")
      ("max-lost", po::value<std::string>(), "lost acknowledged commits allowed before the verdict is invalid "
                                             "(default: any in async mode, 0 in sync mode)");
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(flags).run(), vm);
    po::notify(vm);
  } catch (const po::error& error) {
    throw UsageError(std::string("pgchaos run: ") + error.what());
  }
  RunOptions options;
  if (vm.count("help")) {
    std::cout << "usage: pgchaos run [--conf FILE] [options]\n" << flags << '\n';
    options.help_shown = true;
    return options;
  }
  options.workload.seed = std::random_device{}();
  options.workload.show_progress = true;
  if (vm.count("conf")) {
    apply_config_file(vm["conf"].as<std::string>(), options);
    options.cluster = read_cluster_config(vm["conf"].as<std::string>());
  }
  if (vm.count("max-lost"))
    options.max_lost = parse_number<std::int64_t>(vm["max-lost"].as<std::string>(), "--max-lost", 0, INT64_MAX);
  auto& w = options.workload;
  if (vm.count("dsn")) {
    w.dsns.clear();
    for (const auto& dsn : vm["dsn"].as<std::vector<std::string>>()) w.dsns.push_back(convert_seed_dsn(dsn));
  }
  if (vm.count("operations"))
    w.operations = parse_number<std::int64_t>(vm["operations"].as<std::string>(), "--operations", 1, 1'000'000'000'000);
  if (vm.count("threads")) w.threads = parse_number(vm["threads"].as<std::string>(), "--threads", 1, 1000);
  if (vm.count("accounts")) w.accounts = parse_number(vm["accounts"].as<std::string>(), "--accounts", 2, 100000000);
  if (vm.count("think-time")) w.think_time = parse_think_time(vm["think-time"].as<std::string>(), "--think-time");
  if (vm.count("seed"))
    w.seed = parse_number<std::uint64_t>(vm["seed"].as<std::string>(), "--seed", 0, INT64_MAX);
  w.seed &= INT64_MAX;  // stored as a bigint
  w.reset = vm["reset"].as<bool>();
  options.output = vm.count("output") ? std::filesystem::path(vm["output"].as<std::string>())
                                      : std::filesystem::path("runs") / utc_timestamp();
  if (w.dsns.empty())
    throw UsageError("pgchaos run: no database: give --dsn CONNINFO or --conf FILE with a [databases] section");
  return options;
}

}  // namespace pgchaos::app
