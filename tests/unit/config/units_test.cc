#include "config/units.h"

#include <gtest/gtest.h>

namespace sheepdog::config {
namespace {

TEST(ConfigUnitsTest, DurationsWithUnits) {
  EXPECT_EQ(parse_duration("250ms"), milliseconds(250));
  EXPECT_EQ(parse_duration("30s"), seconds(30));
  EXPECT_EQ(parse_duration("2m"), minutes(2));
  EXPECT_EQ(parse_duration("1h"), hours(1));
  EXPECT_EQ(parse_duration("1h30m"), minutes(90));
  EXPECT_EQ(parse_duration("1m6.5s"), milliseconds(66500));
  EXPECT_EQ(parse_duration("1.5s"), milliseconds(1500));
  EXPECT_EQ(parse_duration(" 10s "), seconds(10));
}

TEST(ConfigUnitsTest, BareNumbersAreSeconds) {
  EXPECT_EQ(parse_duration("30"), seconds(30));
  EXPECT_EQ(parse_duration("0.25"), milliseconds(250));
  EXPECT_EQ(parse_duration("0"), Duration::zero());
  // Decimal fractions round to whole nanoseconds instead of truncating 0.1 * 1e9 - epsilon.
  EXPECT_EQ(parse_duration("0.1"), milliseconds(100));
}

TEST(ConfigUnitsTest, RejectsMalformedDurations) {
  for (const char* bad :
       {"", "s", "-5s", "5 s", "5sec", "1e3s", "10x", "1m30", "ms", "1..2s", "1000000000h"}) {
    EXPECT_EQ(parse_duration(bad), std::nullopt) << bad;
  }
}

TEST(ConfigUnitsTest, ByteSizes) {
  EXPECT_EQ(parse_byte_size("1024"), 1024u);
  EXPECT_EQ(parse_byte_size("512B"), 512u);
  EXPECT_EQ(parse_byte_size("4MiB"), 4u * 1024 * 1024);
  EXPECT_EQ(parse_byte_size("64KiB"), 64u * 1024);
  EXPECT_EQ(parse_byte_size("1GiB"), 1024u * 1024 * 1024);
  EXPECT_EQ(parse_byte_size("1.5MiB"), 1536u * 1024);
  EXPECT_EQ(parse_byte_size("2MB"), 2'000'000u);
  EXPECT_EQ(parse_byte_size("10 KiB"), 10u * 1024);
}

TEST(ConfigUnitsTest, RejectsMalformedByteSizes) {
  for (const char* bad :
       {"", "MiB", "-1", "4mb", "4Mi", "1.5", "0.3KiB", "4 MiB extra", "99999999999GiB"}) {
    EXPECT_EQ(parse_byte_size(bad), std::nullopt) << bad;
  }
}

TEST(ConfigUnitsTest, FormatsDurationsInTheLargestExactUnit) {
  EXPECT_EQ(format_duration(Duration::zero()), "0s");
  EXPECT_EQ(format_duration(milliseconds(250)), "250ms");
  EXPECT_EQ(format_duration(seconds(30)), "30s");
  EXPECT_EQ(format_duration(seconds(90)), "90s");
  EXPECT_EQ(format_duration(minutes(2)), "2m");
  EXPECT_EQ(format_duration(hours(1)), "1h");
  EXPECT_EQ(format_duration(microseconds(1500)), "1500us");
  EXPECT_EQ(format_duration(nanoseconds(7)), "7ns");
}

TEST(ConfigUnitsTest, FormatsNumbersShortest) {
  EXPECT_EQ(format_number(0.1), "0.1");
  EXPECT_EQ(format_number(2.0), "2");
  EXPECT_EQ(format_number(100), "100");
}

}  // namespace
}  // namespace sheepdog::config
