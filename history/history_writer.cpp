#include "history/events.h"

#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include "compact_history.h"
#include "compressed_file.h"

namespace pgchaos::history {

struct HistoryWriter::State {
  std::filesystem::path path;
  std::unique_ptr<OutputFile> file;  // plain, or zstd for a name ending in .zst
  std::unique_ptr<CompactWriter> compact;  // the side file that loads fast; none if it could not be created
  std::chrono::milliseconds flush_interval;
  std::chrono::steady_clock::time_point epoch = std::chrono::steady_clock::now();

  std::mutex mutex;
  std::condition_variable wake;
  std::vector<Event> pending;  // guarded by mutex
  bool closing = false;        // guarded by mutex
  std::thread thread;
  std::once_flag closed;

  // Runs on the writer thread only: formatting happens here, off the workers' path.
  void write_loop() {
    std::vector<Event> batch;
    std::string buffer;
    for (;;) {
      bool stop = false;
      {
        std::unique_lock lock(mutex);
        wake.wait_for(lock, flush_interval, [&] { return closing; });
        batch.swap(pending);
        stop = closing;
      }
      buffer.clear();
      for (const Event& event : batch) {
        const std::size_t start = buffer.size();
        buffer += to_json_line(event);
        if (compact) compact->add(event, std::string_view(buffer).substr(start));
      }
      batch.clear();
      if (!buffer.empty()) {
        // A failed write cannot be reported to the workers; it goes to stderr once per batch.
        if (!file->write_and_flush(buffer)) std::fprintf(stderr, "pgchaos: writing %s failed\n", path.c_str());
        if (compact) compact->flush();  // after the history: the side file never runs ahead of it
      }
      if (stop) return;
    }
  }
};

HistoryWriter::HistoryWriter(const std::filesystem::path& file, std::chrono::milliseconds flush_interval)
    : state_(std::make_unique<State>()) {
  state_->path = file;
  state_->flush_interval = flush_interval;
  state_->file = std::make_unique<OutputFile>(file);
  try {
    state_->compact = std::make_unique<CompactWriter>(file);
  } catch (const HistoryError&) {
    // Only loading speed is lost: the history is parsed instead.
  }
  state_->thread = std::thread([s = state_.get()] { s->write_loop(); });
}

HistoryWriter::~HistoryWriter() { close(); }

void HistoryWriter::stamp(Event& event) const {
  const auto now = std::chrono::steady_clock::now();
  event.mono_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now - state_->epoch).count();
  event.wall_us = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
}

void HistoryWriter::append(Event event) {
  std::lock_guard lock(state_->mutex);
  state_->pending.push_back(std::move(event));
}

void HistoryWriter::close() {
  std::call_once(state_->closed, [this] {
    {
      std::lock_guard lock(state_->mutex);
      state_->closing = true;
    }
    state_->wake.notify_one();
    state_->thread.join();
    state_->file->close();
    if (state_->compact) state_->compact->finish();  // names the closed history's size and time
  });
}

}  // namespace pgchaos::history
