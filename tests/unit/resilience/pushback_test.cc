#include "resilience/pushback.h"

#include <gtest/gtest.h>

namespace sheepdog {
namespace {

using std::chrono::sys_days;
using namespace std::chrono_literals;

// Sun, 06 Nov 1994 08:49:07 GMT: 30 s before RFC 9110's example date.
const WallTime kNow = sys_days{1994y / 11 / 6} + 8h + 49min + 7s;

TEST(ParseRetryAfterTest, DeltaSeconds) {
  EXPECT_EQ(parse_retry_after("120", kNow), seconds(120));
  EXPECT_EQ(parse_retry_after("0", kNow), Duration::zero());
  EXPECT_EQ(parse_retry_after(" 7 ", kNow), seconds(7));
  EXPECT_EQ(parse_retry_after("1.5", kNow), milliseconds(1500));  // lenient, like the SDKs
}

TEST(ParseRetryAfterTest, GarbageAndNegativesAreIgnored) {
  EXPECT_EQ(parse_retry_after("", kNow), std::nullopt);
  EXPECT_EQ(parse_retry_after("  ", kNow), std::nullopt);
  EXPECT_EQ(parse_retry_after("-5", kNow), std::nullopt);
  EXPECT_EQ(parse_retry_after("+5", kNow), std::nullopt);
  EXPECT_EQ(parse_retry_after("abc", kNow), std::nullopt);
  EXPECT_EQ(parse_retry_after("12abc", kNow), std::nullopt);
  EXPECT_EQ(parse_retry_after("1 2", kNow), std::nullopt);
  EXPECT_EQ(parse_retry_after("1e3", kNow), std::nullopt);
  EXPECT_EQ(parse_retry_after(".", kNow), std::nullopt);
}

TEST(ParseRetryAfterTest, HugeValuesClamp) {
  EXPECT_EQ(parse_retry_after("99999999999999999999999999", kNow), kMaxPushback);
  EXPECT_EQ(parse_retry_after(std::string(400, '9'), kNow), kMaxPushback);  // inf as a double
  EXPECT_EQ(parse_retry_after("31536000", kNow), kMaxPushback);             // exactly a year
  EXPECT_EQ(parse_retry_after("31535999", kNow), kMaxPushback - seconds(1));
}

TEST(ParseRetryAfterTest, HttpDateInAllThreeFormats) {
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", kNow), seconds(30));
  EXPECT_EQ(parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", kNow), seconds(30));
  EXPECT_EQ(parse_retry_after("Sun Nov  6 08:49:37 1994", kNow), seconds(30));
}

TEST(ParseRetryAfterTest, HttpDateRelativeToSubSecondNow) {
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", kNow + 250ms), 29750ms);
}

TEST(ParseRetryAfterTest, PastDateMeansZero) {
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:00 GMT", kNow), Duration::zero());
  EXPECT_EQ(parse_retry_after("Thu, 01 Jan 1970 00:00:00 GMT", kNow), Duration::zero());
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:07 GMT", kNow + 1ms), Duration::zero());
}

TEST(ParseRetryAfterTest, FarFutureDateClamps) {
  EXPECT_EQ(parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", kNow), kMaxPushback);
  EXPECT_EQ(parse_retry_after("Mon, 06 Nov 1995 08:49:07 GMT", kNow), kMaxPushback);
}

TEST(ParseHttpDateTest, ExactValues) {
  const WallTime expected = WallTime{} + seconds(784111777);  // RFC 9110's example
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), expected);
  EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), expected);
  EXPECT_EQ(parse_http_date("Sun Nov  6 08:49:37 1994"), expected);
  EXPECT_EQ(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), WallTime{});
  EXPECT_EQ(parse_http_date("Sat, 29 Feb 2020 23:59:59 GMT"),
            WallTime{sys_days{2020y / 2 / 29} + 23h + 59min + 59s});
  EXPECT_EQ(parse_http_date("Wed Feb 12 10:00:00 2025"), WallTime{sys_days{2025y / 2 / 12} + 10h});
  // A leap second folds into the next minute, as in POSIX time.
  EXPECT_EQ(parse_http_date("Wed, 31 Dec 2008 23:59:60 GMT"), WallTime{sys_days{2009y / 1 / 1}});
}

TEST(ParseHttpDateTest, Rfc850TwoDigitYearPivot) {
  EXPECT_EQ(parse_http_date("Thursday, 01-Jan-70 00:00:00 GMT"), WallTime{});
  EXPECT_EQ(parse_http_date("Saturday, 01-Jan-00 00:00:00 GMT"), WallTime{sys_days{2000y / 1 / 1}});
  EXPECT_EQ(parse_http_date("Friday, 31-Dec-69 12:00:00 GMT"),
            WallTime{sys_days{2069y / 12 / 31} + 12h});
}

TEST(ParseHttpDateTest, NamesAreCaseInsensitiveAndSpacesTrimmed) {
  const WallTime expected = WallTime{} + seconds(784111777);
  EXPECT_EQ(parse_http_date("  sun, 06 NOV 1994 08:49:37 gmt "), expected);
}

TEST(ParseHttpDateTest, RejectsMalformedDates) {
  const char* bad[] = {
      "",
      "Sun, 06 Nov 1994 08:49:37",         // no zone
      "Sun, 06 Nov 1994 08:49:37 PST",     // not GMT
      "Sun, 06 Nov 1994 08:49:37 GMT x",   // trailing text
      "Sun, 6 Nov 1994 08:49:37 GMT",      // one-digit day
      "Sun, 06 Foo 1994 08:49:37 GMT",     // month
      "Sum, 06 Nov 1994 08:49:37 GMT",     // day name
      "Sunday, 06 Nov 1994 08:49:37 GMT",  // long day name with IMF layout
      "Sun, 06-Nov-94 08:49:37 GMT",       // short day name with RFC 850 layout
      "Sun, 31 Feb 1994 08:49:37 GMT",     // no such date
      "Sun, 06 Nov 1994 24:00:00 GMT",     // hour
      "Sun, 06 Nov 1994 08:60:00 GMT",     // minute
      "Sun, 06 Nov 1994 08:49:61 GMT",     // second
      "Sun, 06 Nov 94 08:49:37 GMT",       // two-digit year in IMF
      "Sun, 06 Nov 1994 8:49:37 GMT",      // one-digit hour
      "Sun Nov 6 08:49:37 1994",           // asctime needs the day padded to two
      "Sun Nov  6 08:49:37",               // asctime without year
      "Sunday Nov  6 08:49:37 1994",       // long name in asctime
      "06 Nov 1994 08:49:37 GMT",          // no day name
      "Sun,06 Nov 1994 08:49:37 GMT",      // missing space
  };
  for (const char* value : bad) {
    EXPECT_EQ(parse_http_date(value), std::nullopt) << value;
    EXPECT_EQ(parse_retry_after(value, kNow), std::nullopt) << value;
  }
}

TEST(ParseHttpDateTest, OutOfRangeSaturates) {
  EXPECT_EQ(parse_http_date("Fri, 31 Dec 9999 23:59:59 GMT"), WallTime::max());
  EXPECT_EQ(parse_http_date("Sat, 01 Jan 0000 00:00:00 GMT"), WallTime::min());
}

TEST(ParseRetryAfterMsTest, Values) {
  EXPECT_EQ(parse_retry_after_ms("1500"), milliseconds(1500));
  EXPECT_EQ(parse_retry_after_ms("0"), Duration::zero());
  EXPECT_EQ(parse_retry_after_ms("1.5"), microseconds(1500));
  EXPECT_EQ(parse_retry_after_ms("-1"), std::nullopt);
  EXPECT_EQ(parse_retry_after_ms("soon"), std::nullopt);
  EXPECT_EQ(parse_retry_after_ms(""), std::nullopt);
  EXPECT_EQ(parse_retry_after_ms("1e99"), std::nullopt);
  EXPECT_EQ(parse_retry_after_ms("99999999999999999999"), kMaxPushback);
}

TEST(ParseGoDurationTest, OpenAiResetFormats) {
  EXPECT_EQ(parse_go_duration("1m6.5s"), milliseconds(66500));
  EXPECT_EQ(parse_go_duration("20ms"), milliseconds(20));
  EXPECT_EQ(parse_go_duration("2h0m0s"), hours(2));
  EXPECT_EQ(parse_go_duration("8.64s"), milliseconds(8640));
  EXPECT_EQ(parse_go_duration("6m0s"), minutes(6));
  EXPECT_EQ(parse_go_duration("0s"), Duration::zero());
  EXPECT_EQ(parse_go_duration("0"), Duration::zero());
}

TEST(ParseGoDurationTest, AllUnits) {
  EXPECT_EQ(parse_go_duration("1.5h"), minutes(90));
  EXPECT_EQ(parse_go_duration("3m"), minutes(3));
  EXPECT_EQ(parse_go_duration("250ms"), milliseconds(250));
  EXPECT_EQ(parse_go_duration("300us"), microseconds(300));
  EXPECT_EQ(parse_go_duration("300\xC2\xB5s"), microseconds(300));
  EXPECT_EQ(parse_go_duration("300\xCE\xBCs"), microseconds(300));
  EXPECT_EQ(parse_go_duration("10ns"), nanoseconds(10));
  EXPECT_EQ(
      parse_go_duration("1h2m3s4ms5us6ns"),
      hours(1) + minutes(2) + seconds(3) + milliseconds(4) + microseconds(5) + nanoseconds(6));
  EXPECT_EQ(parse_go_duration(".5s"), milliseconds(500));
  EXPECT_EQ(parse_go_duration("+2s"), seconds(2));
  EXPECT_EQ(parse_go_duration(" 2s "), seconds(2));
}

TEST(ParseGoDurationTest, GarbageAndNegativesAreIgnored) {
  const char* bad[] = {"",   "-1s",   "-0",  "5",    "1x",   "m",    "1m1",
                       "s1", "1..5s", "1 s", "1.s.", "1e3s", "++1s", "abc"};
  for (const char* value : bad) {
    EXPECT_EQ(parse_go_duration(value), std::nullopt) << value;
  }
}

TEST(ParseGoDurationTest, HugeValuesClamp) {
  EXPECT_EQ(parse_go_duration("99999999h"), kMaxPushback);
  EXPECT_EQ(parse_go_duration("9999999999999999999999999999s"), kMaxPushback);
  EXPECT_EQ(parse_go_duration("8760h"), kMaxPushback);
  EXPECT_EQ(parse_go_duration("8759h"), hours(8759));
}

TEST(ParsePushbackTest, NoneOrAllInvalid) {
  EXPECT_EQ(parse_pushback(PushbackHeaders{}, kNow), std::nullopt);
  PushbackHeaders headers;
  headers.retry_after = "later";
  headers.retry_after_ms = "-3";
  headers.ratelimit_reset_requests = "soon";
  headers.ratelimit_reset_tokens = "1x";
  EXPECT_EQ(parse_pushback(headers, kNow), std::nullopt);
}

TEST(ParsePushbackTest, RetryAfterMsWinsOverRetryAfter) {
  PushbackHeaders headers;
  headers.retry_after = "120";
  headers.retry_after_ms = "1500";
  headers.ratelimit_reset_requests = "1m";
  EXPECT_EQ(parse_pushback(headers, kNow), milliseconds(1500));
}

TEST(ParsePushbackTest, InvalidRetryAfterMsFallsThroughToRetryAfter) {
  PushbackHeaders headers;
  headers.retry_after = "Sun, 06 Nov 1994 08:49:37 GMT";
  headers.retry_after_ms = "garbage";
  EXPECT_EQ(parse_pushback(headers, kNow), seconds(30));
}

TEST(ParsePushbackTest, RetryAfterWinsOverResetHeaders) {
  PushbackHeaders headers;
  headers.retry_after = "2";
  headers.ratelimit_reset_requests = "1m";
  headers.ratelimit_reset_tokens = "30s";
  EXPECT_EQ(parse_pushback(headers, kNow), seconds(2));
  // Even a past date (0) wins: the upstream said "now".
  headers.retry_after = "Thu, 01 Jan 1970 00:00:00 GMT";
  EXPECT_EQ(parse_pushback(headers, kNow), Duration::zero());
}

TEST(ParsePushbackTest, LargerResetHeaderWins) {
  PushbackHeaders headers;
  headers.ratelimit_reset_requests = "1m6.5s";
  headers.ratelimit_reset_tokens = "20ms";
  EXPECT_EQ(parse_pushback(headers, kNow), milliseconds(66500));
  headers.ratelimit_reset_requests = "1s";
  headers.ratelimit_reset_tokens = "2s";
  EXPECT_EQ(parse_pushback(headers, kNow), seconds(2));
}

TEST(ParsePushbackTest, SingleResetHeader) {
  PushbackHeaders headers;
  headers.ratelimit_reset_tokens = "20ms";
  EXPECT_EQ(parse_pushback(headers, kNow), milliseconds(20));
  headers.ratelimit_reset_requests = "bogus";
  EXPECT_EQ(parse_pushback(headers, kNow), milliseconds(20));
  headers = PushbackHeaders{};
  headers.ratelimit_reset_requests = "3s";
  EXPECT_EQ(parse_pushback(headers, kNow), seconds(3));
}

}  // namespace
}  // namespace sheepdog
