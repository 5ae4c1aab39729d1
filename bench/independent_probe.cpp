// A minimal write probe that shares no code with pgchaos, to measure pgchaos's own probe against (issue 24).
// A writer thread writes every INTERVAL ms on one libpq connection. Once a write fails (or has waited 250 ms), a
// new thread is started every INTERVAL ms that connects, writes once and hangs up, however long the earlier ones
// hang in their connects (as HAProxy holds a client while it retries a stopped primary); the first of them to write
// ends the outage, and the writer connects again.
// A write updates a row of pgchaos.probe of its own (id 2; pgchaos's probe writes id 1, on the same page): the same
// kind of write, so both wait alike behind a checkpoint's I/O. The table is pgchaos's; start pgchaos once first. Prints one line per change of state, on the
// machine's wall clock in Unix microseconds, until SIGINT/SIGTERM:
//   down SENT_US message   (the first failing write, stamped when it was sent)
//   up DONE_US             (the first write sent after that which committed, stamped when it completed)
//   independent_probe CONNINFO [INTERVAL_MS=10]
#include <libpq-fe.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>

namespace {

std::atomic<bool> stop_requested{false};
void request_stop(int) { stop_requested = true; }

long long wall_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::mutex state_mutex;
bool up = false;
long long down_since_us = 0;            // the outage began with a write sent then
long long up_since_us = 0;              // the last outage ended then: an earlier write's failure is old news
long long writer_write_sent_us = 0;     // the writer's write in flight, 0 none
bool writer_write_reported = false;     // ... and already reported as slow
std::atomic<int> attempts_in_flight{0};
// Enough to keep starting one every interval through HAProxy's ~3 s hold of a connect to a stopped primary.
constexpr int kMaxAttempts = 512;

void failed(long long sent, const char* why) {
  const std::lock_guard lock(state_mutex);
  if (!up || sent < up_since_us) return;
  std::string line = why ? why : "";
  std::printf("down %lld %s\n", sent, line.substr(0, line.find('\n')).c_str());
  up = false;
  down_since_us = sent;
}

void succeeded(long long sent, long long done) {
  const std::lock_guard lock(state_mutex);
  if (up || sent < down_since_us) return;  // a write sent before the outage began proves nothing after it
  std::printf("up %lld\n", done);
  up = true;
  up_since_us = done;
}

// Connects, writes once; the error or nullptr.
const char* write_once(PGconn*& connection, const std::string& conninfo) {
  if (connection == nullptr) {
    connection = PQconnectdb(conninfo.c_str());
    if (PQstatus(connection) != CONNECTION_OK) return PQerrorMessage(connection);
  }
  PGresult* result = PQexec(connection,
                            "INSERT INTO pgchaos.probe (id, beats, at) VALUES (2, 1, now()) "
                            "ON CONFLICT (id) DO UPDATE SET beats = pgchaos.probe.beats + 1, at = now()");
  const bool ok = PQresultStatus(result) == PGRES_COMMAND_OK;
  PQclear(result);
  return ok ? nullptr : PQerrorMessage(connection);
}

void attempt(std::string conninfo) {
  PGconn* connection = nullptr;
  const long long sent = wall_us();
  if (const char* error = write_once(connection, conninfo)) failed(sent, error);
  else succeeded(sent, wall_us());
  PQfinish(connection);
  --attempts_in_flight;
}

void writer(const std::string& conninfo, std::chrono::milliseconds interval) {
  PGconn* connection = nullptr;
  for (auto next = std::chrono::steady_clock::now(); !stop_requested; next += interval) {
    std::this_thread::sleep_until(next);
    next = std::max(next, std::chrono::steady_clock::now() - interval);
    {
      const std::lock_guard lock(state_mutex);
      if (!up && connection != nullptr) {  // an outage the attempts found: this connection may be the stale one
        PQfinish(connection);
        connection = nullptr;
      }
      if (!up && down_since_us != 0) continue;  // the attempts look for the way back
      writer_write_sent_us = wall_us();
      writer_write_reported = false;
    }
    const long long sent = writer_write_sent_us;
    const char* error = write_once(connection, conninfo);
    {
      const std::lock_guard lock(state_mutex);
      writer_write_sent_us = 0;
    }
    if (error == nullptr) {
      succeeded(sent, wall_us());
    } else {
      failed(sent, error);
      PQfinish(connection);
      connection = nullptr;
    }
  }
  PQfinish(connection);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: independent_probe CONNINFO [INTERVAL_MS=10]\n");
    return 2;
  }
  const std::string conninfo = argv[1];
  const auto interval = std::chrono::milliseconds(argc > 2 ? std::atoi(argv[2]) : 10);
  if (interval.count() <= 0) {
    std::fprintf(stderr, "independent_probe: INTERVAL_MS must be positive\n");
    return 2;
  }
  std::signal(SIGINT, request_stop);
  std::signal(SIGTERM, request_stop);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  std::thread writing(writer, conninfo, interval);
  for (auto next = std::chrono::steady_clock::now(); !stop_requested; next += interval) {
    std::this_thread::sleep_until(next);
    bool outage;
    {
      const std::lock_guard lock(state_mutex);
      // The writer's write has waited 250 ms: an outage from when it was sent.
      if (up && writer_write_sent_us != 0 && !writer_write_reported && writer_write_sent_us >= up_since_us &&
          wall_us() - writer_write_sent_us > 250000) {
        std::printf("down %lld a write has waited more than 250 ms\n", writer_write_sent_us);
        writer_write_reported = true;
        up = false;
        down_since_us = writer_write_sent_us;
      }
      outage = !up;
    }
    if (outage && attempts_in_flight < kMaxAttempts) {
      ++attempts_in_flight;
      std::thread(attempt, conninfo).detach();
    }
  }
  writing.join();
  while (attempts_in_flight > 0) std::this_thread::sleep_for(interval);
  return 0;
}
