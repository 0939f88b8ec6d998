#include "telemetry/log.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <limits>
#include <string>

namespace sheepdog {
namespace {

// 2026-11-24T12:34:56.789Z
const WallTime kWallStart = WallTime{} + std::chrono::milliseconds(1795523696789LL);

class LogTest : public ::testing::Test {
 protected:
  ManualClock clock_{TimePoint{}, kWallStart};
  LogCapture capture_;
  StructuredLogger logger_{capture_.logger(), clock_, LogLevel::kInfo};
};

TEST_F(LogTest, WritesOneJsonObjectPerLineWithTheGivenFields) {
  logger_.log(LogLevel::kInfo, "attempt",
              LogFields()
                  .str("trace_id", "7f3a")
                  .str("deployment", "openai-east")
                  .num("attempt", 2)
                  .num("status", 429u)
                  .ms("latency_ms", milliseconds(12) + microseconds(500))
                  .kind("error", ErrorKind::kRateLimited)
                  .flag("streamed", false)
                  .num("cost_usd", 0.25));
  const std::vector<std::string> lines = capture_.lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0],
            "{\"ts\":\"2026-11-24T12:34:56.789Z\",\"level\":\"info\",\"event\":\"attempt\","
            "\"trace_id\":\"7f3a\",\"deployment\":\"openai-east\",\"attempt\":2,\"status\":429,"
            "\"latency_ms\":12.5,\"error\":\"rate_limited\",\"streamed\":false,"
            "\"cost_usd\":0.25}");
  // And it is valid JSON with those values.
  const boost::json::object parsed = boost::json::parse(lines[0]).as_object();
  EXPECT_EQ(parsed.at("event").as_string(), "attempt");
  EXPECT_EQ(parsed.at("attempt").as_int64(), 2);
  EXPECT_EQ(parsed.at("latency_ms").as_double(), 12.5);
  EXPECT_EQ(parsed.at("streamed").as_bool(), false);
}

TEST_F(LogTest, TimestampFollowsTheClock) {
  clock_.advance(milliseconds(1211));
  logger_.log(LogLevel::kWarn, "breaker_transition");
  ASSERT_EQ(capture_.lines().size(), 1u);
  EXPECT_EQ(capture_.lines()[0],
            "{\"ts\":\"2026-11-24T12:34:58.000Z\",\"level\":\"warn\","
            "\"event\":\"breaker_transition\"}");
}

TEST_F(LogTest, LinesBelowTheLevelAreNotWritten) {
  EXPECT_FALSE(logger_.enabled(LogLevel::kDebug));
  EXPECT_TRUE(logger_.enabled(LogLevel::kError));
  logger_.log(LogLevel::kDebug, "noise");
  EXPECT_TRUE(capture_.lines().empty());
  logger_.set_level(LogLevel::kDebug);
  EXPECT_EQ(logger_.level(), LogLevel::kDebug);
  logger_.log(LogLevel::kDebug, "noise");
  EXPECT_EQ(capture_.lines().size(), 1u);
  logger_.set_level(LogLevel::kOff);
  logger_.log(LogLevel::kError, "dropped");
  EXPECT_FALSE(logger_.enabled(LogLevel::kOff));
  EXPECT_EQ(capture_.lines().size(), 1u);
}

TEST_F(LogTest, SecretAndContentFieldsAreRedacted) {
  const LogFields fields = LogFields()
                               .str("api_key", "abc123")
                               .str("authorization", "xyz")
                               .str("virtual_key", "vk-1")
                               .str("error_message", "your prompt was ...")
                               .str("content", "hello")
                               .num("token", 5)
                               .str("key_id", "key-42")            // an id: kept
                               .num("prompt_tokens", 17)           // a count: kept
                               .str("trace_id", "sk-live-123456")  // looks like a key
                               .str("peer", "Bearer abc");
  const boost::json::object& f = fields.fields();
  EXPECT_EQ(f.at("api_key").as_string(), "[redacted]");
  EXPECT_EQ(f.at("authorization").as_string(), "[redacted]");
  EXPECT_EQ(f.at("virtual_key").as_string(), "[redacted]");
  EXPECT_EQ(f.at("error_message").as_string(), "[redacted]");
  EXPECT_EQ(f.at("content").as_string(), "[redacted]");
  EXPECT_EQ(f.at("token").as_string(), "[redacted]");
  EXPECT_EQ(f.at("key_id").as_string(), "key-42");
  EXPECT_EQ(f.at("prompt_tokens").as_int64(), 17);
  EXPECT_EQ(f.at("trace_id").as_string(), "[redacted]");
  EXPECT_EQ(f.at("peer").as_string(), "[redacted]");
}

TEST_F(LogTest, KeyFingerprintsAreKeptButKeysThatLookLikeThemAreNot) {
  const LogFields fields = LogFields()
                               .str("key_id", "sk-o...aaaa")  // core/key_fingerprint.h
                               .str("other", "sk-proj-abcdefghijklmnop")
                               .str("dots", "sk-o...aaaa-but-longer")
                               .str("bearer", "Bearer sk-o...aaaa");
  const boost::json::object& f = fields.fields();
  EXPECT_EQ(f.at("key_id").as_string(), "sk-o...aaaa");
  EXPECT_EQ(f.at("other").as_string(), "[redacted]");
  EXPECT_EQ(f.at("dots").as_string(), "[redacted]");
  EXPECT_EQ(f.at("bearer").as_string(), "[redacted]");
}

TEST_F(LogTest, InvalidAndReservedNamesAreDropped) {
  const LogFields fields = LogFields()
                               .str("Trace-Id", "x")
                               .str("", "x")
                               .str("ts", "forged")
                               .str("level", "forged")
                               .str("event", "forged")
                               .str("ok_name", "kept");
  ASSERT_EQ(fields.fields().size(), 1u);
  EXPECT_EQ(fields.fields().at("ok_name").as_string(), "kept");
  logger_.log(LogLevel::kInfo, "Bad Event", fields);
  EXPECT_EQ(capture_.lines()[0],
            "{\"ts\":\"2026-11-24T12:34:56.789Z\",\"level\":\"info\",\"event\":\"invalid_event\","
            "\"ok_name\":\"kept\"}");
}

TEST_F(LogTest, LongStringsAreTruncatedOnACodePointBoundary) {
  // 255 ASCII bytes then a 2-byte character: cutting at 256 would split it.
  const std::string value = std::string(255, 'a') + "\xC3\xA9" + "tail";
  const LogFields fields = LogFields().str("model", value);
  EXPECT_EQ(fields.fields().at("model").as_string(), std::string(255, 'a'));
  const LogFields exact = LogFields().str("model", std::string(kMaxLogStringBytes, 'b'));
  EXPECT_EQ(exact.fields().at("model").as_string().size(), kMaxLogStringBytes);
}

TEST_F(LogTest, EscapesStringsAndWritesNullForNonFiniteNumbers) {
  logger_.log(LogLevel::kError, "x",
              LogFields()
                  .str("model", "a\"b\\c\nd")
                  .num("ratio", std::numeric_limits<double>::quiet_NaN())
                  .num("delta", -3));
  const std::string line = capture_.lines().at(0);
  EXPECT_NE(line.find("\"model\":\"a\\\"b\\\\c\\nd\""), std::string::npos) << line;
  const boost::json::object parsed = boost::json::parse(line).as_object();
  EXPECT_EQ(parsed.at("model").as_string(), "a\"b\\c\nd");
  EXPECT_TRUE(parsed.at("ratio").is_null());
  EXPECT_EQ(parsed.at("delta").as_int64(), -3);
}

TEST_F(LogTest, LaterValueForTheSameFieldWins) {
  const LogFields fields = LogFields().num("attempt", 1).num("attempt", 2);
  EXPECT_EQ(fields.fields().size(), 1u);
  EXPECT_EQ(fields.fields().at("attempt").as_int64(), 2);
}

TEST(LogLevelTest, ParsesAndNamesLevels) {
  EXPECT_EQ(parse_log_level("debug"), LogLevel::kDebug);
  EXPECT_EQ(parse_log_level("warn"), LogLevel::kWarn);
  EXPECT_EQ(parse_log_level("warning"), LogLevel::kWarn);
  EXPECT_EQ(parse_log_level("off"), LogLevel::kOff);
  EXPECT_EQ(parse_log_level("INFO"), std::nullopt);
  EXPECT_EQ(to_string(LogLevel::kError), "error");
}

TEST(LogTimeTest, FormatsRfc3339WithMilliseconds) {
  EXPECT_EQ(format_rfc3339_ms(WallTime{}), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_rfc3339_ms(WallTime{} + std::chrono::milliseconds(-1)),
            "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(format_rfc3339_ms(kWallStart + std::chrono::microseconds(999)),
            "2026-11-24T12:34:56.789Z");  // truncated, not rounded
}

TEST(LogMakeTest, AsyncLoggerWritesEveryLineByDestruction) {
  ManualClock clock;
  LogCapture capture;
  auto logger = StructuredLogger::make(
      LogOptions{LogLevel::kInfo, LogOptions::Target::kStderr, /*async=*/true, 64}, clock,
      capture.sink());
  for (int i = 0; i < 10; ++i) {
    logger->log(LogLevel::kInfo, "async_line", LogFields().num("n", i));
  }
  logger->log(LogLevel::kDebug, "below_level");
  logger.reset();  // drains the queue, joins the worker
  const std::vector<std::string> lines = capture.lines();
  ASSERT_EQ(lines.size(), 10u);
  EXPECT_EQ(lines[9],
            "{\"ts\":\"1970-01-01T00:00:00.000Z\",\"level\":\"info\",\"event\":\"async_line\","
            "\"n\":9}");
}

TEST(LogMakeTest, SyncLoggerOnASinkWritesImmediately) {
  ManualClock clock;
  LogCapture capture;
  auto logger = StructuredLogger::make(LogOptions{LogLevel::kWarn}, clock, capture.sink());
  logger->log(LogLevel::kInfo, "hidden");
  logger->log(LogLevel::kError, "shown");
  ASSERT_EQ(capture.lines().size(), 1u);
  EXPECT_NE(capture.lines()[0].find("\"event\":\"shown\""), std::string::npos);
}

}  // namespace
}  // namespace sheepdog
