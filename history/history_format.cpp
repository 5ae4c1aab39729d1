// JSONL encoding of events: written by hand for speed (the writer formats thousands of events a second),
// read back with nlohmann::json.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "compressed_file.h"
#include "history/events.h"
#include "common/json_fields.h"

namespace pgchaos::history {

using common::json_integer;
namespace {

constexpr std::pair<EventType, const char*> kTypeNames[] = {
    {EventType::run_started, "run_started"}, {EventType::invoke, "invoke"},
    {EventType::ok, "ok"},                   {EventType::fail, "fail"},
    {EventType::unknown, "unknown"},         {EventType::resolve, "resolve"},
    {EventType::fault_start, "fault_start"}, {EventType::fault_end, "fault_end"},
    {EventType::run_finished, "run_finished"}, {EventType::finding, "finding"},
    {EventType::observation, "observation"}, {EventType::probe, "probe"},
    {EventType::replica_read, "replica_read"},
};

void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  for (const char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20)
          fmt::format_to(std::back_inserter(out), "\\u{:04x}", static_cast<unsigned>(c));
        else
          out += c;
    }
  }
  out += '"';
}

void add_string(std::string& out, const char* key, const std::string& value) {
  if (value.empty()) return;
  fmt::format_to(std::back_inserter(out), ",\"{}\":", key);
  append_json_string(out, value);
}

template <typename Int>
void add_int(std::string& out, const char* key, Int value) {
  if (value != 0) fmt::format_to(std::back_inserter(out), ",\"{}\":{}", key, value);
}

EventType parse_type(const std::string& name) {
  for (const auto& [type, text] : kTypeNames)
    if (name == text) return type;
  throw HistoryError("unknown event type '" + name + "'");
}

template <typename T>
void read_field(const nlohmann::json& j, const char* key, T& field) {
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    const auto bad = [](const char* name) { return HistoryError(std::string(name) + ": not an integer in range"); };
    if (const auto value = json_integer<T>(j, key, bad)) field = *value;
  } else if (auto it = j.find(key); it != j.end()) {
    field = it->get<T>();  // strings and booleans: a wrong type throws json's type_error
  }
}

}  // namespace

const char* to_string(EventType type) {
  for (const auto& [t, text] : kTypeNames)
    if (t == type) return text;
  return "?";
}

std::string to_json_line(const Event& e) {
  std::string out;
  out.reserve(160);
  fmt::format_to(std::back_inserter(out), "{{\"type\":\"{}\",\"wall_us\":{},\"mono_ns\":{}", to_string(e.type),
                 e.wall_us, e.mono_ns);
  add_int(out, "op", e.op);
  add_int(out, "attempt", e.attempt);
  if (e.worker >= 0) fmt::format_to(std::back_inserter(out), ",\"worker\":{}", e.worker);
  add_int(out, "from", e.from_account);
  add_int(out, "to", e.to_account);
  add_int(out, "amount_cents", e.amount_cents);
  add_int(out, "txid", e.txid);
  add_string(out, "sqlstate", e.sqlstate);
  add_string(out, "class", e.error_class);
  add_string(out, "message", e.message);
  add_string(out, "node", e.node);
  add_int(out, "timeline", e.timeline);
  if (e.type == EventType::resolve || e.type == EventType::probe)
    fmt::format_to(std::back_inserter(out), ",\"committed\":{}", e.committed);
  add_string(out, "via", e.via);
  add_string(out, "fault", e.fault);
  add_string(out, "target", e.target);
  if (e.type == EventType::fault_start || e.type == EventType::fault_end)
    fmt::format_to(std::back_inserter(out), ",\"exit_status\":{}", e.exit_status);
  add_int(out, "run_id", e.run_id);
  add_int(out, "seed", e.seed);
  add_int(out, "commit_lsn", e.commit_lsn);
  add_string(out, "warning", e.warning);
  add_int(out, "limit_ms", e.limit_ms);
  add_string(out, "role", e.role);
  add_string(out, "state", e.state);
  add_string(out, "pg_role", e.pg_role);
  add_int(out, "patroni_timeline", e.patroni_timeline);
  add_int(out, "wal_current", e.wal_current);
  add_int(out, "wal_received", e.wal_received);
  add_int(out, "wal_replayed", e.wal_replayed);
  add_int(out, "replicas", e.replicas);
  add_string(out, "upstream", e.upstream);
  add_string(out, "followers", e.followers);
  add_string(out, "sync_followers", e.sync_followers);
  add_string(out, "address", e.address);
  add_string(out, "txn", e.txn);
  add_int(out, "started_ns", e.started_ns);
  out += "}\n";
  return out;
}

Event parse_event_line(std::string_view line) {
  try {
    const auto j = nlohmann::json::parse(line);
    if (!j.is_object()) throw HistoryError("not a JSON object");
    Event e;
    e.type = parse_type(j.at("type").get<std::string>());
    read_field(j, "wall_us", e.wall_us);
    read_field(j, "mono_ns", e.mono_ns);
    read_field(j, "op", e.op);
    read_field(j, "attempt", e.attempt);
    read_field(j, "worker", e.worker);
    read_field(j, "from", e.from_account);
    read_field(j, "to", e.to_account);
    read_field(j, "amount_cents", e.amount_cents);
    read_field(j, "txid", e.txid);
    read_field(j, "sqlstate", e.sqlstate);
    read_field(j, "class", e.error_class);
    read_field(j, "message", e.message);
    read_field(j, "node", e.node);
    read_field(j, "timeline", e.timeline);
    read_field(j, "committed", e.committed);
    read_field(j, "via", e.via);
    read_field(j, "fault", e.fault);
    read_field(j, "target", e.target);
    read_field(j, "exit_status", e.exit_status);
    read_field(j, "run_id", e.run_id);
    read_field(j, "seed", e.seed);
    read_field(j, "commit_lsn", e.commit_lsn);
    read_field(j, "warning", e.warning);
    read_field(j, "limit_ms", e.limit_ms);
    read_field(j, "role", e.role);
    read_field(j, "state", e.state);
    read_field(j, "pg_role", e.pg_role);
    read_field(j, "patroni_timeline", e.patroni_timeline);
    read_field(j, "wal_current", e.wal_current);
    read_field(j, "wal_received", e.wal_received);
    read_field(j, "wal_replayed", e.wal_replayed);
    read_field(j, "txn", e.txn);
    read_field(j, "started_ns", e.started_ns);
    read_field(j, "replicas", e.replicas);
    read_field(j, "upstream", e.upstream);
    read_field(j, "followers", e.followers);
    read_field(j, "sync_followers", e.sync_followers);
    read_field(j, "address", e.address);
    return e;
  } catch (const nlohmann::json::exception& error) {
    throw HistoryError(error.what());
  }
}

bool for_each_event(const std::filesystem::path& file, const std::function<void(Event&&)>& visit) {
  InputFile in(file);
  std::string buffer(1 << 16, '\0'), pending;
  std::size_t line_number = 0;
  bool torn = false;
  // One line, whole: a bad one throws, unless it is the last (the writer died mid-line), which is skipped.
  auto one_line = [&](std::string_view line, bool last_line, bool has_newline) {
    ++line_number;
    if (line.empty()) return;
    try {
      if (last_line && !has_newline) throw HistoryError("no newline");
      visit(parse_event_line(line));
    } catch (const std::exception& error) {
      if (last_line) {
        torn = true;
        return;
      }
      throw HistoryError(fmt::format("{}:{}: unreadable history line: {}", file.string(), line_number, error.what()));
    }
  };
  while (const std::size_t n = in.read(buffer.data(), buffer.size())) {
    pending.append(buffer.data(), n);
    std::size_t start = 0;
    for (std::size_t newline; (newline = pending.find('\n', start)) != std::string::npos; start = newline + 1)
      one_line(std::string_view(pending).substr(start, newline - start), false, true);
    pending.erase(0, start);
  }
  if (!pending.empty()) one_line(pending, true, false);
  return torn;
}

HistoryFile read_history(const std::filesystem::path& file) {
  HistoryFile result;
  // A line that cannot be parsed is torn only when it is the file's last: checked by reading the whole text first.
  std::string text;
  {
    InputFile in(file);
    std::string buffer(1 << 16, '\0');
    while (const std::size_t n = in.read(buffer.data(), buffer.size())) text.append(buffer.data(), n);
  }
  std::size_t line_number = 0;
  for (std::size_t start = 0; start < text.size();) {
    const std::size_t newline = text.find('\n', start);
    const bool has_newline = newline != std::string::npos;
    const std::size_t end = has_newline ? newline : text.size();
    const std::string_view line(text.data() + start, end - start);
    start = has_newline ? newline + 1 : text.size();
    ++line_number;
    const bool last_line = start >= text.size();
    if (line.empty()) continue;
    try {
      if (last_line && !has_newline) throw HistoryError("no newline");  // the writer died mid-line
      result.events.push_back(parse_event_line(line));
    } catch (const std::exception& error) {
      if (last_line) {
        result.torn_tail = true;
        break;
      }
      throw HistoryError(fmt::format("{}:{}: unreadable history line: {}", file.string(), line_number,
                                     error.what()));
    }
  }
  return result;
}

}  // namespace pgchaos::history
