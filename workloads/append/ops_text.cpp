// The text of a transaction's micro-operations in history.jsonl ("a3:17 r3=4,9,17 r5= r6"), and of a list as
// PostgreSQL returns it ("{4,9,17}").
#include <fmt/format.h>

#include <charconv>
#include <stdexcept>

#include "workloads/append/append.h"
#include "pg_array.h"

namespace pgchaos::append {

std::string format_ops(const std::vector<MicroOp>& ops) {
  std::string out;
  for (const auto& op : ops) {
    if (!out.empty()) out += ' ';
    if (op.kind == MicroOp::Kind::append) {
      out += fmt::format("a{}:{}", op.key, op.value);
      continue;
    }
    out += fmt::format("r{}", op.key);
    if (!op.read) continue;
    out += '=';
    for (std::size_t i = 0; i < op.read->size(); ++i) out += (i ? "," : "") + std::to_string((*op.read)[i]);
  }
  return out;
}

std::vector<MicroOp> parse_ops(std::string_view text) {
  std::vector<MicroOp> ops;
  auto number = [&](const char*& p, const char* end, const char* what) {
    std::int64_t v = 0;
    const auto [next, error] = std::from_chars(p, end, v);
    if (error != std::errc()) throw std::invalid_argument(fmt::format("{}: {} expected", text, what));
    p = next;
    return v;
  };
  const char* p = text.data();
  const char* end = p + text.size();
  while (p < end) {
    if (*p == ' ') {
      ++p;
      continue;
    }
    MicroOp op;
    const char kind = *p++;
    if (kind != 'a' && kind != 'r') throw std::invalid_argument(fmt::format("{}: a micro-operation starts with a or r", text));
    op.kind = kind == 'a' ? MicroOp::Kind::append : MicroOp::Kind::read;
    op.key = number(p, end, "a key");
    if (op.kind == MicroOp::Kind::append) {
      if (p >= end || *p++ != ':') throw std::invalid_argument(fmt::format("{}: an append is aKEY:ELEMENT", text));
      op.value = number(p, end, "an element");
    } else if (p < end && *p == '=') {
      ++p;
      op.read.emplace();
      while (p < end && *p != ' ') {
        op.read->push_back(number(p, end, "an element"));
        if (p < end && *p == ',') ++p;
      }
    }
    if (p < end && *p != ' ') throw std::invalid_argument(fmt::format("{}: a space expected between micro-operations", text));
    ops.push_back(std::move(op));
  }
  return ops;
}

// PostgreSQL's text form of a bigint[]: "{1,2,3}" (never NULL elements here).
std::vector<std::int64_t> parse_array(std::string_view text) {
  std::vector<std::int64_t> out;
  if (text.size() < 2 || text.front() != '{' || text.back() != '}') throw std::invalid_argument("not an array: " + std::string(text));
  const char* p = text.data() + 1;
  const char* end = text.data() + text.size() - 1;
  while (p < end) {
    std::int64_t v = 0;
    const auto [next, error] = std::from_chars(p, end, v);
    if (error != std::errc()) throw std::invalid_argument("not an array of integers: " + std::string(text));
    out.push_back(v);
    p = next < end && *next == ',' ? next + 1 : next;
  }
  return out;
}

}  // namespace pgchaos::append
