// The watcher: a thread per node, so a partitioned node's timeouts never delay the view of the others.
#include "watcher/watcher.h"

#include <fmt/format.h>

#include <algorithm>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <thread>

#include "backend/cluster_reader.h"
#include "common/server_address.h"

namespace pgchaos::watcher {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::int64_t kMaxLagBytes = 16 << 20;  // as the topology's health check allows

// Short timeouts: a look at a node must end well within a second or two, or the node counts as unreachable.
std::string watcher_conninfo(const std::string& conninfo) {
  return backend::with_connection_defaults(
      conninfo + " connect_timeout=2 tcp_user_timeout=1500 keepalives_idle=1 keepalives_interval=1 keepalives_count=2 "
                 "options='-c statement_timeout=1500'",
      kWatcherApplicationName);
}

const std::string kObserveSql =
    std::string("SELECT ") + common::kServerAddressSql + ", pg_is_in_recovery(), "
    "CASE WHEN pg_is_in_recovery() THEN coalesce((SELECT received_tli FROM pg_stat_wal_receiver LIMIT 1), 0) "
    "ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END, "
    "CASE WHEN pg_is_in_recovery() THEN 0 ELSE (pg_current_wal_lsn() - '0/0')::bigint END, "
    "coalesce((pg_last_wal_receive_lsn() - '0/0')::bigint, 0), "
    "coalesce((pg_last_wal_replay_lsn() - '0/0')::bigint, 0), "
    "(SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'), "
    "coalesce((SELECT sender_host FROM pg_stat_wal_receiver WHERE status = 'streaming' LIMIT 1), '')";

std::string first_line(const std::string& text) {
  std::string line = text.substr(0, text.find('\n'));
  return line.size() > 200 ? line.substr(0, 200) : line;
}

// What makes an observation worth recording: anything but the WAL positions, which move all the time.
bool same_state(const history::Observation& a, const history::Observation& b) {
  return a.role == b.role && a.state == b.state && a.pg_role == b.pg_role && a.patroni_timeline == b.patroni_timeline &&
         a.timeline == b.timeline && a.replicas == b.replicas && a.upstream == b.upstream && a.followers == b.followers &&
         a.sync_followers == b.sync_followers &&
         a.address == b.address &&
         a.error.empty() == b.error.empty();
}

class NodeLooker {
 public:
  explicit NodeLooker(WatchedNode node) : node_(std::move(node)) {}

  // SQL first, and `mark` called just before its query is sent: the moment an observation stands for is when
  // PostgreSQL said primary or replica (the rules that compare two nodes' moments rest on it). REST follows.
  history::Observation look(const std::function<void()>& mark) {
    history::Observation o;
    o.node = node_.name;
    std::string errors;
    bool marked = false;
    int walsenders = 0, streaming_by_patroni = 0;
    try {
      if (!connection_) connection_ = std::make_unique<pqxx::connection>(watcher_conninfo(node_.conninfo));
      pqxx::nontransaction tx(*connection_);
      mark();
      marked = true;
      const auto row = tx.exec1(kObserveSql);
      o.address = row[0].as<std::string>();
      o.pg_role = row[1].as<bool>() ? "replica" : "primary";
      o.timeline = row[2].as<int>();
      o.wal_current = row[3].as<std::int64_t>();
      o.wal_received = row[4].as<std::int64_t>();
      o.wal_replayed = row[5].as<std::int64_t>();
      walsenders = row[6].as<int>();
      o.upstream = row[7].as<std::string>();
    } catch (const std::exception& error) {
      connection_.reset();
      errors = "SQL: " + first_line(error.what());
    }
    if (!marked) mark();
    if (!node_.rest_url.empty()) {
      try {
        // A 503 still carries the node's view.
        const auto body = rest::request(node_.rest_url + "/patroni", node_.rest, "GET", "", std::chrono::seconds(1)).body;
        const auto j = nlohmann::json::parse(body);
        const std::string role = j.value("role", "");
        o.role = role == "master" ? "primary" : role;
        o.state = j.value("state", "");
        o.patroni_timeline = j.value("timeline", 0);
        // A primary's walsenders as Patroni (a superuser) sees them: names of the replicas streaming from it.
        for (const auto& r : j.value("replication", nlohmann::json::array()))
          if (r.value("state", "") == "streaming") {
            o.followers += (o.followers.empty() ? "" : ",") + r.value("application_name", "");
            const std::string sync_state = r.value("sync_state", "");
            if (sync_state == "sync" || sync_state == "quorum")
              o.sync_followers += (o.sync_followers.empty() ? "" : ",") + r.value("application_name", "");
            ++streaming_by_patroni;
          }
      } catch (const std::exception& error) {
        errors += (errors.empty() ? "REST: " : "; REST: ") + first_line(error.what());
      }
    }
    // pg_stat_replication's states need privileges (0 without them); Patroni's list does not.
    o.replicas = std::max(walsenders, streaming_by_patroni);
    o.error = errors;
    return o;
  }

 private:
  WatchedNode node_;
  std::unique_ptr<pqxx::connection> connection_;
};

}  // namespace

struct Watcher::State {
  std::vector<WatchedNode> nodes;
  history::HistoryWriter& history;
  WatcherOptions options;
  mutable std::mutex mutex;
  std::condition_variable wake;
  bool stopping = false;                        // guarded by mutex
  std::vector<history::Observation> latest;     // guarded by mutex
  std::vector<Clock::time_point> latest_at;     // guarded by mutex
  std::vector<std::thread> threads;

  State(std::vector<WatchedNode> n, history::HistoryWriter& h, WatcherOptions o)
      : nodes(std::move(n)), history(h), options(o), latest(nodes.size()), latest_at(nodes.size()) {}

  void watch(std::size_t index) {
    NodeLooker looker(nodes[index]);
    std::optional<history::Observation> recorded;
    Clock::time_point recorded_at;
    for (;;) {
      const auto started = Clock::now();
      history::Event event;
      history::Observation o = looker.look([&] { history.stamp(event); });
      o.at_ns = event.mono_ns;
      if (!recorded || !same_state(*recorded, o) || started - recorded_at >= options.heartbeat) {
        event.type = history::EventType::observation;
        event.node = o.node;
        event.role = o.role;
        event.state = o.state;
        event.pg_role = o.pg_role;
        event.patroni_timeline = o.patroni_timeline;
        event.timeline = o.timeline;
        event.wal_current = o.wal_current;
        event.wal_received = o.wal_received;
        event.wal_replayed = o.wal_replayed;
        event.replicas = o.replicas;
        event.upstream = o.upstream;
        event.followers = o.followers;
        event.sync_followers = o.sync_followers;
        event.address = o.address;
        event.message = o.error;
        history.append(std::move(event));
        recorded = o;
        recorded_at = started;
      }
      std::unique_lock lock(mutex);
      latest[index] = std::move(o);
      latest_at[index] = Clock::now();
      if (wake.wait_until(lock, started + options.interval, [this] { return stopping; })) return;
    }
  }
};

Watcher::Watcher(std::vector<WatchedNode> nodes, history::HistoryWriter& history, WatcherOptions options)
    : state_(std::make_unique<State>(std::move(nodes), history, options)) {
  for (std::size_t i = 0; i < state_->nodes.size(); ++i) state_->threads.emplace_back([this, i] { state_->watch(i); });
}

Watcher::~Watcher() { stop(); }

void Watcher::stop() {
  {
    const std::lock_guard lock(state_->mutex);
    state_->stopping = true;
  }
  state_->wake.notify_all();
  for (auto& thread : state_->threads)
    if (thread.joinable()) thread.join();
}

std::vector<history::Observation> Watcher::latest() const {
  const std::lock_guard lock(state_->mutex);
  return state_->latest;
}

std::vector<std::string> Watcher::problems(const std::string& leader) const {
  std::vector<std::string> found;
  const std::lock_guard lock(state_->mutex);
  if (state_->nodes.empty()) return found;
  const auto now = Clock::now();
  const history::Observation* primary = nullptr;
  for (std::size_t i = 0; i < state_->latest.size(); ++i) {
    const auto& o = state_->latest[i];
    if (now - state_->latest_at[i] > std::chrono::seconds(3)) found.push_back(state_->nodes[i].name + ": not observed lately");
    else if (o.pg_role.empty()) found.push_back(o.node + ": SQL does not answer");
    else if (o.node == leader) primary = &o;
  }
  if (!found.empty()) return found;
  if (primary == nullptr || primary->pg_role != "primary") {
    found.push_back("leader " + (leader.empty() ? std::string("(none)") : leader) + " is not a primary by pg_is_in_recovery()");
    return found;
  }
  const std::string followers = "," + primary->followers + ",";
  for (const auto& o : state_->latest) {
    if (&o == primary) continue;
    const int timeline = o.patroni_timeline != 0 ? o.patroni_timeline : o.timeline;
    if (o.pg_role != "replica")
      found.push_back(fmt::format("{}: also a primary (timeline {}) beside {}", o.node, o.timeline, leader));
    else if (!o.upstream.empty() && o.upstream != primary->address.substr(0, primary->address.rfind(':')))
      found.push_back(fmt::format("{}: its wal receiver streams from {}, not from {}", o.node, o.upstream, leader));
    else if (followers.find("," + o.node + ",") == std::string::npos)
      found.push_back(fmt::format("{}: not among {}'s streaming walsenders", o.node, leader));
    else if (timeline != primary->timeline)
      found.push_back(fmt::format("{}: on timeline {}, {} on {}", o.node, timeline, leader, primary->timeline));
    else if (o.wal_received + kMaxLagBytes < primary->wal_current)
      found.push_back(fmt::format("{}: has received WAL up to {}, {} is at {}", o.node, o.wal_received, leader,
                                  primary->wal_current));
  }
  return found;
}

}  // namespace pgchaos::watcher
