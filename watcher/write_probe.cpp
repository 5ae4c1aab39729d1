// The write probe on libpq's asynchronous API: no connect and no write ever holds up the next attempt, so what the
// probe measures is the cluster, not its own timeouts (issue 24: a connect that HAProxy held for its three
// retries against a stopped primary made every switchover read ~3.1 s, 0.6–1 s longer than a plain client saw).
#include <fmt/format.h>
#include <libpq-fe.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include "backend/cluster_reader.h"
#include "common/server_address.h"
#include "watcher/watcher.h"

namespace pgchaos::watcher {
namespace {

using Clock = std::chrono::steady_clock;
// A write that has waited this long (a commit held for a synchronous standby, a primary gone silent) is an outage
// from the moment it was sent; new attempts start beside it.
constexpr auto kSlowWrite = std::chrono::milliseconds(250);
// An attempt that has not connected by then is dropped (its successors, one per interval, go on meanwhile).
constexpr auto kConnectLimit = std::chrono::seconds(5);
// During an outage one attempt starts every interval. Connecting ones cost only a socket (a proxy may hold them
// for seconds: HAProxy retries a stopped primary three times, a second apart), so many may be in flight; but a
// connected one whose write waits holds a server session, so few of those (a commit held for a synchronous standby
// must not fill max_connections).
constexpr std::size_t kMaxAttempts = 256, kMaxWaitingWrites = 4;
// The node behind a proxy comes back with the write: the first success's node is the new primary.
const std::string kWriteSql =
    std::string("UPDATE pgchaos.probe SET beats = beats + 1, at = now() WHERE id = 1 RETURNING ") + common::kServerAddressSql;

std::string first_line(const char* text) {
  std::string line = text != nullptr ? text : "";
  line = line.substr(0, line.find('\n'));
  return line.size() > 200 ? line.substr(0, 200) : line;
}

void ignore_notice(void*, const char*) {}  // "terminating connection due to administrator command" and the like

}  // namespace

// One connection of the probe: connecting, idle (the writer between writes) or writing. Not in the anonymous
// namespace: WriteProbe::State, which the header declares, holds them.
struct ProbeAttempt {
  enum class Phase { connecting, idle, writing };
  PGconn* connection = nullptr;  // owned
  std::size_t dsn = 0;
  Phase phase = Phase::connecting;
  PostgresPollingStatusType polling = PGRES_POLLING_WRITING;
  Clock::time_point started;  // when its connect or its current write began
  history::Event sent;        // stamped when it began: an outage it reveals starts then

  ProbeAttempt() = default;
  ProbeAttempt(ProbeAttempt&& other) noexcept { *this = std::move(other); }
  ProbeAttempt& operator=(ProbeAttempt&& other) noexcept {
    std::swap(connection, other.connection);
    dsn = other.dsn;
    phase = other.phase;
    polling = other.polling;
    started = other.started;
    sent = std::move(other.sent);
    return *this;
  }
  ~ProbeAttempt() {
    if (connection != nullptr) PQfinish(connection);
  }
  short events() const {
    if (phase == Phase::connecting) return polling == PGRES_POLLING_READING ? POLLIN : POLLOUT;
    return POLLIN;
  }
};

namespace {

// Cancels the write in flight on `connection` and closes it once the write has ended. The cancel is sent again
// every second: one that reaches the server before it has read the write is dropped there, and the write would
// then run (and wait for a synchronous standby) after the client had gone. Gives up after ten seconds.
void cancel_then_close(PGconn* connection) {
  const auto give_up = Clock::now() + std::chrono::seconds(10);
  while (Clock::now() < give_up && PQstatus(connection) == CONNECTION_OK) {
    if (PGcancel* cancel = PQgetCancel(connection)) {
      char error[256];
      PQcancel(cancel, error, sizeof error);
      PQfreeCancel(cancel);
    }
    pollfd fd{PQsocket(connection), POLLIN, 0};
    if (poll(&fd, 1, 1000) > 0 && PQconsumeInput(connection) == 0) break;
    bool ended = false;
    while (PQisBusy(connection) == 0) {
      PGresult* result = PQgetResult(connection);
      if (result == nullptr) {
        ended = true;
        break;
      }
      PQclear(result);
    }
    if (ended) break;
  }
  PQfinish(connection);
}

}  // namespace

struct WriteProbe::State {
  std::vector<std::string> dsns;
  history::HistoryWriter& history;
  std::chrono::milliseconds interval;
  int wake_fd = -1;  // written by stop(): ends the poll at once
  std::mutex mutex;
  bool stopping = false;  // guarded by mutex
  std::thread thread;

  std::vector<ProbeAttempt> attempts;  // while writable: only the writer; otherwise every attempt in flight
  std::optional<bool> writable;      // unknown until the first write
  std::string node;                  // the node the last successful write reached
  std::size_t last_good_dsn = 0, attempts_this_outage = 0;
  std::string last_error;

  State(std::vector<std::string> d, history::HistoryWriter& h, std::chrono::milliseconds i)
      : dsns(std::move(d)), history(h), interval(i), wake_fd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}
  ~State() {
    if (wake_fd >= 0) close(wake_fd);
  }

  bool stopped() {
    const std::lock_guard lock(mutex);
    return stopping;
  }

  // While writes succeed, attempts holds exactly the writer.
  bool has_writer() const { return writable == true && !attempts.empty(); }

  void record(history::Event event, bool committed, const std::string& message) {
    event.type = history::EventType::probe;
    event.committed = committed;
    event.node = node;
    event.message = message;
    history.append(std::move(event));
    writable = committed;
  }

  void writes_stopped(history::Event sent, const std::string& why) {
    if (writable == false) return;
    record(std::move(sent), false, why);
    attempts_this_outage = 0;
  }

  bool send_write(ProbeAttempt& a) {
    history.stamp(a.sent);
    a.started = Clock::now();
    a.phase = ProbeAttempt::Phase::writing;
    if (PQsendQuery(a.connection, kWriteSql.c_str()) == 1) return true;
    last_error = first_line(PQerrorMessage(a.connection));
    return false;
  }

  // A new connection, the DSN last written through first, then the others in turn.
  void start_attempt() {
    ProbeAttempt a;
    a.dsn = (last_good_dsn + attempts_this_outage++) % dsns.size();
    history.stamp(a.sent);
    a.started = Clock::now();
    a.connection = PQconnectStart(backend::with_connection_defaults(dsns[a.dsn], kProbeApplicationName).c_str());
    if (a.connection == nullptr || PQstatus(a.connection) == CONNECTION_BAD) {
      last_error = a.connection != nullptr ? first_line(PQerrorMessage(a.connection)) : "out of memory";
      if (writable != false) writes_stopped(std::move(a.sent), last_error);
      return;
    }
    PQsetNoticeProcessor(a.connection, ignore_notice, nullptr);
    attempts.push_back(std::move(a));
  }

  // Every interval: the writer writes; in an outage (or before the first write) a new attempt starts, beside any
  // still connecting or writing.
  void tick() {
    if (writable == true) {
      if (attempts.front().phase == ProbeAttempt::Phase::idle && !send_write(attempts.front())) lose(0);
      return;
    }
    const auto waiting = std::count_if(attempts.begin(), attempts.end(),
                                       [](const ProbeAttempt& a) { return a.phase == ProbeAttempt::Phase::writing; });
    if (attempts.size() < kMaxAttempts && static_cast<std::size_t>(waiting) < kMaxWaitingWrites) start_attempt();
  }

  // ProbeAttempt i failed: if it was the writer, writes stopped when its write (or connect) was sent.
  void lose(std::size_t i) {
    ProbeAttempt& a = attempts[i];
    if (PQstatus(a.connection) == CONNECTION_BAD) last_error = first_line(PQerrorMessage(a.connection));
    if (a.phase == ProbeAttempt::Phase::idle) history.stamp(a.sent);  // the writer broke between writes: now
    if ((i == 0 && has_writer()) || writable == std::nullopt) writes_stopped(a.sent, last_error);
    attempts.erase(attempts.begin() + static_cast<std::ptrdiff_t>(i));
  }

  // ProbeAttempt i's write committed: it becomes the writer, every other attempt is dropped.
  void succeeded(std::size_t i, const std::string& reached) {
    node = reached;
    ProbeAttempt& a = attempts[i];
    a.phase = ProbeAttempt::Phase::idle;
    last_good_dsn = a.dsn;
    if (writable != true) {
      history::Event resumed;
      history.stamp(resumed);
      record(std::move(resumed), true, "");
    }
    if (i != 0 || attempts.size() > 1) {
      ProbeAttempt writer = std::move(a);
      attempts.clear();
      attempts.push_back(std::move(writer));
    }
  }

  // Drives attempt i on what its socket said; true when a success rearranged the attempts.
  bool advance(std::size_t i) {
    ProbeAttempt& a = attempts[i];
    if (a.phase == ProbeAttempt::Phase::connecting) {
      a.polling = PQconnectPoll(a.connection);
      if (a.polling == PGRES_POLLING_FAILED) return lose(i), false;
      if (a.polling == PGRES_POLLING_OK && !send_write(a)) lose(i);
      return false;
    }
    if (PQconsumeInput(a.connection) == 0) {
      last_error = first_line(PQerrorMessage(a.connection));
      return lose(i), false;
    }
    if (a.phase == ProbeAttempt::Phase::idle || PQisBusy(a.connection) == 1) return false;
    bool ok = false;
    std::string reached;
    while (PGresult* result = PQgetResult(a.connection)) {
      if (PQresultStatus(result) == PGRES_TUPLES_OK && PQntuples(result) == 1) {
        ok = true;
        reached = PQgetvalue(result, 0, 0);
      } else {
        ok = false;
        last_error = first_line(PQresultErrorMessage(result));
      }
      PQclear(result);
    }
    if (!ok) return lose(i), false;
    succeeded(i, reached);
    return true;
  }

  void run() {
    auto next_tick = Clock::now();
    while (!stopped()) {
      auto now = Clock::now();
      if (now >= next_tick) {
        tick();
        next_tick = std::max(next_tick + interval, now);
      }
      // A writer whose write has waited too long: writes stopped when it was sent; attempts start beside it.
      if (has_writer() && attempts.front().phase == ProbeAttempt::Phase::writing && now - attempts.front().started > kSlowWrite)
        writes_stopped(attempts.front().sent, fmt::format("a write has waited more than {} ms", kSlowWrite.count()));
      for (std::size_t i = 0; i < attempts.size();)
        if (attempts[i].phase == ProbeAttempt::Phase::connecting && now - attempts[i].started > kConnectLimit) {
          last_error = fmt::format("no connection within {} s", kConnectLimit.count());
          lose(i);
        } else {
          ++i;
        }
      std::vector<pollfd> fds;
      fds.push_back({wake_fd, POLLIN, 0});
      for (const ProbeAttempt& a : attempts) fds.push_back({PQsocket(a.connection), a.events(), 0});
      const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next_tick - Clock::now()).count();
      if (poll(fds.data(), fds.size(), static_cast<int>(std::clamp<long long>(wait + 1, 0, interval.count()))) < 0) continue;
      // From the back: a failed attempt is erased, which moves only those after it.
      for (std::size_t f = fds.size() - 1; f >= 1; --f)
        if (fds[f].revents != 0 && advance(f - 1)) break;  // a success dropped the others: poll again
    }
  }
};

WriteProbe::WriteProbe(std::vector<std::string> dsns, history::HistoryWriter& history, std::chrono::milliseconds interval)
    : state_(std::make_unique<State>(std::move(dsns), history, interval)) {
  if (!state_->dsns.empty()) state_->thread = std::thread([this] { state_->run(); });
}

WriteProbe::~WriteProbe() { stop(); }

void WriteProbe::stop() {
  {
    const std::lock_guard lock(state_->mutex);
    state_->stopping = true;
  }
  const std::uint64_t one = 1;
  if (state_->wake_fd >= 0) (void)!write(state_->wake_fd, &one, sizeof one);
  if (state_->thread.joinable()) state_->thread.join();
  // A write waiting for a synchronous standby that is not coming would hold its session (and the probe's row) on
  // the server after the connection closed, and so would a write queued behind it for the row's lock: each is
  // cancelled on a thread of its own (a cancel connects anew and a partitioned server may keep it waiting).
  for (auto& a : state_->attempts)
    if (a.phase == ProbeAttempt::Phase::writing) std::thread(cancel_then_close, std::exchange(a.connection, nullptr)).detach();
  state_->attempts.clear();  // closes every connection
}

}  // namespace pgchaos::watcher
