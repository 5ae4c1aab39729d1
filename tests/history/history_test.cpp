#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "history/history.h"

namespace pgchaos::history {
namespace {

std::filesystem::path temp_file(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("pgchaos-history-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return dir / name;
}

Event completion(EventType type, std::int64_t op, int attempt) {
  Event e;
  e.type = type;
  e.op = op;
  e.attempt = attempt;
  e.worker = 3;
  return e;
}

TEST(History, RoundTripsEveryField) {
  const auto path = temp_file("roundtrip.jsonl");
  Event e = completion(EventType::fail, 42, 2);
  e.from_account = 7;
  e.to_account = 9;
  e.amount_cents = 1234;
  e.txid = 987654321;
  e.sqlstate = "40P01";
  e.error_class = "deadlock";
  e.message = "deadlock detected\n\"quoted\" \\ and \t tab \x01";
  e.node = "127.0.0.1:5432";
  e.timeline = 3;
  Event r = completion(EventType::resolve, 42, 1);
  r.committed = true;
  r.via = "ledger";
  {
    HistoryWriter writer(path);
    writer.stamp(e);
    writer.append(e);
    writer.append(r);
  }
  const auto file = read_history(path);
  ASSERT_EQ(file.events.size(), 2u);
  EXPECT_FALSE(file.torn_tail);
  const Event& back = file.events[0];
  EXPECT_EQ(back.type, EventType::fail);
  EXPECT_EQ(back.op, 42);
  EXPECT_EQ(back.attempt, 2);
  EXPECT_EQ(back.worker, 3);
  EXPECT_EQ(back.from_account, 7);
  EXPECT_EQ(back.to_account, 9);
  EXPECT_EQ(back.amount_cents, 1234);
  EXPECT_EQ(back.txid, 987654321);
  EXPECT_EQ(back.sqlstate, "40P01");
  EXPECT_EQ(back.error_class, "deadlock");
  EXPECT_EQ(back.message, e.message);
  EXPECT_EQ(back.node, "127.0.0.1:5432");
  EXPECT_EQ(back.timeline, 3);
  EXPECT_EQ(back.wall_us, e.wall_us);
  EXPECT_EQ(back.mono_ns, e.mono_ns);
  EXPECT_GT(back.wall_us, 1'600'000'000'000'000);
  EXPECT_TRUE(file.events[1].committed);
  EXPECT_EQ(file.events[1].via, "ledger");
}

TEST(History, TornLastLineIsSkippedAndReported) {
  const auto path = temp_file("torn.jsonl");
  {
    std::ofstream out(path);
    out << to_json_line(completion(EventType::invoke, 1, 1));
    out << to_json_line(completion(EventType::ok, 1, 1));
    const std::string partial = to_json_line(completion(EventType::invoke, 2, 1));
    out << partial.substr(0, partial.size() / 2);  // the writer was killed mid-line
  }
  const auto file = read_history(path);
  EXPECT_TRUE(file.torn_tail);
  ASSERT_EQ(file.events.size(), 2u);
  EXPECT_EQ(file.events[1].type, EventType::ok);
}

TEST(History, ACompleteButUnterminatedLastLineCountsAsTorn) {
  const auto path = temp_file("unterminated.jsonl");
  {
    std::ofstream out(path);
    out << to_json_line(completion(EventType::invoke, 1, 1));
    std::string last = to_json_line(completion(EventType::ok, 1, 1));
    last.pop_back();
    out << last;
  }
  const auto file = read_history(path);
  EXPECT_TRUE(file.torn_tail);
  EXPECT_EQ(file.events.size(), 1u);
}

TEST(History, ACorruptLineInTheMiddleNamesFileAndLine) {
  const auto path = temp_file("corrupt.jsonl");
  {
    std::ofstream out(path);
    out << to_json_line(completion(EventType::invoke, 1, 1));
    out << "{not json\n";
    out << to_json_line(completion(EventType::ok, 1, 1));
  }
  try {
    read_history(path);
    FAIL() << "a corrupt middle line must not be skipped silently";
  } catch (const HistoryError& error) {
    EXPECT_NE(std::string(error.what()).find(path.string() + ":2:"), std::string::npos) << error.what();
  }
}

TEST(History, KeepsEachThreadsOrderUnderConcurrentAppends) {
  const auto path = temp_file("concurrent.jsonl");
  constexpr int kThreads = 8, kPerThread = 5000;
  {
    HistoryWriter writer(path, std::chrono::milliseconds(5));
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
      threads.emplace_back([&writer, t] {
        for (int i = 1; i <= kPerThread; ++i) {
          Event e = completion(EventType::invoke, i, 1);
          e.worker = t;
          writer.stamp(e);
          writer.append(e);
        }
      });
    for (auto& thread : threads) thread.join();
  }
  const auto file = read_history(path);
  ASSERT_EQ(file.events.size(), static_cast<std::size_t>(kThreads * kPerThread));
  std::vector<std::int64_t> last_op(kThreads, 0), last_time(kThreads, 0);
  for (const auto& e : file.events) {
    EXPECT_EQ(e.op, last_op[e.worker] + 1) << "worker " << e.worker;
    EXPECT_GE(e.mono_ns, last_time[e.worker]);
    last_op[e.worker] = e.op;
    last_time[e.worker] = e.mono_ns;
  }
}

TEST(History, FlushesWhileRunningNotOnlyAtClose) {
  const auto path = temp_file("flush.jsonl");
  HistoryWriter writer(path, std::chrono::milliseconds(50));
  writer.append(completion(EventType::invoke, 1, 1));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(read_history(path).events.size(), 1u) << "an event must reach the file within the flush interval";
  writer.close();
}

TEST(History, SnapshotRoundTrips) {
  const auto path = temp_file("snapshot.json");
  Snapshot s;
  s.node = "10.0.0.1:5432";
  s.timeline = 4;
  s.lsn = "0/3000060";
  s.accounts = {{1, 10050}, {2, 9950}};
  s.ledger = {{7, 1, 2, 0, 1, 2, 50, 777}};
  write_snapshot(path, s);
  const Snapshot back = read_snapshot(path);
  EXPECT_EQ(back.node, s.node);
  EXPECT_EQ(back.timeline, 4);
  EXPECT_EQ(back.lsn, "0/3000060");
  ASSERT_EQ(back.accounts.size(), 2u);
  EXPECT_EQ(back.accounts[1].balance_cents, 9950);
  ASSERT_EQ(back.ledger.size(), 1u);
  EXPECT_EQ(back.ledger[0].attempt, 2);
  EXPECT_EQ(back.ledger[0].txid, 777);
}

}  // namespace
}  // namespace pgchaos::history
