#include "history/run_directory.h"

#include "compact_history.h"

#include <fstream>

namespace pgchaos::history {
namespace {

std::string file_name_part(const std::string& name) {
  std::string safe;
  for (const char c : name) safe += std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ? c : '_';
  return safe;
}

}  // namespace

RunDirectory::RunDirectory(std::filesystem::path root) : root_(std::move(root)) {}
RunDirectory::RunDirectory(RunDirectory&&) noexcept = default;
RunDirectory& RunDirectory::operator=(RunDirectory&&) noexcept = default;
RunDirectory::~RunDirectory() = default;  // HistoryWriter's destructor flushes and closes

RunDirectory RunDirectory::for_new_run(std::filesystem::path root) {
  RunDirectory directory(std::move(root));
  std::error_code ec;
  for (const auto& file : {directory.history(), directory.run_json()})  // either history's name
    if (std::filesystem::exists(file, ec))
      throw HistoryError(directory.root_.string() + " already holds a run (" + file.filename().string() +
                         "); choose another --output (pgchaos never overwrites a history)");
  if (std::filesystem::exists(directory.root_, ec) && !std::filesystem::is_directory(directory.root_, ec))
    throw HistoryError(directory.root_.string() + " exists and is not a directory");
  return directory;
}

RunDirectory RunDirectory::open(std::filesystem::path root) {
  RunDirectory directory(std::move(root));
  std::error_code ec;
  if (!std::filesystem::is_regular_file(directory.run_json(), ec))
    throw HistoryError(directory.run_json().string() + ": cannot read (is this a pgchaos run directory?)");
  return directory;
}

void RunDirectory::create() const {
  std::error_code ec;
  std::filesystem::create_directories(root_, ec);
  if (ec) throw HistoryError("cannot create " + root_.string() + ": " + ec.message());
}

std::filesystem::path RunDirectory::history() const {
  const auto compressed = root_ / "history.jsonl.zst";
  std::error_code ec;
  return std::filesystem::exists(compressed, ec) ? compressed : root_ / "history.jsonl";
}

std::filesystem::path RunDirectory::snapshot_json(const std::string& node) const {
  return root_ / ("snapshot-" + file_name_part(node) + ".json");
}
std::filesystem::path RunDirectory::snapshot_ledger(const std::string& node) const {
  return root_ / ("snapshot-" + file_name_part(node) + ".ledger.tsv");
}
bool RunDirectory::is_snapshot_json(const std::filesystem::path& file) const {
  const auto name = file.filename().string();
  return name.rfind("snapshot-", 0) == 0 && file.extension() == ".json";
}

void RunDirectory::remove_bulk() const {
  std::error_code ec;
  std::filesystem::remove(compact_file_of(history()), ec);
  std::filesystem::remove(history(), ec);
  for (const auto& entry : std::filesystem::directory_iterator(root_, ec))
    if (entry.path().filename().string().ends_with(".ledger.tsv")) std::filesystem::remove(entry.path(), ec);
  for (auto it = std::filesystem::recursive_directory_iterator(root_ / "forensics", ec);
       !ec && it != std::filesystem::end(it); it.increment(ec))
    if (it->is_regular_file(ec) && it->path().filename() != "key-lines.txt") std::filesystem::remove(it->path(), ec);
}

HistoryWriter& RunDirectory::start_history(std::int64_t run_id, std::int64_t seed, bool compressed) {
  if (history_) throw HistoryError(history().string() + ": the history is already open");
  std::error_code ec;
  if (std::filesystem::exists(history(), ec))
    throw HistoryError(root_.string() + " already holds a history; pgchaos never overwrites one");
  history_ = std::make_unique<HistoryWriter>(compressed ? root_ / "history.jsonl.zst" : root_ / "history.jsonl");
  Event started;
  started.type = EventType::run_started;
  started.run_id = run_id;
  started.seed = seed;
  history_->stamp(started);
  history_->append(started);
  return *history_;
}

void RunDirectory::finish(const std::string& how) {
  if (!history_) return;
  Event finished;
  finished.type = EventType::run_finished;
  finished.message = how;
  history_->stamp(finished);
  history_->append(finished);
  history_->close();
  history_.reset();
}

}  // namespace pgchaos::history
