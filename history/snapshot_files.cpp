// Snapshot files: metadata and accounts as JSON, the ledger as TSV (millions of rows read in a second).
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "history/history.h"

namespace pgchaos::history {
namespace {

std::string file_name_part(const std::string& name) {
  std::string safe;
  for (const char c : name) safe += std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ? c : '_';
  return safe;
}

template <typename Int>
const char* parse_field(const char* p, const char* end, Int& value) {
  const auto [next, error] = std::from_chars(p, end, value);
  if (error != std::errc()) return nullptr;
  return next < end && (*next == '\t' || *next == '\n') ? next + 1 : next;
}

}  // namespace

void write_snapshot(const std::filesystem::path& dir, const Snapshot& s) {
  const std::string base = "snapshot-" + file_name_part(s.name);
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
                      {"ledger_file", base + ".ledger.tsv"},
                      {"ledger_rows", s.ledger.size()}};
  auto& accounts = j["accounts"] = nlohmann::json::array();
  for (const auto& a : s.accounts) accounts.push_back({a.id, a.balance_cents});
  {
    std::ofstream out(dir / (base + ".json"));
    out << j.dump() << '\n';
    if (!out) throw HistoryError("cannot write " + (dir / (base + ".json")).string());
  }
  std::FILE* out = std::fopen((dir / (base + ".ledger.tsv")).c_str(), "w");
  if (out == nullptr) throw HistoryError("cannot write " + (dir / (base + ".ledger.tsv")).string());
  std::fputs("# run_id\top_id\tattempt\tworker\tfrom\tto\tamount_cents\ttxid\n", out);
  std::string buffer;
  for (const auto& r : s.ledger) {
    fmt::format_to(std::back_inserter(buffer), "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\n", r.run_id, r.op_id, r.attempt,
                   r.worker, r.from_account, r.to_account, r.amount_cents, r.txid);
    if (buffer.size() > (1 << 20)) {
      std::fwrite(buffer.data(), 1, buffer.size(), out);
      buffer.clear();
    }
  }
  std::fwrite(buffer.data(), 1, buffer.size(), out);
  if (std::fclose(out) != 0) throw HistoryError("cannot write " + (dir / (base + ".ledger.tsv")).string());
}

namespace {
Snapshot read_one(const std::filesystem::path& file) {
  Snapshot s;
  std::string ledger_file;
  try {
    std::ifstream in(file);
    const auto j = nlohmann::json::parse(in);
    s.name = j.at("name");
    s.role = j.at("role");
    s.node = j.at("node");
    s.system_identifier = j.at("system_identifier");
    s.in_recovery = j.at("in_recovery");
    s.caught_up = j.at("caught_up");
    s.timeline = j.at("timeline");
    s.lsn = j.at("lsn");
    s.error = j.at("error");
    s.initial_balance_cents = j.at("initial_balance_cents");
    ledger_file = j.at("ledger_file");
    for (const auto& a : j.at("accounts")) s.accounts.push_back({a.at(0).get<int>(), a.at(1).get<std::int64_t>()});
    s.ledger.reserve(j.at("ledger_rows").get<std::size_t>());
  } catch (const nlohmann::json::exception& error) {
    throw HistoryError(file.string() + ": unreadable snapshot: " + error.what());
  }
  const auto ledger_path = file.parent_path() / ledger_file;
  std::ifstream in(ledger_path, std::ios::binary);
  if (!in) throw HistoryError("cannot open " + ledger_path.string());
  std::string line;
  std::size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty() || line[0] == '#') continue;
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
    if (!p) throw HistoryError(fmt::format("{}:{}: unreadable ledger row", ledger_path.string(), number));
    s.ledger.push_back(r);
  }
  return s;
}
}  // namespace

std::vector<Snapshot> read_snapshots(const std::filesystem::path& dir) {
  std::vector<Snapshot> snapshots;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const auto name = entry.path().filename().string();
    if (name.rfind("snapshot-", 0) == 0 && entry.path().extension() == ".json") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& file : files) snapshots.push_back(read_one(file));
  std::stable_partition(snapshots.begin(), snapshots.end(), [](const Snapshot& s) { return s.role == "primary"; });
  return snapshots;
}

}  // namespace pgchaos::history
