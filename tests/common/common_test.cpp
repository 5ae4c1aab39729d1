// The shared vocabulary: the stop latch and the commit setting.
#include <gtest/gtest.h>

#include <thread>

#include "common/commit_setting.h"
#include "common/duration.h"
#include "common/text.h"
#include "common/stop_source.h"


namespace pgchaos::common {
namespace {

TEST(StopSource, AnEpochsStopFollowsTheSoaksAndNotTheOtherWay) {
  StopSource soak;
  {
    StopSource epoch(&soak);
    epoch.request(StopReason::schedule_done);
    EXPECT_TRUE(epoch.requested());
    EXPECT_FALSE(soak.requested()) << "one epoch's end is not the soak's";
  }
  StopSource next_epoch(&soak);
  EXPECT_FALSE(next_epoch.requested());
  std::thread ctrl_c([&soak] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    soak.request(StopReason::interrupted);
  });
  const auto started = std::chrono::steady_clock::now();
  EXPECT_FALSE(next_epoch.sleep_for(std::chrono::seconds(30))) << "a sleeper in the epoch wakes on the soak's stop";
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(20));
  ctrl_c.join();
  EXPECT_EQ(next_epoch.reason(), StopReason::interrupted) << "with the soak's reason";
}

TEST(StopSource, AfterAnInterruptionEveryWaitFitsTheBudgetAndASecondSkipsThem) {
  using std::chrono::milliseconds;
  StopSource run;
  run.set_stop_budget(std::chrono::seconds(15));
  run.request(StopReason::schedule_done);
  EXPECT_EQ(run.wait_allowed(std::chrono::seconds(120)), std::chrono::seconds(120)) << "a stop that is no interruption";
  EXPECT_FALSE(run.interrupted());
  run.request(StopReason::interrupted);  // Ctrl-C during the final heal: the reason stays, the budget starts
  EXPECT_EQ(run.reason(), StopReason::schedule_done);
  EXPECT_TRUE(run.interrupted());
  const auto allowed = run.wait_allowed(std::chrono::seconds(120));
  EXPECT_LE(allowed, std::chrono::seconds(15));
  EXPECT_GT(allowed, std::chrono::seconds(0));
  EXPECT_EQ(run.wait_allowed(milliseconds(200)), milliseconds(200)) << "a shorter wait is not lengthened";
  StopSource epoch(&run);
  EXPECT_LE(epoch.wait_allowed(std::chrono::seconds(120)), std::chrono::seconds(15)) << "the parent's budget binds";
  run.hurry();
  EXPECT_TRUE(epoch.hurried());
  EXPECT_EQ(run.wait_allowed(std::chrono::seconds(120)), milliseconds(0));
  EXPECT_EQ(epoch.wait_allowed(std::chrono::seconds(120)), milliseconds(0));

  StopSource spent;
  spent.set_stop_budget(milliseconds(0));
  spent.request(StopReason::interrupted);
  EXPECT_EQ(spent.wait_allowed(std::chrono::seconds(1)), milliseconds(0)) << "a budget of nothing: no waits at all";
}

TEST(CommitSetting, ModesLevelsAndWhatEachPromises) {
  std::string why;
  const auto strict = parse_commit_setting("sync-strict", why);
  ASSERT_TRUE(strict);
  EXPECT_EQ(strict->mode, CommitMode::sync_strict);
  EXPECT_EQ(strict->level, "remote_apply") << "the sync modes' default level";
  EXPECT_EQ(strict->text(), "sync-strict") << "a default level is not spelled out";
  EXPECT_TRUE(strict->promises_no_loss());
  const auto write = parse_commit_setting("sync:remote_write", why);
  ASSERT_TRUE(write);
  EXPECT_EQ(write->text(), "sync:remote_write");
  EXPECT_TRUE(write->promises_no_loss());
  const auto local = parse_commit_setting("sync:local", why);
  ASSERT_TRUE(local);
  EXPECT_FALSE(local->promises_no_loss()) << "a commit that does not wait for the standby is promised nothing";
  const auto off = parse_commit_setting("async:off", why);
  ASSERT_TRUE(off);
  EXPECT_EQ(off->text(), "async:off");
  EXPECT_FALSE(off->promises_no_loss());
  EXPECT_EQ(parse_commit_setting("async", why)->level, "local");
  EXPECT_FALSE(parse_commit_setting("sync:maybe", why));
  EXPECT_NE(why.find("remote_write"), std::string::npos);
  EXPECT_FALSE(parse_commit_setting("strict", why));
  EXPECT_NE(why.find("sync-strict"), std::string::npos);
  EXPECT_FALSE(parse_commit_setting("single", why)) << "single is what the checker detects, never set";
  EXPECT_EQ(parse_commit_mode("sync-strict"), CommitMode::sync_strict);
  EXPECT_EQ((CommitSetting{CommitMode::single, "on"}).text(), "single") << "one server waits for no standby";
  EXPECT_FALSE((CommitSetting{CommitMode::single, "off"}).promises_no_loss()) << "off acknowledges before the flush";
  EXPECT_EQ((CommitSetting{CommitMode::single, "off"}).text(), "single:off");
  EXPECT_EQ((CommitSetting{CommitMode::async, "on"}).text(), "async") << "no standby named: on is local";
}

TEST(Duration, ARangeIsOneDurationOrTwoInOrder) {
  std::string why;
  const auto one = parse_duration_range("250ms", why);
  ASSERT_TRUE(one.has_value());
  EXPECT_EQ(one->min, std::chrono::milliseconds(250));
  EXPECT_EQ(one->max, std::chrono::milliseconds(250));
  const auto two = parse_duration_range("100ms-2s", why);
  ASSERT_TRUE(two.has_value());
  EXPECT_EQ(two->max, std::chrono::seconds(2));
  EXPECT_FALSE(parse_duration_range("2s-1s", why).has_value());
  EXPECT_NE(why.find("backwards"), std::string::npos) << why;
  EXPECT_FALSE(parse_duration_range("1s-soon", why).has_value());
  EXPECT_NE(why.find("'soon' is not a duration"), std::string::npos) << why;
}

TEST(Text, UtcTimesCarryMilliseconds) {
  EXPECT_EQ(utc_millis(1796599210107949), "2026-12-06T23:20:10.107Z") << "microseconds are cut, not rounded";
  EXPECT_EQ(utc_millis(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(utc_millis(-1000), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(utc_millis_now().size(), std::string("2026-12-06T23:20:10.107Z").size());
}

}  // namespace
}  // namespace pgchaos::common
