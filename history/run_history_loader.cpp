// A single-pass scanner for history.jsonl: the writer's lines are flat objects of numbers and strings, so the
// checker's fields are picked out without building a JSON tree (10 million operations are 20 million lines).
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

#include "compact_history.h"
#include "compressed_file.h"
#include "history/run_history.h"
#include "common/json_fields.h"

namespace pgchaos::history {

using common::json_integer;
namespace {

struct Fields {
  std::string_view type, node;
  std::int64_t op = 0, mono_ns = 0, wall_us = 0, run_id = 0, seed = 0;
  std::int64_t attempt = 0, worker = -1, timeline = 0, commit_lsn = 0;
  bool has_warning = false;
};

// Parses one line; false when it is not a complete, flat JSON object.
bool scan(std::string_view line, Fields& f) {
  std::size_t i = 0;
  auto skip_space = [&] {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
  };
  skip_space();
  if (i >= line.size() || line[i++] != '{') return false;
  for (;;) {
    skip_space();
    if (i < line.size() && line[i] == '}') return true;
    if (i >= line.size() || line[i++] != '"') return false;
    const std::size_t key_start = i;
    while (i < line.size() && line[i] != '"') ++i;
    if (i >= line.size()) return false;
    const std::string_view key = line.substr(key_start, i - key_start);
    ++i;
    skip_space();
    if (i >= line.size() || line[i++] != ':') return false;
    skip_space();
    if (i >= line.size()) return false;
    if (line[i] == '"') {
      const std::size_t value_start = ++i;
      while (i < line.size() && line[i] != '"') i += line[i] == '\\' ? 2 : 1;
      if (i >= line.size()) return false;
      if (key == "type") f.type = line.substr(value_start, i - value_start);
      else if (key == "node") f.node = line.substr(value_start, i - value_start);
      else if (key == "warning") f.has_warning = true;
      ++i;
    } else {
      const std::size_t value_start = i;
      while (i < line.size() && line[i] != ',' && line[i] != '}') ++i;
      const std::string_view value = line.substr(value_start, i - value_start);
      std::int64_t* target = nullptr;
      if (key == "op") target = &f.op;
      else if (key == "mono_ns") target = &f.mono_ns;
      else if (key == "attempt") target = &f.attempt;
      else if (key == "worker") target = &f.worker;
      else if (key == "wall_us") target = &f.wall_us;
      else if (key == "run_id") target = &f.run_id;
      else if (key == "seed") target = &f.seed;
      else if (key == "timeline") target = &f.timeline;
      else if (key == "commit_lsn") target = &f.commit_lsn;
      if (target != nullptr) {
        const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), *target);
        if (error != std::errc() || end != value.data() + value.size()) return false;
      } else if (value != "true" && value != "false" && value != "null") {
        std::int64_t ignored = 0;
        const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), ignored);
        if (error != std::errc()) return false;
      }
    }
    skip_space();
    if (i < line.size() && line[i] == ',') ++i;
  }
}

// A line whose JSON parses but whose fields do not fit (a float where an integer belongs): malformed.
struct BadField {
  const char* key;
};

template <typename T>
T integer(const nlohmann::json& j, const char* key) {
  return json_integer<T>(j, key, [](const char* name) { return BadField{name}; }).value_or(T{0});
}

constexpr std::int64_t kMaxWorkers = 1 << 16;

// a - b, held at the int64 bounds: a history's times may be anything, and signed overflow is undefined
// (fuzzing found 5000 - INT64_MIN).
std::int64_t saturating_difference(std::int64_t a, std::int64_t b) {
  std::int64_t difference = 0;
  if (!__builtin_sub_overflow(a, b, &difference)) return difference;
  return b < 0 ? std::numeric_limits<std::int64_t>::max() : std::numeric_limits<std::int64_t>::min();
}

class Loader {
 public:
  explicit Loader(const std::filesystem::path& file) : file_(file) {}

  // Applies one line; a false return means the line is malformed.
  bool apply(std::string_view line, std::size_t number) {
    Fields f;
    if (!scan(line, f)) return false;
    apply_fields(f, line, number);
    return true;
  }

  // Applies one line's fields; `line` is parsed in full only for the rare events that carry text.
  void apply_fields(const Fields& f, std::string_view line, std::size_t number) {
    if (f.type == "invoke") {
      if (f.worker < 0) fail(number, "invoke without worker");
      // Workers are numbered from 0 (--threads is 1000 at most): a wild number must not size the table below.
      if (f.worker >= kMaxWorkers) fail(number, fmt::format("worker {} out of range", f.worker));
      if (static_cast<std::size_t>(f.worker) >= open_.size()) open_.resize(f.worker + 1, -1);
      open_[f.worker] = static_cast<std::int64_t>(h_.attempts.size());
      h_.attempts.push_back({f.op, f.mono_ns, 0, static_cast<std::uint16_t>(f.attempt), Outcome::pending,
                             term_of(f.node, static_cast<int>(f.timeline)), 0});
    } else if (f.type == "ok" || f.type == "fail" || f.type == "unknown") {
      const std::int64_t index =
          f.worker >= 0 && static_cast<std::size_t>(f.worker) < open_.size() ? open_[f.worker] : -1;
      if (index < 0 || h_.attempts[index].op != f.op || h_.attempts[index].attempt != f.attempt)
        fail(number, fmt::format("completion of op {} attempt {} without its invoke", f.op, f.attempt));
      Attempt& a = h_.attempts[index];
      a.outcome = f.type == "ok" ? Outcome::ok : f.type == "fail" ? Outcome::fail : Outcome::unknown;
      a.latency_us = static_cast<std::uint32_t>(
          std::clamp<std::int64_t>(saturating_difference(f.mono_ns, a.invoke_ns) / 1000, 0, UINT32_MAX));
      a.commit_lsn = f.commit_lsn;
      open_[f.worker] = -1;
      if (f.has_warning)
        h_.warnings.push_back({f.op, static_cast<int>(f.attempt), nlohmann::json::parse(line).value("warning", "")});
    } else if (f.type == "run_started") {
      h_.run_id = f.run_id;
      h_.seed = f.seed;
      h_.start_wall_us = saturating_difference(f.wall_us, f.mono_ns / 1000);
    } else if (f.type == "run_finished") {
      h_.finished = true;
    } else if (f.type == "fault_start" || f.type == "fault_end") {
      apply_fault(line, f);
    } else if (f.type == "finding") {
      const auto j = nlohmann::json::parse(line);
      (j.value("state", "") == "unconfirmed" ? h_.unconfirmed_findings : h_.findings).push_back(j.value("message", ""));
    } else if (f.type == "resolve") {
      h_.resolutions.push_back({f.op, f.mono_ns, static_cast<int>(f.attempt), nlohmann::json::parse(line).value("committed", false)});
    } else if (f.type == "observation") {
      apply_observation(line, f);
    } else if (f.type == "probe") {
      const auto j = nlohmann::json::parse(line);
      h_.probes.push_back({f.mono_ns, j.value("committed", false), j.value("node", ""), j.value("message", "")});
    }
    h_.end_ns = std::max(h_.end_ns, f.mono_ns);
  }

  void reserve(std::uint64_t invokes) { h_.attempts.reserve(static_cast<std::size_t>(invokes)); }
  RunHistory take() { return std::move(h_); }
  void mark_torn() { h_.torn_tail = true; }

 private:
  [[noreturn]] void fail(std::size_t number, const std::string& why) {
    throw HistoryError(fmt::format("{}:{}: {}", file_.string(), number, why));
  }

  // The term of (node, timeline): a linear search over a handful of entries, cached for the common repeat.
  std::uint8_t term_of(std::string_view node, int timeline) {
    if (node.empty()) return 0;
    if (last_term_ != 0 && h_.terms[last_term_].timeline == timeline && h_.terms[last_term_].node == node) return last_term_;
    for (std::size_t i = 1; i < h_.terms.size(); ++i)
      if (h_.terms[i].timeline == timeline && h_.terms[i].node == node) return last_term_ = static_cast<std::uint8_t>(i);
    if (h_.terms.size() > 255) return last_term_ = 255;
    h_.terms.push_back({std::string(node), timeline});
    return last_term_ = static_cast<std::uint8_t>(h_.terms.size() - 1);
  }

  void apply_observation(std::string_view line, const Fields& f) {
    const auto j = nlohmann::json::parse(line);
    Observation o;
    o.at_ns = f.mono_ns;
    o.node = j.value("node", "");
    o.role = j.value("role", "");
    o.state = j.value("state", "");
    o.pg_role = j.value("pg_role", "");
    o.patroni_timeline = integer<int>(j, "patroni_timeline");
    o.timeline = integer<int>(j, "timeline");
    o.wal_current = integer<std::int64_t>(j, "wal_current");
    o.wal_received = integer<std::int64_t>(j, "wal_received");
    o.wal_replayed = integer<std::int64_t>(j, "wal_replayed");
    o.replicas = integer<int>(j, "replicas");
    o.upstream = j.value("upstream", "");
    o.followers = j.value("followers", "");
    o.sync_followers = j.value("sync_followers", "");
    o.address = j.value("address", "");
    o.error = j.value("message", "");
    h_.observations.push_back(std::move(o));
  }

  // Fault lines are rare and carry strings: a full parse is fine there.
  void apply_fault(std::string_view line, const Fields& f) {
    const auto j = nlohmann::json::parse(line);
    auto text = [&j](const char* key) { return j.contains(key) ? j[key].get<std::string>() : std::string(); };
    if (f.type == "fault_start") {
      FaultRecord record;
      record.id = f.op;
      record.fault = text("fault");
      record.target = text("target");
      record.message = text("message");
      record.start_ns = f.mono_ns;
      record.exit_status = integer<int>(j, "exit_status");
      record.outcome_unknown = j.value("state", "") == "unknown";
      record.limit_ms = integer<std::int64_t>(j, "limit_ms");
      h_.faults.push_back(std::move(record));
      return;
    }
    // The first end event closes the window (its heal); later ones of the same fault add their words (how a node
    // rejoined, told when the window's forensics were read).
    for (auto& record : h_.faults)
      if (record.id == f.op) {
        if (record.end_ns < 0) {
          record.end_ns = f.mono_ns;
          if (record.heal_status == 0) record.heal_status = integer<int>(j, "exit_status");
        }
        const auto message = text("message");
        if (!message.empty()) record.message += (record.message.empty() ? "" : "; ") + message;
      }
  }

  std::filesystem::path file_;
  RunHistory h_;
  std::vector<std::int64_t> open_;  // worker -> index of its attempt awaiting a completion
  std::uint8_t last_term_ = 0;
};

// The side file, when it matches the history: each record is one line of the history, in order.
std::optional<RunHistory> load_compact(const std::filesystem::path& file) {
  Loader loader(file);
  std::size_t number = 0;
  try {
    const bool used = read_compact_history(
        file, [&](std::uint64_t invokes) { loader.reserve(invokes); },
        [&](const CompactRecord& r) {
          ++number;
          if (r.kind == CompactRecord::Kind::line) {
            if (!loader.apply(r.line, number)) throw CompactUnusable{};
            return;
          }
          Fields f;
          f.type = r.kind == CompactRecord::Kind::invoke ? "invoke"
                   : r.kind == CompactRecord::Kind::ok   ? "ok"
                   : r.kind == CompactRecord::Kind::fail ? "fail"
                                                         : "unknown";
          f.node = r.node;
          f.op = r.op;
          f.mono_ns = r.mono_ns;
          f.attempt = r.attempt;
          f.worker = r.worker;
          f.timeline = r.timeline;
          f.commit_lsn = r.commit_lsn;
          loader.apply_fields(f, {}, number);
        });
    if (used) return loader.take();
  } catch (const CompactUnusable&) {
  } catch (const nlohmann::json::exception&) {
  } catch (const BadField&) {
    // The side file's own lines do not parse: the history decides, with its own error if it has one.
  }
  return std::nullopt;
}

}  // namespace

RunHistory load_run_history(const std::filesystem::path& file) {
  if (auto loaded = load_compact(file)) return std::move(*loaded);
  InputFile in(file);
  Loader loader(file);
  std::string buffer(1 << 20, '\0');
  std::string carry;  // a line split across two reads
  std::size_t number = 0;
  std::string pending_bad;  // a malformed line: fatal unless it turns out to be the last one
  std::size_t pending_bad_number = 0;
  auto handle = [&](std::string_view line) {
    ++number;
    if (!pending_bad.empty())
      throw HistoryError(fmt::format("{}:{}: unreadable history line", file.string(), pending_bad_number));
    if (line.empty()) return;
    try {
      if (!loader.apply(line, number)) {
        pending_bad = std::string(line);
        pending_bad_number = number;
      }
    } catch (const nlohmann::json::exception&) {
      pending_bad = std::string(line);
      pending_bad_number = number;
    } catch (const BadField&) {
      pending_bad = std::string(line);
      pending_bad_number = number;
    }
  };
  {
    for (;;) {
      const std::size_t n = in.read(buffer.data(), buffer.size());
      if (n == 0) break;
      std::string_view chunk(buffer.data(), n);
      std::size_t start = 0;
      for (std::size_t nl = chunk.find('\n'); nl != std::string_view::npos; nl = chunk.find('\n', start)) {
        if (!carry.empty()) {
          carry.append(chunk.substr(start, nl - start));
          handle(carry);
          carry.clear();
        } else {
          handle(chunk.substr(start, nl - start));
        }
        start = nl + 1;
      }
      carry.append(chunk.substr(start));
    }
  }
  // A last line without its newline was cut short by a dying writer, complete or not: it is not used.
  if (!carry.empty() || !pending_bad.empty()) loader.mark_torn();
  return loader.take();
}

}  // namespace pgchaos::history
