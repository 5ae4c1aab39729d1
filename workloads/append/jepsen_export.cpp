// A list-append run's history as Jepsen writes one: each attempt an invoke and its completion (ok, fail, or info when
// the outcome stayed in doubt), `f` "txn", `value` the micro-operations as [["append", k, v], ["r", k, list]], so
// that Jepsen's own checker (Elle) can check a run of pgchaos.
#include <fmt/format.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_map>

#include "workloads/append/append.h"

namespace pgchaos::append {
namespace {

nlohmann::json value_of(const std::vector<MicroOp>& ops) {
  nlohmann::json value = nlohmann::json::array();
  for (const auto& op : ops) {
    if (op.kind == MicroOp::Kind::append) value.push_back({"append", op.key, op.value});
    else value.push_back({"r", op.key, op.read ? nlohmann::json(*op.read) : nlohmann::json(nullptr)});
  }
  return value;
}

}  // namespace

std::int64_t export_jepsen(const std::filesystem::path& history_file, std::ostream& out) {
  // First pass: how each in-doubt attempt was resolved, and the workers there are (processes are numbered past them).
  std::set<std::pair<std::int64_t, int>> not_committed;  // (op, attempt) resolved not committed
  int workers = 0;
  history::for_each_event(history_file, [&](history::Event&& e) {
    if (e.type == history::EventType::resolve && !e.committed && e.attempt > 0) not_committed.insert({e.op, e.attempt});
    workers = std::max(workers, e.worker + 1);
  });
  // Jepsen never reuses a process after an indeterminate (info) completion: the worker goes on as a new one.
  std::unordered_map<int, std::int64_t> process;
  std::int64_t next_process = workers;
  std::map<std::pair<std::int64_t, int>, nlohmann::json> invoked;  // open attempts' values
  std::int64_t index = 0;
  out << "[\n";
  auto emit = [&](const char* type, std::int64_t p, const nlohmann::json& value, std::int64_t time, const std::string& error) {
    nlohmann::json op = {{"index", index}, {"type", type}, {"f", "txn"}, {"value", value}, {"process", p}, {"time", time}};
    if (!error.empty()) op["error"] = error;
    out << (index++ == 0 ? "" : ",\n") << op.dump();
  };
  history::for_each_event(history_file, [&](history::Event&& e) {
    using history::EventType;
    if (e.type != EventType::invoke && e.type != EventType::ok && e.type != EventType::fail && e.type != EventType::unknown)
      return;
    const auto p = process.try_emplace(e.worker, e.worker).first;
    const std::pair<std::int64_t, int> attempt{e.op, e.attempt};
    try {
      if (e.type == EventType::invoke) {
        auto value = value_of(parse_ops(e.txn));
        emit("invoke", p->second, value, e.mono_ns, "");
        invoked[attempt] = std::move(value);
        return;
      }
      const auto open = invoked.find(attempt);
      if (open == invoked.end()) return;  // a completion without its invoke: load_run_history refuses such a history
      if (e.type == EventType::ok) {
        emit("ok", p->second, value_of(parse_ops(e.txn)), e.mono_ns, "");
      } else if (e.type == EventType::fail || not_committed.count(attempt)) {
        emit("fail", p->second, open->second, e.mono_ns, e.error_class.empty() ? e.sqlstate : e.error_class);
      } else {
        emit("info", p->second, open->second, e.mono_ns, e.error_class.empty() ? "in_doubt" : e.error_class);
        p->second = next_process++;
      }
      invoked.erase(open);
    } catch (const std::invalid_argument& error) {
      throw history::HistoryError(fmt::format("{}: op {}: {}", history_file.string(), e.op, error.what()));
    }
  });
  out << "\n]\n";
  return index;
}

}  // namespace pgchaos::append
