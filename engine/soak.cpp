// The soak: epochs of scenario runs for hours, with their resources bounded (pgchaos's tables recreated for each
// epoch, histories compressed, a valid epoch's bulk dropped with --keep invalid, freed memory handed back).
#include "engine/soak.h"

#include <fmt/format.h>
#include <malloc.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <thread>

#include "run_record.h"

namespace pgchaos::engine {
namespace {

using Clock = std::chrono::steady_clock;

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

std::int64_t resident_bytes() {
  std::FILE* statm = std::fopen("/proc/self/statm", "r");
  if (statm == nullptr) return 0;
  long pages = 0, resident = 0;
  const int read = std::fscanf(statm, "%ld %ld", &pages, &resident);
  std::fclose(statm);
  return read == 2 ? static_cast<std::int64_t>(resident) * ::sysconf(_SC_PAGESIZE) : 0;
}

std::int64_t disk_bytes(const std::filesystem::path& dir) {
  std::int64_t total = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec); !ec && it != std::filesystem::end(it);
       it.increment(ec))
    if (it->is_regular_file(ec)) total += static_cast<std::int64_t>(it->file_size(ec));
  return total;
}

std::string minutes(double seconds) {
  const auto s = static_cast<long>(seconds);
  return s >= 3600 ? fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60) : fmt::format("{}:{:02}", s / 60, s % 60);
}

// The progress line, redrawn every second from its own thread while the soak runs.
class ProgressLine {
 public:
  using Text = std::function<std::string()>;
  ProgressLine(std::function<void(const std::string&)> sink, Text text) : sink_(std::move(sink)), text_(std::move(text)) {
    if (sink_) thread_ = std::thread([this] { loop(); });
  }
  ~ProgressLine() {
    {
      const std::lock_guard lock(mutex_);
      done_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

 private:
  void loop() {
    std::unique_lock lock(mutex_);
    while (!wake_.wait_for(lock, std::chrono::seconds(1), [this] { return done_; })) {
      lock.unlock();
      sink_(text_());
      lock.lock();
    }
  }
  std::function<void(const std::string&)> sink_;
  Text text_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool done_ = false;
  std::thread thread_;
};

}  // namespace

std::uint64_t epoch_seed(std::uint64_t soak_seed, int epoch) {
  return splitmix64(soak_seed + static_cast<std::uint64_t>(epoch)) & INT64_MAX;  // stored as a bigint
}

std::size_t epoch_scenario(std::uint64_t soak_seed, int epoch, std::size_t scenarios) {
  return scenarios == 0 ? 0 : static_cast<std::size_t>(splitmix64(~soak_seed + static_cast<std::uint64_t>(epoch)) % scenarios);
}

SoakOutcome soak(SoakRequest request, const std::filesystem::path& soak_dir, common::StopSource& stop, const Say& say) {
  create_empty_directory(soak_dir, "soak");

  SoakOutcome outcome;
  auto& report = outcome.report;
  report.started_at = utc_now();
  report.seed = request.seed;
  for (const auto& s : request.scenarios) report.scenarios.push_back(s.name);
  report.commit_mode = request.base.faults && request.base.faults->commit_mode
                           ? request.base.faults->commit_mode->text() : "as the cluster is";
  report.keep = request.keep == Keep::all ? "all" : "invalid";
  report.planned_s = std::chrono::duration<double>(request.duration).count();
  report.epoch_s = std::chrono::duration<double>(request.epoch).count();
  const auto started = Clock::now();
  const auto end = started + request.duration;
  const int planned_epochs = static_cast<int>((request.duration.count() + request.epoch.count() - 1) / request.epoch.count());

  // What the progress line shows; written by the soak's thread and the engine's, read by the progress thread.
  std::atomic<std::int64_t> live_ok{0};
  std::mutex shown_mutex;
  int current_epoch = 0;
  std::string current_fault = "none yet", lost_so_far = "none";
  ProgressLine progress(request.progress, [&] {
    const std::lock_guard lock(shown_mutex);
    return fmt::format("soak: epoch {} of {} · {} / {} · {} ops · lost so far: {} · {}", current_epoch, planned_epochs,
                       minutes(std::chrono::duration<double>(Clock::now() - started).count()), minutes(report.planned_s),
                       live_ok.load(), lost_so_far, current_fault);
  });
  const Say epoch_say = [&](const std::string& line) {
    // The soak prints what tells the night's story; every other line is in the epoch's pgchaos.log and reports.
    const auto start = line.find_first_not_of(' ');
    const std::string text = start == std::string::npos ? "" : line.substr(start);
    const bool fault_started = text.rfind("fault ", 0) == 0 && text.find(':') < text.find('(');  // "fault 3: crash on pgc1"
    if (fault_started || text.rfind("finding", 0) == 0) {
      const std::lock_guard lock(shown_mutex);
      current_fault = text.substr(0, text.find('\n'));
    }
    if (text.rfind("fault ", 0) == 0 || text.rfind("finding", 0) == 0) say("  " + text);
  };

  auto finish_report = [&] {
    report.ended_at = utc_now();
    report.elapsed_s = std::chrono::duration<double>(Clock::now() - started).count();
    bool invalid = !report.findings.empty(), unknown = false;
    for (const auto& e : report.epochs) {
      invalid = invalid || e.verdict == "invalid";
      unknown = unknown || (e.verdict != "invalid" && e.verdict != "valid");
    }
    report.verdict = invalid ? "invalid" : unknown || report.epochs.empty() ? "unknown" : "valid";
    reports::write_soak_reports(soak_dir, report);
  };

  int consecutive_errors = 0;
  for (int k = 1;; ++k) {
    if (stop.requested()) break;
    const auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now());
    // Too short for a fault and its recovery: the soak ends rather than run a stub of an epoch.
    if (remaining < std::min<std::chrono::milliseconds>(std::chrono::seconds(30), request.epoch)) break;

    // Between epochs the cluster must be healthy again. The epoch's final heal has waited for it already (and
    // left a finding if in vain), so a short look decides.
    if (k > 1 && request.base.faults && request.base.faults->cluster) {
      auto& cluster = *request.base.faults->cluster;
      const auto topology = scenarios::wait_healthy(cluster, std::chrono::seconds(30), &stop);
      if (stop.requested()) break;
      if (!topology.healthy()) {
        const auto forensics = soak_dir / fmt::format("between-{:04}", k);
        // The log lines that matter from the last ten minutes: the end of the epoch that left the cluster so.
        const auto since = std::chrono::system_clock::now() - std::chrono::minutes(10);
        const auto found = scenarios::collect_forensics(
            cluster, forensics, std::chrono::duration_cast<std::chrono::microseconds>(since.time_since_epoch()).count());
        std::string lines = found.key_lines;
        for (const auto& sign : found.findings) lines += "finding: " + sign + "\n";
        report.findings.push_back(fmt::format("the cluster was not healthy after epoch {}: {} (forensics: {})\n{}", k - 1,
                                              fmt::join(topology.problems, "; "), forensics.string(), lines));
        say(fmt::format("soak: the cluster is not healthy after epoch {}: {}", k - 1, fmt::join(topology.problems, "; ")));
        if (!request.rebuild_cluster) {
          report.status = "cluster unhealthy";
          break;
        }
        try {
          say("soak: rebuilding the lab");
          request.base = request.rebuild_cluster();
        } catch (const std::exception& error) {
          report.findings.push_back(std::string("rebuilding the lab failed: ") + error.what());
          report.status = "cluster unhealthy";
          break;
        }
      }
    }

    reports::EpochSummary summary;
    summary.index = k;
    summary.directory = fmt::format("epoch-{:04}", k);
    summary.seed = epoch_seed(request.seed, k);
    const auto& scenario = request.scenarios[epoch_scenario(request.seed, k, request.scenarios.size())];
    summary.scenario = scenario.name;
    summary.started_at = utc_now();
    faults::Command replay{request.replay_command};
    replay.argv.push_back((soak_dir / summary.directory).string());
    summary.replay = replay.shell();
    {
      const std::lock_guard lock(shown_mutex);
      current_epoch = k;
      current_fault = "no fault yet";
    }

    RunRequest run_request = request.base;
    run_request.workload.seed = summary.seed;
    run_request.workload.reset = true;  // pgchaos's own tables start empty: the ledger never outgrows an epoch
    run_request.workload.show_progress = false;
    run_request.workload.live_ok = &live_ok;
    run_request.compress_history = true;
    run_request.duration = std::min(request.epoch, remaining);
    if (run_request.faults) {
      run_request.faults->scenario = scenario;
      run_request.faults->actions = scenarios::schedule(scenario, summary.seed);
      run_request.faults->cycle = true;
    }
    say(fmt::format("soak: epoch {} of {}: {} (seed {}) for {}", k, planned_epochs, scenario.name, summary.seed,
                    minutes(std::chrono::duration<double>(*run_request.duration).count())));
    auto directory = history::RunDirectory::for_new_run(soak_dir / summary.directory);
    {
      common::StopSource epoch_stop(&stop);
      try {
        const auto run = engine::run(run_request, directory, epoch_stop, epoch_say);
        summary = reports::summarize_run(run.result, summary);
        summary.exit_code = static_cast<int>(run.exit_code);
        if (run.stats.fatal_error) summary.error = *run.stats.fatal_error;
        consecutive_errors = 0;
      } catch (const std::exception& error) {
        summary.error = error.what();
        summary.headline = std::string("no verdict: ") + error.what();
        summary.exit_code = static_cast<int>(ExitCode::unknown_or_error);
        ++consecutive_errors;
      }
    }
    {
      const std::lock_guard lock(shown_mutex);
      current_fault = "between epochs";
    }
    if (request.keep == Keep::invalid && summary.verdict == "valid" && summary.error.empty()) {
      directory.remove_bulk();
      summary.kept = "report";
    }
    ::malloc_trim(0);  // an epoch's check freed its history: the memory goes back, so RSS stays flat over a night
    summary.rss_bytes = resident_bytes();
    summary.disk_bytes = disk_bytes(soak_dir);
    report.epochs.push_back(summary);
    {
      const std::lock_guard lock(shown_mutex);
      lost_so_far = reports::causes_text(report.lost_by_cause());
    }
    say(fmt::format("soak: epoch {} {}: {} · {} ops · RSS {:.0f} MiB · soak directory {:.1f} MiB", k, summary.verdict,
                    summary.headline, summary.operations, static_cast<double>(summary.rss_bytes) / (1 << 20),
                    static_cast<double>(summary.disk_bytes) / (1 << 20)));
    finish_report();
    if (consecutive_errors >= 3) {
      report.status = "harness error";
      break;
    }
  }
  if (report.status == "running") report.status = stop.requested() ? "interrupted" : "completed";
  finish_report();

  if (report.status == "interrupted") outcome.exit_code = ExitCode::interrupted;
  else if (report.verdict == "invalid") outcome.exit_code = ExitCode::invalid;
  else if (report.verdict == "valid" && report.status == "completed") outcome.exit_code = ExitCode::valid;
  else outcome.exit_code = ExitCode::unknown_or_error;
  say(fmt::format("soak {}: {} — {} epochs, lost: {} · soak report: {}", report.status, report.verdict,
                  report.epochs.size(), reports::causes_text(report.lost_by_cause()), (soak_dir / "soak.html").string()));
  return outcome;
}

}  // namespace pgchaos::engine
