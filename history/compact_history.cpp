// The compact side file: see compact_history.h. Records are a kind byte and fields in this machine's byte order
// (a side file moved to another machine no longer matches its history, which is then parsed):
//   'I' invoke      op i64, mono_ns i64, attempt i32, worker i32, node u16, timeline i32
//   'O' 'F' 'U'     ok / fail / unknown: op i64, mono_ns i64, attempt i32, worker i32, commit_lsn i64
//   'N' a node      id u16, length u16, its text (before the first invoke that names it)
//   'L' a line      length u32, the JSON text (every other event, and completions with a warning)
//   'E' the end     invokes u64, lines u64, the history's size u64 and modification time (ns) i64
#include "compact_history.h"

#include <sys/stat.h>

#include <cstring>
#include <vector>

namespace pgchaos::history {
namespace {

constexpr std::size_t kEndSize = 1 + 4 * 8;

template <typename T>
void put(std::string& out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  out.append(bytes, sizeof(T));
}

template <typename T>
T take(const char*& p) {
  T value;
  std::memcpy(&value, p, sizeof(T));
  p += sizeof(T);
  return value;
}

// The history file's size and modification time now, as the end record names them.
bool stat_of(const std::filesystem::path& file, std::uint64_t& size, std::int64_t& mtime_ns) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) return false;
  size = static_cast<std::uint64_t>(st.st_size);
  mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  return true;
}

}  // namespace

std::filesystem::path compact_file_of(const std::filesystem::path& history_file) {
  return history_file.string() + ".compact";
}

CompactWriter::CompactWriter(const std::filesystem::path& history_file) : history_file_(history_file) {
  file_ = std::fopen(compact_file_of(history_file).c_str(), "wb");
  if (file_ == nullptr) throw HistoryError("cannot create " + compact_file_of(history_file).string());
}

CompactWriter::~CompactWriter() {
  if (file_ != nullptr) std::fclose(file_);  // not finished: no end record, so no reader trusts it
}

void CompactWriter::add(const Event& e, std::string_view json_line) {
  ++lines_;
  const bool completion = e.type == EventType::ok || e.type == EventType::fail || e.type == EventType::unknown;
  if (e.type == EventType::invoke) {
    ++invokes_;
    std::uint16_t node = 0;
    if (!e.node.empty()) {
      auto it = nodes_.find(e.node);
      if (it == nodes_.end() && nodes_.size() < 65535 && e.node.size() < 65536) {
        it = nodes_.emplace(e.node, static_cast<std::uint16_t>(nodes_.size() + 1)).first;
        buffer_ += 'N';
        put<std::uint16_t>(buffer_, it->second);
        put<std::uint16_t>(buffer_, static_cast<std::uint16_t>(e.node.size()));
        buffer_ += e.node;
      }
      if (it == nodes_.end()) {  // beyond the table: as a line, like any rare event
        buffer_ += 'L';
        put<std::uint32_t>(buffer_, static_cast<std::uint32_t>(json_line.size() - 1));
        buffer_.append(json_line.substr(0, json_line.size() - 1));
        return;
      }
      node = it->second;
    }
    buffer_ += 'I';
    put<std::int64_t>(buffer_, e.op);
    put<std::int64_t>(buffer_, e.mono_ns);
    put<std::int32_t>(buffer_, e.attempt);
    put<std::int32_t>(buffer_, e.worker);
    put<std::uint16_t>(buffer_, node);
    put<std::int32_t>(buffer_, e.timeline);
  } else if (completion && e.warning.empty()) {
    buffer_ += e.type == EventType::ok ? 'O' : e.type == EventType::fail ? 'F' : 'U';
    put<std::int64_t>(buffer_, e.op);
    put<std::int64_t>(buffer_, e.mono_ns);
    put<std::int32_t>(buffer_, e.attempt);
    put<std::int32_t>(buffer_, e.worker);
    put<std::int64_t>(buffer_, e.commit_lsn);
  } else {
    const auto text = json_line.substr(0, json_line.size() - 1);  // without the newline
    buffer_ += 'L';
    put<std::uint32_t>(buffer_, static_cast<std::uint32_t>(text.size()));
    buffer_.append(text);
  }
}

bool CompactWriter::flush() {
  if (file_ == nullptr || failed_) return !failed_;
  if (!buffer_.empty() && std::fwrite(buffer_.data(), 1, buffer_.size(), file_) != buffer_.size()) failed_ = true;
  buffer_.clear();
  if (std::fflush(file_) != 0) failed_ = true;
  return !failed_;
}

void CompactWriter::finish() {
  if (file_ == nullptr) return;
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
  if (flush() && stat_of(history_file_, size, mtime_ns)) {
    buffer_ += 'E';
    put<std::uint64_t>(buffer_, invokes_);
    put<std::uint64_t>(buffer_, lines_);
    put<std::uint64_t>(buffer_, size);
    put<std::int64_t>(buffer_, mtime_ns);
    flush();
  }
  std::fclose(file_);
  file_ = nullptr;
  // A side file that could not be written whole is no use to anyone: the history is read instead.
  if (failed_) std::filesystem::remove(compact_file_of(history_file_));
}

bool read_compact_history(const std::filesystem::path& history_file, const std::function<void(std::uint64_t)>& reserve,
                          const std::function<void(const CompactRecord&)>& record) {
  const auto path = compact_file_of(history_file);
  std::FILE* in = std::fopen(path.c_str(), "rb");
  if (in == nullptr) return false;
  struct Closer {
    std::FILE* f;
    ~Closer() { std::fclose(f); }
  } closer{in};

  // The end record first: without it, or when the history changed since, the side file is not used.
  std::uint64_t history_size = 0;
  std::int64_t history_mtime = 0;
  if (!stat_of(history_file, history_size, history_mtime)) return false;
  if (std::fseek(in, 0, SEEK_END) != 0) return false;
  const long file_size = std::ftell(in);
  if (file_size < static_cast<long>(kEndSize) || std::fseek(in, file_size - static_cast<long>(kEndSize), SEEK_SET) != 0)
    return false;
  char end_record[kEndSize];
  if (std::fread(end_record, 1, kEndSize, in) != kEndSize || end_record[0] != 'E') return false;
  const char* field = end_record + 1;
  const auto invokes = take<std::uint64_t>(field);
  const auto lines = take<std::uint64_t>(field);
  const auto size = take<std::uint64_t>(field);
  const auto mtime = take<std::int64_t>(field);
  if (size != history_size || mtime != history_mtime) return false;
  std::rewind(in);

  const auto body = static_cast<std::uint64_t>(file_size) - kEndSize;
  reserve(std::min<std::uint64_t>(invokes, body / 31));  // an invoke record takes 31 bytes: a damaged count stays bounded
  std::vector<char> buffer(1 << 20);
  std::string carry;  // a record split across two reads
  std::map<std::uint16_t, std::string> nodes;
  std::uint64_t consumed = 0, seen_lines = 0;
  // Decodes whole records from [p, end); returns where the first incomplete one starts.
  auto decode = [&](const char* p, const char* end) {
    while (p < end) {
      const char* start = p;
      const char kind = *p++;
      auto need = [&](std::size_t n) { return static_cast<std::size_t>(end - p) >= n; };
      CompactRecord r;
      switch (kind) {
        case 'I':
          if (!need(30)) return start;
          r.kind = CompactRecord::Kind::invoke;
          r.op = take<std::int64_t>(p);
          r.mono_ns = take<std::int64_t>(p);
          r.attempt = take<std::int32_t>(p);
          r.worker = take<std::int32_t>(p);
          if (const auto node = take<std::uint16_t>(p); node != 0) {
            const auto it = nodes.find(node);
            if (it == nodes.end()) throw CompactUnusable{};
            r.node = it->second;
          }
          r.timeline = take<std::int32_t>(p);
          break;
        case 'O': case 'F': case 'U':
          if (!need(32)) return start;
          r.kind = kind == 'O' ? CompactRecord::Kind::ok : kind == 'F' ? CompactRecord::Kind::fail : CompactRecord::Kind::unknown;
          r.op = take<std::int64_t>(p);
          r.mono_ns = take<std::int64_t>(p);
          r.attempt = take<std::int32_t>(p);
          r.worker = take<std::int32_t>(p);
          r.commit_lsn = take<std::int64_t>(p);
          break;
        case 'N': {
          if (!need(4)) return start;
          const auto id = take<std::uint16_t>(p);
          const auto length = take<std::uint16_t>(p);
          if (!need(length)) return start;
          nodes[id] = std::string(p, length);
          p += length;
          continue;  // not a line of the history
        }
        case 'L': {
          if (!need(4)) return start;
          const auto length = take<std::uint32_t>(p);
          if (!need(length)) return start;
          r.kind = CompactRecord::Kind::line;
          r.line = std::string_view(p, length);
          p += length;
          break;
        }
        default: throw CompactUnusable{};
      }
      ++seen_lines;
      record(r);
    }
    return p;
  };
  while (consumed < body) {
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), body - consumed));
    const std::size_t n = std::fread(buffer.data(), 1, want, in);
    if (n == 0) throw CompactUnusable{};
    consumed += n;
    if (carry.empty()) {
      const char* rest = decode(buffer.data(), buffer.data() + n);
      carry.assign(rest, static_cast<std::size_t>(buffer.data() + n - rest));
    } else {
      carry.append(buffer.data(), n);
      const char* rest = decode(carry.data(), carry.data() + carry.size());
      carry.erase(0, static_cast<std::size_t>(rest - carry.data()));
    }
  }
  if (!carry.empty() || seen_lines != lines) throw CompactUnusable{};
  return true;
}

}  // namespace pgchaos::history
