// Snapshot files: metadata and accounts as JSON, the ledger as TSV (millions of rows read in a second).
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string_view>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "common/json_fields.h"
#include "history/ledger_index.h"
#include "history/snapshots.h"
#include "common/files.h"

namespace pgchaos::history {

using common::json_integer_value;
namespace {

// A snapshot is read back from disk and may hold anything: an integer field that is a float or out of range is
// an error, never nlohmann's static_cast (undefined behaviour, found by fuzzing).
template <typename T>
T integer_field(const nlohmann::json& value, const char* name) {
  const auto v = json_integer_value<T>(value);
  if (!v) throw std::invalid_argument(std::string(name) + " is not an integer in range");
  return *v;
}

template <typename Int>
const char* parse_field(const char* p, const char* end, Int& value) {
  const auto [next, error] = std::from_chars(p, end, value);
  if (error != std::errc()) return nullptr;
  return next < end && (*next == '\t' || *next == '\n') ? next + 1 : next;
}

// Calls fn(line, number) for each line of a file, read in large blocks (a night's ledger is 300 MB).
template <typename Fn>
void for_each_line(const std::filesystem::path& path, Fn&& fn) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> in(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!in) throw HistoryError("cannot open " + path.string());
  std::string buffer;
  std::size_t number = 0, kept = 0;
  constexpr std::size_t kBlock = 1 << 20;
  for (;;) {
    buffer.resize(kept + kBlock);
    const std::size_t got = std::fread(buffer.data() + kept, 1, kBlock, in.get());
    if (got == 0 && std::ferror(in.get())) throw HistoryError("cannot read " + path.string());
    const std::size_t size = kept + got;
    const bool at_end = got == 0;
    std::size_t start = 0;
    for (;;) {
      const void* newline = std::memchr(buffer.data() + start, '\n', size - start);
      if (newline == nullptr) break;
      const auto stop = static_cast<std::size_t>(static_cast<const char*>(newline) - buffer.data());
      fn(std::string_view(buffer.data() + start, stop - start), ++number);
      start = stop + 1;
    }
    if (at_end) {
      if (start < size) fn(std::string_view(buffer.data() + start, size - start), ++number);  // no final newline
      return;
    }
    buffer.erase(0, start);
    kept = size - start;  // the start of a line the next block ends
  }
}

}  // namespace

std::int64_t ledger_row_count(const Snapshot& snapshot) {
  return snapshot.ledger_index ? snapshot.ledger_index->rows() : static_cast<std::int64_t>(snapshot.ledger.size());
}

SnapshotWriter::SnapshotWriter(const RunDirectory& directory, const std::string& node_name)
    : json_file_(directory.snapshot_json(node_name)), ledger_file_(directory.snapshot_ledger(node_name)) {
  out_ = std::fopen(ledger_file_.c_str(), "w");
  if (out_ == nullptr) throw HistoryError("cannot write " + ledger_file_.string());
  buffer_ = "# run_id\top_id\tattempt\tworker\tfrom\tto\tamount_cents\ttxid\n";
}

SnapshotWriter::~SnapshotWriter() {
  if (out_ != nullptr) std::fclose(out_);  // unfinished: a ledger without its JSON is no snapshot
}

void SnapshotWriter::add(const LedgerRow& r) {
  fmt::format_to(std::back_inserter(buffer_), "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\n", r.run_id, r.op_id, r.attempt, r.worker,
                 r.from_account, r.to_account, r.amount_cents, r.txid);
  ++rows_;
  if (buffer_.size() > (1 << 20)) flush();
}

void SnapshotWriter::flush() {
  if (out_ == nullptr) throw HistoryError("snapshot " + json_file_.string() + " was already finished");
  if (std::fwrite(buffer_.data(), 1, buffer_.size(), out_) != buffer_.size())
    throw HistoryError("cannot write " + ledger_file_.string());
  buffer_.clear();
}

void SnapshotWriter::finish(const Snapshot& s) {
  flush();
  const int closed = std::fclose(out_);
  out_ = nullptr;
  if (closed != 0) throw HistoryError("cannot write " + ledger_file_.string());
  nlohmann::json j = {{"name", s.name},
                      {"role", s.role},
                      {"node", s.node},
                      {"system_identifier", s.system_identifier},
                      {"in_recovery", s.in_recovery},
                      {"caught_up", s.caught_up},
                      {"timeline", s.timeline},
                      {"lsn", s.lsn},
                      {"error", s.error},
                      {"initial_balance_cents", s.initial_balance_cents},
                      {"ledger_file", ledger_file_.filename().string()},
                      {"ledger_rows", rows_}};
  auto& accounts = j["accounts"] = nlohmann::json::array();
  for (const auto& a : s.accounts) accounts.push_back({a.id, a.balance_cents});
  if (!s.lists.empty()) {
    auto& lists = j["lists"] = nlohmann::json::array();
    for (const auto& l : s.lists) lists.push_back({l.key, l.elements});
  }
  common::write_file_atomically(json_file_, j.dump() + "\n");
}

void write_snapshot(const RunDirectory& directory, const Snapshot& s) {
  if (s.ledger_index && s.ledger.size() != static_cast<std::size_t>(s.ledger_index->rows()))
    throw HistoryError("snapshot of " + s.name + ": read as an index, its rows are not held and cannot be written");
  SnapshotWriter writer(directory, s.name);
  for (const auto& r : s.ledger) writer.add(r);
  writer.finish(s);
}

Snapshot read_snapshot(const std::filesystem::path& file, std::optional<std::int64_t> index_run) {
  Snapshot s;
  std::string ledger_file;
  std::size_t ledger_rows = 0;
  try {
    std::ifstream in(file);
    const auto j = nlohmann::json::parse(in);
    s.name = j.at("name");
    s.role = j.at("role");
    s.node = j.at("node");
    s.system_identifier = j.at("system_identifier");
    s.in_recovery = j.at("in_recovery");
    s.caught_up = j.at("caught_up");
    s.timeline = integer_field<int>(j.at("timeline"), "timeline");
    s.lsn = j.at("lsn");
    s.error = j.at("error");
    s.initial_balance_cents = integer_field<std::int64_t>(j.at("initial_balance_cents"), "initial_balance_cents");
    ledger_file = j.at("ledger_file");
    for (const auto& a : j.at("accounts"))
      s.accounts.push_back({integer_field<int>(a.at(0), "an account id"),
                            integer_field<std::int64_t>(a.at(1), "an account balance")});
    ledger_rows = integer_field<std::size_t>(j.at("ledger_rows"), "ledger_rows");
    if (j.contains("lists"))
      for (const auto& l : j.at("lists")) {
        KeyList list{integer_field<std::int64_t>(l.at(0), "a list's key"), {}};
        for (const auto& element : l.at(1)) list.elements.push_back(integer_field<std::int64_t>(element, "a list's element"));
        s.lists.push_back(std::move(list));
      }
  } catch (const nlohmann::json::exception& error) {
    throw HistoryError(file.string() + ": unreadable snapshot: " + error.what());
  } catch (const std::invalid_argument& error) {
    throw HistoryError(file.string() + ": unreadable snapshot: " + error.what());
  }
  if (ledger_file.empty() || ledger_file.find('/') != std::string::npos || ledger_file[0] == '.')
    throw HistoryError(file.string() + ": unreadable snapshot: ledger_file must name a file beside it");
  const auto ledger_path = file.parent_path() / ledger_file;
  std::unique_ptr<LedgerIndex> index;
  if (index_run) {
    index = std::make_unique<LedgerIndex>(*index_run, static_cast<std::int64_t>(std::min<std::size_t>(ledger_rows, 1ULL << 32)));
  } else {
    s.ledger.reserve(std::min<std::size_t>(ledger_rows, 1 << 24));
  }
  std::size_t rows = 0;
  for_each_line(ledger_path, [&](std::string_view line, std::size_t number) {
    if (line.empty() || line[0] == '#') return;
    LedgerRow r;
    const char* p = line.data();
    const char* end = p + line.size();
    p = parse_field(p, end, r.run_id);
    if (p) p = parse_field(p, end, r.op_id);
    if (p) p = parse_field(p, end, r.attempt);
    if (p) p = parse_field(p, end, r.worker);
    if (p) p = parse_field(p, end, r.from_account);
    if (p) p = parse_field(p, end, r.to_account);
    if (p) p = parse_field(p, end, r.amount_cents);
    if (p) p = parse_field(p, end, r.txid);
    if (p != end) throw HistoryError(fmt::format("{}:{}: unreadable ledger row", ledger_path.string(), number));
    ++rows;
    if (index) index->add(r);
    else s.ledger.push_back(r);
  });
  // A ledger cut at a row boundary parses cleanly; only the count shows the rows that are missing, and missing
  // rows would be reported as lost commits.
  if (rows != ledger_rows)
    throw HistoryError(fmt::format("{}: unreadable snapshot: {} ledger rows, {} names {}", ledger_path.string(), rows,
                                   file.filename().string(), ledger_rows));
  if (index) s.ledger_index = std::move(index);
  return s;
}

std::vector<Snapshot> read_snapshots(const RunDirectory& directory, std::optional<std::int64_t> index_run) {
  std::vector<Snapshot> snapshots;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(directory.root()))
    if (directory.is_snapshot_json(entry.path())) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  for (const auto& file : files) snapshots.push_back(read_snapshot(file, index_run));
  std::stable_partition(snapshots.begin(), snapshots.end(), [](const Snapshot& s) { return s.role == "primary"; });
  return snapshots;
}

void remove_snapshots(const RunDirectory& directory) {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(directory.root()))
    if (entry.path().filename().string().rfind("snapshot-", 0) == 0) files.push_back(entry.path());
  for (const auto& file : files) std::filesystem::remove(file);
}

}  // namespace pgchaos::history
