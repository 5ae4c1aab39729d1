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
#include "common/splitmix64.h"

namespace pgchaos::engine {
namespace {

using Clock = std::chrono::steady_clock;

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
  return common::splitmix64(soak_seed + static_cast<std::uint64_t>(epoch)) & INT64_MAX;  // stored as a bigint
}

std::size_t epoch_scenario(std::uint64_t soak_seed, int epoch, std::size_t scenarios) {
  return scenarios == 0 ? 0 : static_cast<std::size_t>(common::splitmix64(~soak_seed + static_cast<std::uint64_t>(epoch)) % scenarios);
}

namespace {

// A soak going through its phases: the report started, then epoch after epoch (a healthy cluster between them,
// each epoch one engine::run), then the report finished with the exit code.
class Soak {
 public:
  Soak(SoakRequest request, const std::filesystem::path& soak_dir, common::StopSource& stop, const Say& say)
      : request_(std::move(request)), soak_dir_(soak_dir), stop_(stop), say_(say),
        started_(Clock::now()), end_(started_ + request_.duration),
        planned_epochs_(static_cast<int>((request_.duration.count() + request_.epoch.count() - 1) / request_.epoch.count())),
        progress_(request_.progress, [this] { return progress_text(); }) {}

  SoakOutcome go() {
    start_report();
    for (int k = 1;; ++k) {
      const auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(end_ - Clock::now());
      // Too short for a fault and its recovery: the soak ends rather than run a stub of an epoch.
      if (stop_.requested() || remaining < std::min<std::chrono::milliseconds>(std::chrono::seconds(30), request_.epoch))
        break;
      if (k > 1 && !healthy_between_epochs(k)) break;
      run_epoch(k, remaining);
      if (consecutive_errors_ >= 3) {
        report().status = reports::SoakStatus::harness_error;
        break;
      }
    }
    return finish();
  }

 private:
  reports::SoakReport& report() { return outcome_.report; }

  void start_report() {
    auto& r = report();
    r.started_at = utc_now();
    r.seed = request_.seed;
    for (const auto& s : request_.scenarios) r.scenarios.push_back(s.name);
    if (request_.base.faults) r.commit_mode = request_.base.faults->commit_mode;
    r.keep = request_.keep == Keep::all ? "all" : "invalid";
    r.planned_s = std::chrono::duration<double>(request_.duration).count();
    r.epoch_s = std::chrono::duration<double>(request_.epoch).count();
  }

  std::string progress_text() {
    const std::lock_guard lock(shown_mutex_);
    return fmt::format("soak: epoch {} of {} · {} / {} · {} ops · lost so far: {} · {}", current_epoch_, planned_epochs_,
                       minutes(std::chrono::duration<double>(Clock::now() - started_).count()), minutes(report().planned_s),
                       live_ok_.load(), lost_so_far_, current_fault_);
  }
  void show_fault(std::string text) {
    const std::lock_guard lock(shown_mutex_);
    current_fault_ = std::move(text);
  }

  // The soak prints what tells the night's story (each fault, each finding); every other line of an epoch is in
  // its pgchaos.log and reports.
  RunObserver epoch_observer() {
    RunObserver observer;
    observer.fault_started = [this](const scenarios::Action&, const std::string& line) {
      show_fault(line.substr(0, line.find('\n')));
      say_("  " + line);
    };
    observer.finding = [this](const std::string& finding) {
      show_fault("finding: " + finding);
      say_("  finding: " + finding);
    };
    return observer;
  }

  // Between epochs the cluster must be healthy again. The epoch's final heal has waited for it already (and left a
  // finding if in vain), so a short look decides; an unhealthy cluster ends the soak or, when asked, is rebuilt.
  bool healthy_between_epochs(int k) {
    if (!request_.base.faults || !request_.base.faults->cluster) return true;
    auto& cluster = *request_.base.faults->cluster;
    const auto topology = scenarios::wait_healthy(cluster, std::chrono::seconds(30), &stop_);
    if (stop_.requested()) return false;
    if (topology.healthy()) return true;
    const auto forensics = soak_dir_ / fmt::format("between-{:04}", k);
    // The log lines that matter from the last ten minutes: the end of the epoch that left the cluster so.
    const auto since = std::chrono::system_clock::now() - std::chrono::minutes(10);
    const auto found = scenarios::collect_forensics(
        cluster, forensics, std::chrono::duration_cast<std::chrono::microseconds>(since.time_since_epoch()).count());
    std::string lines = found.key_lines;
    for (const auto& sign : found.findings) lines += "finding: " + sign + "\n";
    report().findings.push_back(fmt::format("the cluster was not healthy after epoch {}: {} (forensics: {})\n{}", k - 1,
                                            fmt::join(topology.problems, "; "), forensics.string(), lines));
    say_(fmt::format("soak: the cluster is not healthy after epoch {}: {}", k - 1, fmt::join(topology.problems, "; ")));
    if (!request_.rebuild_cluster) {
      report().status = reports::SoakStatus::cluster_unhealthy;
      return false;
    }
    try {
      say_("soak: rebuilding the lab");
      request_.base = request_.rebuild_cluster();
      return true;
    } catch (const std::exception& error) {
      report().findings.push_back(std::string("rebuilding the lab failed: ") + error.what());
      report().status = reports::SoakStatus::cluster_unhealthy;
      return false;
    }
  }

  // Epoch k: its seed and scenario from the soak's, one engine::run, its summary into the report (rewritten).
  void run_epoch(int k, std::chrono::milliseconds remaining) {
    reports::RunSummary summary;
    summary.index = k;
    summary.directory = fmt::format("epoch-{:04}", k);
    summary.seed = epoch_seed(request_.seed, k);
    const auto& scenario = request_.scenarios[epoch_scenario(request_.seed, k, request_.scenarios.size())];
    summary.scenario = scenario.name;
    summary.started_at = utc_now();
    faults::Command replay{request_.replay_command};
    replay.argv.push_back((soak_dir_ / summary.directory).string());
    summary.replay = replay.shell();
    {
      const std::lock_guard lock(shown_mutex_);
      current_epoch_ = k;
      current_fault_ = "no fault yet";
    }

    RunRequest run_request = request_.base;
    run_request.workload.seed = summary.seed;
    run_request.workload.reset = true;  // pgchaos's own tables start empty: the ledger never outgrows an epoch
    run_request.workload.show_progress = false;
    run_request.workload.live_ok = &live_ok_;
    run_request.compress_history = true;
    run_request.duration = std::min(request_.epoch, remaining);
    if (run_request.faults) {
      run_request.faults->scenario = scenario;
      run_request.faults->actions = scenarios::schedule(scenario, summary.seed);
      run_request.faults->cycle = true;
    }
    say_(fmt::format("soak: epoch {} of {}: {} (seed {}) for {}", k, planned_epochs_, scenario.name, summary.seed,
                     minutes(std::chrono::duration<double>(*run_request.duration).count())));
    auto directory = history::RunDirectory::for_new_run(soak_dir_ / summary.directory);
    {
      common::StopSource epoch_stop(&stop_);
      try {
        const auto run = engine::run(run_request, directory, epoch_stop, epoch_observer());
        summary = reports::summarize_run(run.result, summary);
        summary.exit_code = static_cast<int>(run.exit_code);
        if (run.stats.fatal_error) summary.error = *run.stats.fatal_error;
        consecutive_errors_ = 0;
      } catch (const std::exception& error) {
        summary.error = error.what();
        summary.headline = std::string("no verdict: ") + error.what();
        summary.exit_code = static_cast<int>(ExitCode::unknown_or_error);
        ++consecutive_errors_;
      }
    }
    show_fault("between epochs");
    if (request_.keep == Keep::invalid && summary.verdict == checker::Verdict::valid && summary.error.empty()) {
      directory.remove_bulk();
      summary.kept = "report";
    }
    ::malloc_trim(0);  // an epoch's check freed its history: the memory goes back, so RSS stays flat over a night
    summary.rss_bytes = resident_bytes();
    summary.disk_bytes = disk_bytes(soak_dir_);
    report().epochs.push_back(summary);
    {
      const std::lock_guard lock(shown_mutex_);
      lost_so_far_ = reports::causes_text(report().lost_by_cause());
    }
    say_(fmt::format("soak: epoch {} {}: {} · {} ops · RSS {:.0f} MiB · soak directory {:.1f} MiB", k,
                     checker::to_string(summary.verdict), summary.headline, summary.operations,
                     static_cast<double>(summary.rss_bytes) / (1 << 20), static_cast<double>(summary.disk_bytes) / (1 << 20)));
    write_report();
  }

  // The soak's verdict is every epoch's merged; a finding between epochs makes it invalid; no epoch, unknown.
  void write_report() {
    auto& r = report();
    r.ended_at = utc_now();
    r.elapsed_s = std::chrono::duration<double>(Clock::now() - started_).count();
    r.verdict = r.epochs.empty() ? checker::Verdict::unknown : checker::Verdict::valid;
    for (const auto& e : r.epochs) r.verdict = checker::merge(r.verdict, e.verdict);
    if (!r.findings.empty()) r.verdict = checker::Verdict::invalid;
    reports::write_soak_reports(soak_dir_, r);
  }

  SoakOutcome finish() {
    auto& r = report();
    if (r.status == reports::SoakStatus::running)
      r.status = stop_.requested() ? reports::SoakStatus::interrupted : reports::SoakStatus::completed;
    write_report();
    if (r.status == reports::SoakStatus::interrupted) outcome_.exit_code = ExitCode::interrupted;
    else if (r.verdict == checker::Verdict::invalid) outcome_.exit_code = ExitCode::invalid;
    else if (r.verdict == checker::Verdict::valid && r.status == reports::SoakStatus::completed) outcome_.exit_code = ExitCode::valid;
    else outcome_.exit_code = ExitCode::unknown_or_error;
    say_(fmt::format("soak {}: {} — {} epochs, lost: {} · soak report: {}", reports::to_string(r.status),
                     checker::to_string(r.verdict), r.epochs.size(), reports::causes_text(r.lost_by_cause()),
                     (soak_dir_ / "soak.html").string()));
    return std::move(outcome_);
  }

  SoakRequest request_;
  const std::filesystem::path& soak_dir_;
  common::StopSource& stop_;
  const Say& say_;
  SoakOutcome outcome_;
  const Clock::time_point started_, end_;
  const int planned_epochs_;
  int consecutive_errors_ = 0;
  // What the progress line shows; written by the soak's thread and the engine's, read by the progress thread.
  std::atomic<std::int64_t> live_ok_{0};
  std::mutex shown_mutex_;
  int current_epoch_ = 0;
  std::string current_fault_ = "none yet", lost_so_far_ = "none";
  ProgressLine progress_;  // last: its thread reads the members above
};

}  // namespace

SoakOutcome soak(SoakRequest request, const std::filesystem::path& soak_dir, common::StopSource& stop, const Say& say) {
  create_empty_directory(soak_dir, "soak");
  return Soak(std::move(request), soak_dir, stop, say).go();
}

}  // namespace pgchaos::engine
