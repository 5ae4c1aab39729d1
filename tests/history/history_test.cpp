#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "common/commit_setting.h"
#include "history/events.h"
#include "history/run_directory.h"
#include "history/run_history.h"
#include "history/snapshots.h"
#include "tests/support/temp_directory.h"

namespace pgchaos::history {
namespace {

// Every file of these tests lives in one temporary directory, removed when the tests end.
std::filesystem::path temp_file(const std::string& name) {
  static const testing::TempDirectory dir("pgchaos-history");
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

TEST(History, SnapshotsRoundTripPrimaryFirst) {
  const testing::TempDirectory temp("pgchaos-snapshots");
  const auto dir = RunDirectory::for_new_run(temp.path());
  Snapshot replica;
  replica.name = "a-replica";
  replica.role = "replica";
  replica.caught_up = false;
  replica.error = "";
  Snapshot s;
  s.name = "pgc2";
  s.role = "primary";
  s.node = "10.0.0.1:5432";
  s.system_identifier = "7713070853598746906";
  s.timeline = 4;
  s.lsn = "0/3000060";
  s.accounts = {{1, 10050}, {2, 9950}};
  s.ledger = {{1, 777, 7, 2, 1, 2, 50, 3}, {2, 778, 7, 1, 2, 1, 10000, 0}};
  write_snapshot(dir, replica);
  write_snapshot(dir, s);
  const auto back = read_snapshots(dir);
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0].role, "primary") << "the primary comes first whatever the file order";
  EXPECT_EQ(back[0].name, "pgc2");
  EXPECT_EQ(back[0].system_identifier, s.system_identifier);
  EXPECT_EQ(back[0].timeline, 4);
  EXPECT_EQ(back[0].lsn, "0/3000060");
  ASSERT_EQ(back[0].accounts.size(), 2u);
  EXPECT_EQ(back[0].accounts[1].balance_cents, 9950);
  ASSERT_EQ(back[0].ledger.size(), 2u);
  EXPECT_EQ(back[0].ledger[0].op_id, 1);
  EXPECT_EQ(back[0].ledger[0].txid, 777);
  EXPECT_EQ(back[0].ledger[0].run_id, 7);
  EXPECT_EQ(back[0].ledger[0].attempt, 2);
  EXPECT_EQ(back[0].ledger[1].amount_cents, 10000);
  EXPECT_FALSE(back[1].caught_up);
}

TEST(History, CompactLoaderPairsCompletionsAndFaults) {
  const auto path = temp_file("compact.jsonl");
  {
    std::ofstream out(path);
    Event started;
    started.type = EventType::run_started;
    started.run_id = 12;
    started.seed = 99;
    out << to_json_line(started);
    for (const auto& [type, op, worker, t] : std::vector<std::tuple<EventType, int, int, int>>{
             {EventType::invoke, 1, 0, 1000}, {EventType::invoke, 2, 1, 2000}, {EventType::ok, 2, 1, 5000},
             {EventType::unknown, 1, 0, 9000}}) {
      Event e = completion(type, op, 1);
      e.worker = worker;
      e.mono_ns = t;
      out << to_json_line(e);
    }
    Event fault = completion(EventType::fault_start, 1, 0);
    fault.worker = -1;
    fault.fault = "switchover";
    fault.target = "pgc1";
    fault.mono_ns = 1500;
    out << to_json_line(fault);
    fault.type = EventType::fault_end;
    fault.mono_ns = 7000;
    out << to_json_line(fault);
  }
  const auto h = load_run_history(path);
  EXPECT_EQ(h.run_id, 12);
  EXPECT_EQ(h.seed, 99);
  ASSERT_EQ(h.attempts.size(), 2u);
  EXPECT_EQ(h.attempts[0].op, 1);
  EXPECT_EQ(h.attempts[0].outcome, Outcome::unknown);
  EXPECT_EQ(h.attempts[0].latency_us, 8u);
  EXPECT_EQ(h.attempts[1].outcome, Outcome::ok);
  ASSERT_EQ(h.faults.size(), 1u);
  EXPECT_EQ(h.faults[0].fault, "switchover");
  EXPECT_EQ(h.faults[0].start_ns, 1500);
  EXPECT_EQ(h.faults[0].end_ns, 7000);
  EXPECT_FALSE(h.torn_tail);
}

TEST(History, AWorkerNumberOutOfRangeIsAnErrorNotAnAllocation) {
  const auto path = temp_file("wild-worker.jsonl");
  Event invoke = completion(EventType::invoke, 1, 1);
  invoke.worker = 536870911;  // fuzzing found the worker table sized by it: 4 GiB
  { std::ofstream(path) << to_json_line(invoke) << to_json_line(completion(EventType::ok, 2, 1)); }
  try {
    load_run_history(path);
    ADD_FAILURE() << "a worker beyond any --threads is an error";
  } catch (const HistoryError& error) {
    EXPECT_NE(std::string(error.what()).find(":1: worker 536870911 out of range"), std::string::npos) << error.what();
  }
}

TEST(History, ACompletionWithoutItsInvokeIsAnError) {
  const auto path = temp_file("orphan.jsonl");
  { std::ofstream(path) << to_json_line(completion(EventType::ok, 5, 1)) << to_json_line(completion(EventType::ok, 6, 1)); }
  EXPECT_THROW(load_run_history(path), HistoryError);
}

}  // namespace
}  // namespace pgchaos::history

namespace pgchaos::history {
namespace {

TEST(History, TheClustersStoryRoundTripsIntoTheCompactView) {
  const testing::TempDirectory dir("pgchaos-story");
  const auto path = dir / "history.jsonl";
  {
    HistoryWriter writer(path);
    Event started;
    started.type = EventType::run_started;
    started.run_id = 7;
    writer.append(started);
    Event invoke;
    invoke.type = EventType::invoke;
    invoke.op = 1;
    invoke.attempt = 1;
    invoke.worker = 0;
    invoke.node = "10.0.0.1:5432";
    invoke.timeline = 4;
    invoke.mono_ns = 1000;
    writer.append(invoke);
    Event ok = invoke;
    ok.type = EventType::ok;
    ok.node.clear();
    ok.timeline = 0;
    ok.mono_ns = 3000;
    ok.commit_lsn = 123456789;
    ok.warning = "WARNING: canceling wait for synchronous replication due to user request";
    writer.append(ok);
    Event second = invoke;
    second.op = 2;
    second.node = "10.0.0.2:5432";
    second.timeline = 5;
    writer.append(second);
    Event unknown = second;
    unknown.type = EventType::unknown;
    writer.append(unknown);
    Event resolve;
    resolve.type = EventType::resolve;
    resolve.op = 2;
    resolve.attempt = 1;
    resolve.committed = false;
    writer.append(resolve);
    Event seen;
    seen.type = EventType::observation;
    seen.mono_ns = 2000;
    seen.node = "pgc1";
    seen.role = "primary";
    seen.state = "running";
    seen.pg_role = "primary";
    seen.patroni_timeline = 4;
    seen.timeline = 4;
    seen.wal_current = 99;
    seen.replicas = 2;
    seen.followers = "pgc2,pgc3";
    seen.address = "10.0.0.1:5432";
    writer.append(seen);
    Event probe;
    probe.type = EventType::probe;
    probe.mono_ns = 2500;
    probe.committed = false;
    probe.node = "10.0.0.1:5432";
    probe.message = "connection refused";
    writer.append(probe);
    Event fault;
    fault.type = EventType::fault_start;
    fault.op = 1;
    fault.fault = "switchover";
    fault.target = "pgc2";
    fault.exit_status = 1;
    fault.limit_ms = 10000;
    writer.append(fault);
  }
  // The line reader keeps every field.
  const auto events = read_history(path).events;
  ASSERT_EQ(events.size(), 9u);
  EXPECT_EQ(events[2].commit_lsn, 123456789);
  EXPECT_EQ(events[2].warning.rfind("WARNING: canceling wait", 0), 0u);
  EXPECT_EQ(events[6].type, EventType::observation);
  EXPECT_EQ(events[6].followers, "pgc2,pgc3");
  EXPECT_EQ(events[6].wal_current, 99);
  EXPECT_EQ(events[7].type, EventType::probe);
  EXPECT_FALSE(events[7].committed);
  EXPECT_EQ(events[8].limit_ms, 10000);

  // The compact loader: terms, commit positions, warnings, resolutions, observations, probes, fault limits.
  const auto h = load_run_history(path);
  ASSERT_EQ(h.attempts.size(), 2u);
  ASSERT_EQ(h.terms.size(), 3u);
  EXPECT_EQ(h.terms[h.attempts[0].term].node, "10.0.0.1:5432");
  EXPECT_EQ(h.terms[h.attempts[0].term].timeline, 4);
  EXPECT_EQ(h.terms[h.attempts[1].term].timeline, 5);
  EXPECT_EQ(h.attempts[0].commit_lsn, 123456789);
  ASSERT_EQ(h.warnings.size(), 1u);
  EXPECT_EQ(h.warnings[0].op, 1);
  ASSERT_EQ(h.resolutions.size(), 1u);
  EXPECT_FALSE(h.resolutions[0].committed);
  ASSERT_EQ(h.observations.size(), 1u);
  EXPECT_EQ(h.observations[0].pg_role, "primary");
  EXPECT_EQ(h.observations[0].replicas, 2);
  EXPECT_EQ(h.observations[0].at_ns, 2000);
  ASSERT_EQ(h.probes.size(), 1u);
  EXPECT_EQ(h.probes[0].error, "connection refused");
  ASSERT_EQ(h.faults.size(), 1u);
  EXPECT_EQ(h.faults[0].exit_status, 1);
  EXPECT_EQ(h.faults[0].limit_ms, 10000);
  static_assert(sizeof(Attempt) == 32, "the compact attempt stays 32 bytes");
}

}  // namespace
}  // namespace pgchaos::history

namespace pgchaos::history {
namespace {

// Found by fuzzing: a float where an integer belongs was converted with a static_cast (undefined behaviour).
TEST(History, ASnapshotWithAFloatWhereAnIntegerBelongsNamesItsFile) {
  const testing::TempDirectory temp("pgchaos-snapshot-float");
  const auto dir = RunDirectory::for_new_run(temp.path());
  Snapshot s;
  s.name = "pgc1";
  s.role = "primary";
  s.accounts = {{1, 10000}};
  write_snapshot(dir, s);
  const auto json_file = dir.root() / "snapshot-pgc1.json";
  const std::string good = common::read_text_file(json_file);
  // Fuzzing found nlohmann's float-to-integer cast (undefined behaviour) in each of these fields.
  for (const auto& [field, bad] : {std::pair{R"("timeline":0)", R"("timeline":1e300)"},
                                   std::pair{R"("ledger_rows":0)", R"("ledger_rows":-1)"},
                                   std::pair{R"([1,10000])", R"([1.5e20,10000])"},
                                   std::pair{R"([1,10000])", R"([1,1e300])"}}) {
    std::string text = good;
    const auto at = text.find(field);
    ASSERT_NE(at, std::string::npos) << field << " in " << good;
    text.replace(at, std::string(field).size(), bad);
    std::ofstream(json_file, std::ios::trunc) << text;
    try {
      read_snapshot(json_file);
      ADD_FAILURE() << bad << " was read";
    } catch (const HistoryError& error) {
      EXPECT_NE(std::string(error.what()).find("snapshot-pgc1.json: unreadable snapshot"), std::string::npos)
          << error.what();
    }
  }
  std::ofstream(json_file, std::ios::trunc) << good;
  EXPECT_EQ(read_snapshot(json_file).accounts.at(0).balance_cents, 10000) << "the file as written reads back";
}

TEST(History, AFloatWhereAnIntegerBelongsIsABadLine) {
  EXPECT_THROW(parse_event_line(R"({"type":"run_started","wall_us":1.5e38,"mono_ns":1})"), HistoryError);
  EXPECT_THROW(parse_event_line(R"({"type":"invoke","op":1,"attempt":99999999999,"worker":1})"), HistoryError)
      << "beyond an int";
  EXPECT_EQ(parse_event_line(R"({"type":"invoke","op":7,"attempt":2,"worker":1})").attempt, 2);
  const testing::TempDirectory dir("pgchaos-float");
  const auto file = dir / "history.jsonl";
  std::ofstream(file) << R"({"type":"observation","mono_ns":1,"node":"pgc1","wal_current":1e300})" << "\n"
                      << R"({"type":"run_finished","mono_ns":2})" << "\n";
  try {
    load_run_history(file);
    ADD_FAILURE() << "a bad line that is not the last is an error";
  } catch (const HistoryError& error) {
    EXPECT_NE(std::string(error.what()).find(":1: unreadable history line"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace pgchaos::history

namespace pgchaos::history {
namespace {

// A history of `ops` invoke/ok pairs written through HistoryWriter to `path` (plain or .zst by its name).
void write_pairs(const std::filesystem::path& path, int ops) {
  HistoryWriter writer(path, std::chrono::milliseconds(20));
  Event started;
  started.type = EventType::run_started;
  started.run_id = 5;
  started.seed = 6;
  writer.append(started);
  for (int op = 1; op <= ops; ++op) {
    Event invoke = completion(EventType::invoke, op, 1);
    invoke.mono_ns = op * 1000;
    writer.append(invoke);
    Event ok = completion(EventType::ok, op, 1);
    ok.mono_ns = op * 1000 + 500;
    ok.node = "pgc1";
    writer.append(ok);
    if (op % 5000 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(30));  // several flushed blocks
  }
  Event finished;
  finished.type = EventType::run_finished;
  writer.append(finished);
}

std::string bytes_of(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(CompressedHistory, ReadsBackExactlyAsThePlainOneAtAFractionOfItsSize) {
  write_pairs(temp_file("same.jsonl"), 20000);
  write_pairs(temp_file("same.jsonl.zst"), 20000);
  const auto plain = read_history(temp_file("same.jsonl"));
  const auto compressed = read_history(temp_file("same.jsonl.zst"));
  ASSERT_EQ(compressed.events.size(), plain.events.size());
  EXPECT_EQ(compressed.events.size(), 40002u);
  for (std::size_t i = 0; i < plain.events.size(); ++i)
    ASSERT_EQ(to_json_line(compressed.events[i]), to_json_line(plain.events[i])) << "event " << i;
  EXPECT_FALSE(compressed.torn_tail);
  const auto view = load_run_history(temp_file("same.jsonl.zst"));
  EXPECT_EQ(view.attempts.size(), 20000u);
  EXPECT_EQ(view.run_id, 5);
  EXPECT_FALSE(view.torn_tail);
  const auto plain_size = std::filesystem::file_size(temp_file("same.jsonl"));
  const auto compressed_size = std::filesystem::file_size(temp_file("same.jsonl.zst"));
  EXPECT_LT(compressed_size * 5, plain_size) << compressed_size << " of " << plain_size << " bytes";
}

TEST(CompressedHistory, AWriterKilledMidwayLeavesAReadablePrefix) {
  // What a kill -9 leaves: the flushed blocks and part of the next one, and no end of frame.
  write_pairs(temp_file("killed-source.jsonl.zst"), 20000);
  const auto whole = bytes_of(temp_file("killed-source.jsonl.zst"));
  // Cut at several places: where a cut falls in a block that began at a flush (the writer flushes every 20 ms,
  // so where blocks begin depends on the machine's speed), the block's lines are lost whole and nothing is torn;
  // a cut in a block that began mid-line leaves a torn line, which the reader must report.
  std::size_t previous = 0, torn = 0;
  for (const std::size_t sixth : {2, 3, 4, 5}) {
    {
      std::ofstream out(temp_file("killed.jsonl.zst"), std::ios::binary | std::ios::trunc);
      out << whole.substr(0, whole.size() * sixth / 6);
    }
    const auto view = load_run_history(temp_file("killed.jsonl.zst"));
    EXPECT_GE(view.attempts.size(), previous) << "a longer prefix reads at least as much, cut at " << sixth << "/6";
    EXPECT_LT(view.attempts.size(), 20000u);
    previous = view.attempts.size();
    torn += view.torn_tail ? 1 : 0;
    const auto events = read_history(temp_file("killed.jsonl.zst"));
    EXPECT_GE(events.events.size(), 2 * view.attempts.size()) << "every attempt read has its invoke and its ok";
  }
  EXPECT_GT(previous, 1000u) << "the flushed blocks are readable";
  EXPECT_GT(torn, 0u) << "a history cut mid-line says so";
}

TEST(CompressedHistory, BytesThatAreNotZstdNameTheFile) {
  {
    std::ofstream out(temp_file("garbage.jsonl.zst"), std::ios::binary);
    out << "{\"type\":\"invoke\"} this is plain text, not zstd\n";
  }
  try {
    load_run_history(temp_file("garbage.jsonl.zst"));
    FAIL() << "garbage must not load";
  } catch (const HistoryError& error) {
    EXPECT_NE(std::string(error.what()).find("garbage.jsonl.zst"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("zstd"), std::string::npos) << error.what();
  }
}

TEST(CompressedHistory, ARunDirectoryFindsWhicheverHistoryItsRunWrote) {
  const testing::TempDirectory dir("pgchaos-rundir");
  auto compressed = RunDirectory::for_new_run(dir / "z");
  compressed.create();
  compressed.start_history(1, 2, true);
  compressed.finish("completed");
  EXPECT_EQ(compressed.history().filename(), "history.jsonl.zst");
  EXPECT_EQ(load_run_history(compressed.history()).run_id, 1);
  EXPECT_THROW(RunDirectory::for_new_run(dir / "z"), HistoryError) << "a compressed history is never overwritten";
  auto plain = RunDirectory::for_new_run(dir / "p");
  plain.create();
  plain.start_history(3, 4);
  plain.finish("completed");
  EXPECT_EQ(plain.history().filename(), "history.jsonl");
}

}  // namespace
}  // namespace pgchaos::history



// ---- the compact side file: loads as the history does, and only while it matches the history ----

namespace pgchaos::history {
namespace {

// A history with every kind of line the loader takes, written as a run writes it (with its side file).
void write_varied_history(const std::filesystem::path& path) {
  HistoryWriter writer(path);
  Event started;
  started.type = EventType::run_started;
  started.run_id = 3;
  started.seed = 11;
  started.wall_us = 1'795'000'000'000'000;
  writer.append(started);
  std::int64_t t = 0;
  for (int op = 1; op <= 300; ++op) {
    Event invoke = completion(EventType::invoke, op, op % 7 == 0 ? 2 : 1);
    invoke.worker = op % 4;
    invoke.node = op < 150 ? "10.213.7.11:5432" : "10.213.7.12:5432";
    invoke.timeline = op < 150 ? 1 : 2;
    invoke.mono_ns = t += 1000;
    writer.append(invoke);
    Event done = completion(op % 11 == 0 ? EventType::unknown : op % 13 == 0 ? EventType::fail : EventType::ok, op,
                            invoke.attempt);
    done.worker = invoke.worker;
    done.mono_ns = t += 5000;
    done.commit_lsn = done.type == EventType::ok ? 1000 + op : 0;
    if (op == 42) done.warning = "WARNING: canceling wait for synchronous replication";
    writer.append(done);
    if (op == 100) {
      Event fault;
      fault.type = EventType::fault_start;
      fault.op = 1;
      fault.fault = "switchover";
      fault.target = "pgc1";
      fault.mono_ns = t;
      writer.append(fault);
      Event seen;
      seen.type = EventType::observation;
      seen.node = "pgc2";
      seen.role = "primary";
      seen.timeline = 2;
      seen.sync_followers = "pgc3";
      seen.mono_ns = t;
      writer.append(seen);
      fault.type = EventType::fault_end;
      fault.mono_ns = t + 10;
      writer.append(fault);
    }
  }
  Event last = completion(EventType::invoke, 301, 1);  // never completed: pending
  last.mono_ns = t + 1;
  writer.append(last);
}

void expect_same_history(const RunHistory& a, const RunHistory& b) {
  EXPECT_EQ(a.run_id, b.run_id);
  EXPECT_EQ(a.seed, b.seed);
  EXPECT_EQ(a.start_wall_us, b.start_wall_us);
  EXPECT_EQ(a.end_ns, b.end_ns);
  ASSERT_EQ(a.attempts.size(), b.attempts.size());
  for (std::size_t i = 0; i < a.attempts.size(); ++i) {
    const auto &x = a.attempts[i], &y = b.attempts[i];
    EXPECT_TRUE(x.op == y.op && x.invoke_ns == y.invoke_ns && x.latency_us == y.latency_us && x.attempt == y.attempt &&
                x.outcome == y.outcome && x.term == y.term && x.commit_lsn == y.commit_lsn)
        << "attempt " << i;
  }
  ASSERT_EQ(a.terms.size(), b.terms.size());
  for (std::size_t i = 0; i < a.terms.size(); ++i) EXPECT_EQ(a.terms[i].node + "/" + std::to_string(a.terms[i].timeline),
                                                            b.terms[i].node + "/" + std::to_string(b.terms[i].timeline));
  ASSERT_EQ(a.faults.size(), b.faults.size());
  EXPECT_EQ(a.faults[0].end_ns, b.faults[0].end_ns);
  ASSERT_EQ(a.observations.size(), b.observations.size());
  EXPECT_EQ(a.observations[0].sync_followers, b.observations[0].sync_followers);
  ASSERT_EQ(a.warnings.size(), b.warnings.size());
  EXPECT_EQ(a.warnings[0].text, b.warnings[0].text);
  EXPECT_EQ(a.torn_tail, b.torn_tail);
  EXPECT_EQ(a.finished, b.finished);
}

TEST(CompactHistory, TheSideFileLoadsExactlyWhatTheHistorySays) {
  const testing::TempDirectory dir("pgchaos-compact");
  const auto path = dir / "history.jsonl";
  write_varied_history(path);
  const auto side = path.string() + ".compact";
  ASSERT_TRUE(std::filesystem::exists(side));
  const auto from_side_file = load_run_history(path);
  EXPECT_EQ(from_side_file.attempts.size(), 301u);
  EXPECT_EQ(from_side_file.attempts.back().outcome, Outcome::pending);
  {
    // Proof that the side file was read: the history blanked to the same size and time loads the same.
    const auto text = common::read_text_file(path);
    const auto time = std::filesystem::last_write_time(path);
    std::ofstream(path, std::ios::trunc) << std::string(text.size(), '\n');
    std::filesystem::last_write_time(path, time);
    EXPECT_EQ(load_run_history(path).attempts.size(), 301u) << "the side file was not used";
    std::ofstream(path, std::ios::trunc) << text;
    std::filesystem::last_write_time(path, time);
  }
  std::filesystem::rename(side, dir / "aside");
  const auto from_history = load_run_history(path);
  expect_same_history(from_side_file, from_history);
  // The same through zstd.
  const auto zst = dir / "history.jsonl.zst";
  write_varied_history(zst);
  ASSERT_TRUE(std::filesystem::exists(zst.string() + ".compact"));
  expect_same_history(load_run_history(zst), from_history);
}

TEST(CompactHistory, TheHistoryWinsWhenTheSideFileDoesNotMatchIt) {
  const testing::TempDirectory dir("pgchaos-compact-stale");
  const auto path = dir / "history.jsonl";
  write_varied_history(path);
  const auto side = std::filesystem::path(path.string() + ".compact");
  const auto before = load_run_history(path).attempts.size();
  // A line added to the history after the run: the side file no longer matches, the history is read.
  Event extra = completion(EventType::invoke, 999, 1);
  extra.mono_ns = 1;
  std::ofstream(path, std::ios::app) << to_json_line(extra);
  EXPECT_EQ(load_run_history(path).attempts.size(), before + 1);

  // A side file without its end record (the writer was killed): not used.
  write_varied_history(dir / "killed.jsonl");
  const auto killed_side = dir / "killed.jsonl.compact";
  std::filesystem::resize_file(killed_side, std::filesystem::file_size(killed_side) - 1);
  std::ofstream(dir / "killed.jsonl", std::ios::app) << to_json_line(extra);
  EXPECT_EQ(load_run_history(dir / "killed.jsonl").attempts.size(), before + 1);

  // A side file damaged inside, its end record intact: the history is read instead, with the same result.
  write_varied_history(dir / "damaged.jsonl");
  const auto damaged_side = dir / "damaged.jsonl.compact";
  const auto good = load_run_history(dir / "damaged.jsonl");
  {
    std::fstream f(damaged_side, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(0);
    f.put('?');  // not a record kind
  }
  expect_same_history(load_run_history(dir / "damaged.jsonl"), good);
}

}  // namespace
}  // namespace pgchaos::history
