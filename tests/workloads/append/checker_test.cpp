// The list-append checker on planted histories: each anomaly kind found, named and explained, and the strongest
// level told; serial executions drawn at random stay clean.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "tests/support/temp_directory.h"
#include "workloads/append/append.h"
#include "workloads/append/pg_array.h"  // internal to workloads/append

namespace pgchaos::append {
namespace {

MicroOp append(std::int64_t key, std::int64_t value) { return {MicroOp::Kind::append, key, value, std::nullopt}; }
MicroOp read(std::int64_t key, std::vector<std::int64_t> list) { return {MicroOp::Kind::read, key, 0, std::move(list)}; }
Transaction txn(std::int64_t id, std::vector<MicroOp> ops, Outcome outcome = Outcome::ok, std::int64_t session = -1) {
  return {id, session < 0 ? id : session, outcome, std::move(ops)};  // a session of its own unless told
}

std::vector<std::string> kinds(const AppendCheck& check) {
  std::vector<std::string> found;
  for (const auto& a : check.anomalies) found.push_back(a.kind);
  return found;
}

const Anomaly& only(const AppendCheck& check, const std::string& kind) {
  const auto found = std::find_if(check.anomalies.begin(), check.anomalies.end(), [&](const Anomaly& a) { return a.kind == kind; });
  if (found == check.anomalies.end()) throw std::runtime_error("no " + kind);
  return *found;
}

constexpr std::int64_t x = 1, y = 2;

TEST(AppendChecker, G0IsACycleOfAppendsAlone) {
  // T1 and T2 each append to x and y; x's order puts T1 first, y's T2 first.
  const auto check = check_history({txn(1, {append(x, 1), append(y, 1)}), txn(2, {append(x, 2), append(y, 2)}),
                                    txn(3, {read(x, {1, 2})}), txn(4, {read(y, {2, 1})})});
  EXPECT_EQ(kinds(check), (std::vector<std::string>{"G0"}));
  const auto& g0 = only(check, "G0");
  EXPECT_EQ(g0.cycle.size(), 2u);
  for (const auto& e : g0.cycle) EXPECT_EQ(e.kind, Dependency::ww);
  EXPECT_NE(g0.explanation.find("T1 appended 1 to key 1, and T2 appended the next element after it (ww)"), std::string::npos)
      << g0.explanation;
  EXPECT_NE(g0.explanation.find("no serial order"), std::string::npos);
  EXPECT_EQ(check.strongest_level, "none");
  EXPECT_TRUE(forbidden_at("G0", "read-committed"));
}

TEST(AppendChecker, AnAbortedAppendReadIsG1a) {
  const auto check = check_history({txn(1, {append(x, 1)}, Outcome::fail), txn(2, {read(x, {1})})});
  EXPECT_EQ(kinds(check), (std::vector<std::string>{"G1a"}));
  EXPECT_EQ(only(check, "G1a").explanation, "T2 read key 1 with 1 in it, appended by T1, which was rolled back");
  EXPECT_EQ(check.strongest_level, "read-uncommitted");
  EXPECT_TRUE(forbidden_at("G1a", "read-committed"));
}

TEST(AppendChecker, AnIntermediateStateReadIsG1b) {
  const auto check = check_history({txn(1, {append(x, 1), append(x, 2)}), txn(2, {read(x, {1})}), txn(3, {read(x, {1, 2})})});
  EXPECT_EQ(kinds(check), (std::vector<std::string>{"G1b"}));
  EXPECT_NE(only(check, "G1b").explanation.find("which T1 appended and then appended 2 after it"), std::string::npos);
  // Its own intermediate state is no anomaly: a transaction reads its own appends.
  EXPECT_TRUE(check_history({txn(1, {append(x, 1), read(x, {1}), append(x, 2)}), txn(2, {read(x, {1, 2})})}).anomalies.empty());
}

TEST(AppendChecker, ACycleOfReadsIsG1c) {
  // Each read the other's append: each must come first.
  const auto check = check_history({txn(1, {append(x, 1), read(y, {1})}), txn(2, {append(y, 1), read(x, {1})})});
  EXPECT_EQ(kinds(check), (std::vector<std::string>{"G1c"}));
  for (const auto& e : only(check, "G1c").cycle) EXPECT_EQ(e.kind, Dependency::wr);
  EXPECT_EQ(check.strongest_level, "read-uncommitted");
}

TEST(AppendChecker, ReadSkewIsGSingle) {
  // T2 saw T1's append to y but not its append to x.
  const auto check = check_history({txn(1, {append(x, 1), append(y, 1)}), txn(2, {read(x, {}), read(y, {1})}),
                                    txn(3, {read(x, {1})})});
  EXPECT_EQ(kinds(check), (std::vector<std::string>{"G-single"}));
  const auto& single = only(check, "G-single");
  EXPECT_EQ(std::count_if(single.cycle.begin(), single.cycle.end(), [](const Edge& e) { return e.kind == Dependency::rw; }), 1);
  EXPECT_NE(single.explanation.find("T2 read key 1 without 1, which T1 appended next (rw)"), std::string::npos)
      << single.explanation;
  EXPECT_EQ(check.strongest_level, "read-committed");
  EXPECT_TRUE(forbidden_at("G-single", "repeatable-read"));
  EXPECT_FALSE(forbidden_at("G-single", "read-committed"));
}

TEST(AppendChecker, WriteSkewIsG2Item) {
  const auto check = check_history({txn(1, {read(x, {}), append(y, 1)}), txn(2, {read(y, {}), append(x, 1)}),
                                    txn(3, {read(x, {1}), read(y, {1})})});
  EXPECT_EQ(kinds(check), (std::vector<std::string>{"G2-item"}));
  EXPECT_EQ(check.strongest_level, "repeatable-read");
  EXPECT_FALSE(forbidden_at("G2-item", "repeatable-read"));
  EXPECT_TRUE(forbidden_at("G2-item", "serializable"));
}

TEST(AppendChecker, OrdersNoAppendsGiveAndElementsReadTwice) {
  auto check = check_history({txn(1, {append(x, 1)}), txn(2, {append(x, 2)}), txn(3, {read(x, {1, 2})}), txn(4, {read(x, {2, 1})})});
  EXPECT_EQ(kinds(check), (std::vector<std::string>{"incompatible-order"}));
  EXPECT_NE(only(check, "incompatible-order").explanation.find("neither is a prefix of the other"), std::string::npos);
  EXPECT_EQ(only(check, "incompatible-order").explanation.substr(0, 50), "T4 read key 1 as [2, 1] and T3 read it as [1, 2]: ");
  EXPECT_EQ(check.strongest_level, "none");
  check = check_history({txn(1, {append(x, 1)}), txn(2, {read(x, {1, 1})})});
  EXPECT_EQ(kinds(check), (std::vector<std::string>{"duplicate-elements"}));
  EXPECT_TRUE(forbidden_at("duplicate-elements", "read-committed"));
}

TEST(AppendChecker, ACycleThatNeedsSessionOrderIsAProcessVariant) {
  // T1 read what T2 appended later in the same session: a read from its own future.
  const auto check = check_history({txn(1, {read(x, {1})}, Outcome::ok, 7), txn(2, {append(x, 1)}, Outcome::ok, 7)});
  EXPECT_EQ(kinds(check), (std::vector<std::string>{"G1c-process"}));
  EXPECT_NE(only(check, "G1c-process").explanation.find("T1 came before T2 in their session"), std::string::npos);
  EXPECT_EQ(check.strongest_level, "serializable") << "session order is no isolation level's";
  // Without the shared session there is no cycle.
  EXPECT_TRUE(check_history({txn(1, {read(x, {1})}), txn(2, {append(x, 1)})}).anomalies.empty());
}

TEST(AppendChecker, InDoubtAppendsCountOnlyWhenRead) {
  // An append in doubt that a read saw committed; another in doubt that nobody saw: neither is an anomaly.
  const auto check = check_history({txn(1, {append(x, 1)}, Outcome::unknown), txn(2, {append(x, 2)}, Outcome::unknown),
                                    txn(3, {read(x, {1})})});
  EXPECT_TRUE(check.anomalies.empty());
  EXPECT_EQ(check.strongest_level, "serializable");
}

// Serial executions: each transaction runs alone against one state, in history order, sessions interleaved at random.
std::vector<Transaction> serial_history(std::uint64_t seed, int transactions) {
  std::mt19937_64 random(seed);
  std::map<std::int64_t, std::vector<std::int64_t>> state;
  std::vector<Transaction> history;
  std::int64_t next_value = 1;
  for (int i = 0; i < transactions; ++i) {
    Transaction t;
    t.id = i + 1;
    t.session = static_cast<std::int64_t>(random() % 5);
    t.outcome = random() % 10 == 0 ? Outcome::fail : Outcome::ok;
    auto scratch = state;
    const int ops = 1 + static_cast<int>(random() % 4);
    for (int k = 0; k < ops; ++k) {
      const auto key = static_cast<std::int64_t>(random() % 6);
      if (random() % 2 == 0) {
        t.ops.push_back(append(key, next_value));
        scratch[key].push_back(next_value++);
      } else {
        t.ops.push_back(read(key, scratch[key]));
      }
    }
    if (t.outcome == Outcome::ok) state = std::move(scratch);
    else
      for (auto& op : t.ops) op.read.reset();  // a transaction rolled back returns no reads
    history.push_back(std::move(t));
  }
  return history;
}

TEST(AppendChecker, SerialExecutionsDrawnAtRandomStayClean) {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    const auto check = check_history(serial_history(seed, 300));
    EXPECT_TRUE(check.anomalies.empty()) << "seed " << seed << ": " << check.anomalies.front().kind << ": "
                                         << check.anomalies.front().explanation;
    EXPECT_EQ(check.strongest_level, "serializable");
    EXPECT_GT(check.edges, 300u) << "the dependencies were inferred";
  }
}

// A write skew planted among 300 serial transactions is found, and nothing else is.
TEST(AppendChecker, AWriteSkewPlantedInASerialHistoryIsFoundAlone) {
  auto history = serial_history(3, 300);
  history.push_back(txn(1001, {read(100, {}), append(101, 1)}));
  history.push_back(txn(1002, {read(101, {}), append(100, 1)}));
  history.push_back(txn(1003, {read(100, {1}), read(101, {1})}));
  const auto check = check_history(history);
  EXPECT_EQ(kinds(check), (std::vector<std::string>{"G2-item"}));
  const auto& skew = only(check, "G2-item");
  std::vector<std::int64_t> in_cycle = skew.transactions;
  std::sort(in_cycle.begin(), in_cycle.end());
  EXPECT_EQ(in_cycle, (std::vector<std::int64_t>{1001, 1002}));
}


Transaction timed(Transaction t, std::int64_t invoke_ns, std::int64_t complete_ns) {
  t.invoke_ns = invoke_ns;
  t.complete_ns = complete_ns;
  return t;
}

TEST(AppendChecker, AReadThatMissesAnAcknowledgedAppendIsARealTimeVariant) {
  // T1's append was acknowledged at 10; T2 began at 20 and read x without it (a stale read, as from a replica or a
  // primary that lost it for a while); T3 read it later.
  const auto check = check_history({timed(txn(1, {append(x, 1)}), 0, 10), timed(txn(2, {read(x, {})}), 20, 30),
                                    timed(txn(3, {read(x, {1})}), 40, 50)});
  EXPECT_EQ(kinds(check), (std::vector<std::string>{"G-single-realtime"}));
  const auto& stale = only(check, "G-single-realtime");
  EXPECT_NE(stale.explanation.find("T1 was acknowledged before T2 began (real time)"), std::string::npos) << stale.explanation;
  EXPECT_NE(stale.explanation.find("T2 read key 1 without 1, which T1 appended next (rw)"), std::string::npos);
  EXPECT_EQ(check.strongest_level, "serializable") << "real-time order is no isolation level's";
  EXPECT_FALSE(forbidden_at("G-single-realtime", "serializable"));
  // Overlapping in time, the same reads are a legal order.
  EXPECT_TRUE(check_history({timed(txn(1, {append(x, 1)}), 0, 25), timed(txn(2, {read(x, {})}), 20, 30),
                             timed(txn(3, {read(x, {1})}), 40, 50)})
                  .anomalies.empty());
}

TEST(AppendChecker, SerialExecutionsOneAfterAnotherInRealTimeStayClean) {
  auto history = serial_history(5, 300);
  for (std::size_t i = 0; i < history.size(); ++i)
    history[i] = timed(history[i], static_cast<std::int64_t>(i) * 10, static_cast<std::int64_t>(i) * 10 + 5);
  const auto check = check_history(history);
  EXPECT_TRUE(check.anomalies.empty()) << check.anomalies.front().kind << ": " << check.anomalies.front().explanation;
}

TEST(AppendOps, TheHistorysTextRoundTrips) {
  const std::vector<MicroOp> ops = {append(3, 17), read(3, {4, 9, 17}), read(5, {}),
                                    {MicroOp::Kind::read, 6, 0, std::nullopt}};
  EXPECT_EQ(format_ops(ops), "a3:17 r3=4,9,17 r5= r6");
  const auto parsed = parse_ops("a3:17 r3=4,9,17 r5= r6");
  ASSERT_EQ(parsed.size(), 4u);
  EXPECT_EQ(parsed[0].kind, MicroOp::Kind::append);
  EXPECT_EQ(parsed[0].value, 17);
  EXPECT_EQ(*parsed[1].read, (std::vector<std::int64_t>{4, 9, 17}));
  EXPECT_TRUE(parsed[2].read.has_value());
  EXPECT_TRUE(parsed[2].read->empty());
  EXPECT_FALSE(parsed[3].read.has_value()) << "a read not yet done has no list";
  for (const char* bad : {"x3", "a3", "a3:", "r", "r3=4,x", "a3:17r4"}) EXPECT_THROW(parse_ops(bad), std::invalid_argument) << bad;
}

TEST(AppendOps, ListsAreReadFromPostgresqlsArrayText) {
  EXPECT_TRUE(parse_array("{}").empty());
  EXPECT_EQ(parse_array("{4,9,17}"), (std::vector<std::int64_t>{4, 9, 17}));
  EXPECT_EQ(parse_array("{-1}"), (std::vector<std::int64_t>{-1}));
  for (const char* bad : {"", "4,9", "{4,x}", "{4"}) EXPECT_THROW(parse_array(bad), std::invalid_argument) << bad;
}

TEST(AppendWorkloadDraw, EachOpIsAPureFunctionOfSeedAndOpWithUniqueElementsOnRotatingKeys) {
  const AppendWorkload workload(AppendOptions{.active_keys = 4, .appends_per_key = 10}, 42);
  EXPECT_EQ(format_ops(workload.draw(17)), format_ops(AppendWorkload(AppendOptions{.active_keys = 4, .appends_per_key = 10}, 42).draw(17)));
  std::set<std::int64_t> elements, first_keys, late_keys;
  for (std::int64_t op = 1; op <= 1000; ++op) {
    const auto ops = workload.draw(op);
    ASSERT_GE(ops.size(), 1u);
    ASSERT_LE(ops.size(), 4u);
    for (const auto& m : ops) {
      if (m.kind == MicroOp::Kind::append) {
        EXPECT_TRUE(elements.insert(m.value).second) << "element " << m.value << " twice";
      }
      (op <= 32 ? first_keys : late_keys).insert(m.key);
    }
  }
  EXPECT_LE(first_keys.size(), 4u) << "the first generation's 4 active keys";
  EXPECT_GT(late_keys.size(), 40u) << "keys rotated out: 4 keys × 10 appends a generation";
  EXPECT_THROW(AppendWorkload(AppendOptions{.isolation = "snapshot"}, 1), backend::BackendError);
}

TEST(AppendHistory, OutcomesComeFromAttemptsAndResolutionsReadsFromTheAcknowledgedOne) {
  testing::TempDirectory dir("append-history");
  const auto file = dir.path() / "history.jsonl";
  {
    history::HistoryWriter writer(file);
    auto event = [&](history::EventType type, std::int64_t op, int attempt, std::string txn, std::int64_t at) {
      history::Event e;
      e.type = type;
      e.op = op;
      e.attempt = attempt;
      e.worker = static_cast<int>(op % 2);
      e.txn = std::move(txn);
      e.mono_ns = at;
      writer.append(e);
      return e;
    };
    using history::EventType;
    event(EventType::invoke, 1, 1, "a1:4 r1", 100);
    event(EventType::ok, 1, 1, "a1:4 r1=4", 200);
    event(EventType::invoke, 2, 1, "a1:8", 300);
    event(EventType::unknown, 2, 1, "", 400);
    history::Event resolved;
    resolved.type = EventType::resolve;
    resolved.op = 2;
    resolved.committed = false;
    writer.append(resolved);
    event(EventType::invoke, 2, 2, "a1:8", 500);
    event(EventType::fail, 2, 2, "", 600);
    event(EventType::invoke, 3, 1, "r1 a2:12", 700);
    event(EventType::unknown, 3, 1, "", 800);
    resolved.op = 3;
    resolved.committed = true;
    writer.append(resolved);
    event(EventType::invoke, 4, 1, "a2:16", 900);
    event(EventType::unknown, 4, 1, "", 950);
    event(EventType::invoke, 5, 1, "a3:20", 960);
    event(EventType::fail, 5, 1, "", 970);
    event(EventType::invoke, 6, 1, "a3:24", 980);  // the history ends here: cut short
  }
  const auto run = load_transactions(file);
  ASSERT_EQ(run.transactions.size(), 6u);
  EXPECT_EQ(run.transactions[4].outcome, Outcome::fail) << "its only attempt failed";
  EXPECT_EQ(run.transactions[5].outcome, Outcome::unknown) << "an attempt without completion may have committed";
  const auto& t1 = run.transactions[0];
  EXPECT_EQ(t1.outcome, Outcome::ok);
  EXPECT_EQ(*t1.ops[1].read, (std::vector<std::int64_t>{4}));
  EXPECT_EQ(t1.invoke_ns, 100);
  EXPECT_EQ(t1.complete_ns, 200);
  EXPECT_EQ(run.transactions[1].outcome, Outcome::fail) << "in doubt, resolved not committed, then failed";
  EXPECT_EQ(run.transactions[2].outcome, Outcome::ok) << "resolved committed";
  EXPECT_FALSE(run.transactions[2].ops[0].read.has_value()) << "what it read is not known";
  EXPECT_EQ(run.transactions[2].complete_ns, -1);
  EXPECT_EQ(run.transactions[3].outcome, Outcome::unknown);
  EXPECT_EQ(run.read_ops, 2);
  EXPECT_EQ(run.append_ops, 6);
}


TEST(AppendRunCheck, AnAnomalyThatALostCommitExplainsIsThatLossNotAFailureOfItsOwn) {
  // T1's append of 1 to x was acknowledged and T2 read it; then a failover lost T1, and T3 appended 2: the final x is
  // [2], an order no appends give together with T2's [1].
  RunTransactions run;
  run.transactions = {timed(txn(1, {append(x, 4)}), 0, 10), timed(txn(2, {read(x, {4})}), 20, 30),
                      timed(txn(3, {append(x, 12)}), 40, 50)};
  history::Snapshot primary;
  primary.name = "pgc2";
  primary.role = "primary";
  primary.lists = {{x, {12}}};
  auto judged = [&](bool loss_known) {
    checker::CheckResult r;
    if (loss_known) {
      checker::LostOp lost;
      lost.op = 1;
      lost.cause = checker::LossCause::async_lag;
      r.lost_ops.push_back(lost);
    }
    AppendInvariants(run, "serializable").check_history({primary}, r);
    return r.isolation;
  };
  const auto explained = judged(true);
  ASSERT_EQ(explained.anomalies.size(), 1u);
  EXPECT_EQ(explained.anomalies[0].kind, "incompatible-order");
  EXPECT_TRUE(explained.anomalies[0].forbidden);
  EXPECT_EQ(explained.anomalies[0].follows_from_loss, "async-lag");
  EXPECT_EQ(explained.forbidden(), 0) << "the loss is judged as losses are";
  ASSERT_EQ(explained.lost_appends.size(), 1u);
  EXPECT_EQ(explained.lost_appends[0].op, 1);
  EXPECT_EQ(explained.lost_appends[0].cause, "async-lag");
  // With no lost commit to explain it (the record row of T1 is there), the same history fails twice over.
  const auto unexplained = judged(false);
  EXPECT_EQ(unexplained.forbidden(), 1);
  ASSERT_EQ(unexplained.lost_appends.size(), 1u);
  EXPECT_EQ(unexplained.lost_appends[0].cause, "unexplained");
}


TEST(AppendRunCheck, ReplicaReadsAreStaleByWhatTheyMissedAndAReaderThatGoesBackBreaksMonotonicReads) {
  // T1 appended 4 to x, acknowledged at 1 s; T2 appended 8, acknowledged at 2 s. The final list is [4, 8].
  RunTransactions run;
  run.transactions = {timed(txn(1, {append(x, 4)}), 0, 1'000'000'000), timed(txn(2, {append(x, 8)}), 1'500'000'000, 2'000'000'000)};
  auto replica_read = [](int reader, std::string node, std::int64_t at, std::vector<std::int64_t> list) {
    return ReplicaRead{reader, std::move(node), true, 0, at, at + 1000, {read(x, std::move(list))}};
  };
  run.replica_reads = {
      replica_read(0, "pgc2", 500'000'000, {}),           // before anything was acknowledged: fresh
      replica_read(0, "pgc2", 2'500'000'000, {4, 8}),     // fresh
      replica_read(0, "pgc3", 3'000'000'000, {4}),        // misses 8, acknowledged 1 s before: stale, and shorter
      replica_read(1, "pgc3", 4'000'000'000, {}),         // misses both: 3 s stale
      replica_read(1, "pgc3", 4'500'000'000, {8}),        // no prefix of [4, 8]: diverged
  };
  history::Snapshot primary;
  primary.name = "pgc1";
  primary.role = "primary";
  primary.lists = {{x, {4, 8}}};
  checker::CheckResult r;
  AppendInvariants(run, "serializable", 2000).check_history({primary}, r);
  const auto& rr = r.isolation.replica;
  EXPECT_EQ(rr.reads, 5);
  EXPECT_EQ(rr.stale_reads, 2);
  EXPECT_DOUBLE_EQ(rr.max_s, 3.0);
  EXPECT_EQ(rr.max_elements, 2);
  EXPECT_EQ(rr.over_limit, 1) << "one read staler than 2 s";
  EXPECT_EQ(rr.monotonic_violations, 1) << "reader 0 read x with 1 element after 2";
  EXPECT_EQ(rr.diverged, 1);
  EXPECT_NE(rr.stalest.find("pgc3 (in recovery) at 4.0 s missed 2 acknowledged appends"), std::string::npos) << rr.stalest;
  ASSERT_FALSE(rr.examples.empty());
}


TEST(AppendRunCheck, AWorkerThatDoesNotReadItsOwnAcknowledgedAppendBackBreaksReadYourWrites) {
  // Worker 7 appended 4 to x (acknowledged), then read x empty; the final state holds 4.
  RunTransactions run;
  run.transactions = {timed(txn(1, {append(x, 4)}, Outcome::ok, 7), 0, 10), timed(txn(2, {read(x, {})}, Outcome::ok, 7), 20, 30),
                      timed(txn(3, {read(x, {})}, Outcome::ok, 8), 20, 30)};  // another worker's read: no violation
  history::Snapshot primary;
  primary.name = "pgc1";
  primary.role = "primary";
  primary.lists = {{x, {4}}};
  checker::CheckResult r;
  AppendInvariants(run, "serializable").check_history({primary}, r);
  EXPECT_EQ(r.isolation.read_your_writes_violations, 1);
  ASSERT_EQ(r.isolation.read_your_writes_examples.size(), 1u);
  EXPECT_NE(r.isolation.read_your_writes_examples[0].find("T2 (worker 7) read key 1"), std::string::npos);
  // Had the final state lost 4, it would be a lost append, not this.
  primary.lists = {{x, {}}};
  checker::CheckResult lost;
  AppendInvariants(run, "serializable").check_history({primary}, lost);
  EXPECT_EQ(lost.isolation.read_your_writes_violations, 0);
  EXPECT_EQ(lost.isolation.lost_appends.size(), 1u);
}

}  // namespace
}  // namespace pgchaos::append
