#include "llm/string_formats.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace sheepdog::llm::detail {
namespace {

struct Case {
  std::string_view format;
  std::string value;
  bool valid;
};

void expect_all(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    EXPECT_EQ(format_matches(c.format, c.value), c.valid) << c.format << " '" << c.value << "'";
  }
}

TEST(StringFormatsTest, DateChecksTheCalendar) {
  expect_all({
      {"date", "2024-02-29", true},
      {"date", "2000-02-29", true},   // divisible by 400: leap
      {"date", "1900-02-29", false},  // divisible by 100 only: not leap
      {"date", "2023-02-29", false},
      {"date", "2024-04-30", true},
      {"date", "2024-04-31", false},
      {"date", "2024-12-31", true},
      {"date", "2024-13-01", false},
      {"date", "2024-00-10", false},
      {"date", "2024-01-00", false},
      {"date", "2024-1-01", false},
      {"date", "2024/01/01", false},
      {"date", "2024-01-015", false},
  });
}

TEST(StringFormatsTest, TimeNeedsAnOffset) {
  expect_all({
      {"time", "09:30:00Z", true},
      {"time", "09:30:00z", true},
      {"time", "23:59:60Z", true},  // a leap second
      {"time", "09:30:00.123+05:30", true},
      {"time", "09:30:00-00:00", true},
      {"time", "09:30:00", false},
      {"time", "09:30:00.Z", false},
      {"time", "24:00:00Z", false},
      {"time", "09:60:00Z", false},
      {"time", "09:30:61Z", false},
      {"time", "09:30:00+5:30", false},
      {"time", "09:30:00+24:00", false},
      {"time", "09:30:00+05:60", false},
      {"time", "9:30:00Z", false},
  });
}

TEST(StringFormatsTest, DateTimeIsDateTTime) {
  expect_all({
      {"date-time", "2024-01-15T09:30:00Z", true},
      {"date-time", "2024-01-15t09:30:00.5+01:00", true},
      {"date-time", "2024-01-15 09:30:00Z", false},
      {"date-time", "2024-01-15T09:30:00", false},
      {"date-time", "2024-02-30T09:30:00Z", false},
      {"date-time", "2024-01-15", false},
  });
}

TEST(StringFormatsTest, HostnameLabelsAndLength) {
  const std::string label63(63, 'a');
  const std::string label61(61, 'b');
  expect_all({
      {"hostname", "a", true},
      {"hostname", "xn--bcher-kva.example", true},
      {"hostname", "a-1.b2.c", true},
      {"hostname", label63 + ".com", true},
      {"hostname", label63 + "a.com", false},
      {"hostname", label63 + "." + label63 + "." + label63 + "." + label61, true},  // 253 bytes
      {"hostname", label63 + "." + label63 + "." + label63 + "." + label61 + "b", false},
      {"hostname", "", false},
      {"hostname", "a..b", false},
      {"hostname", "example.com.", false},
      {"hostname", "-a.com", false},
      {"hostname", "a-.com", false},
      {"hostname", "a_b.com", false},
  });
}

TEST(StringFormatsTest, EmailDotAtomOnly) {
  const std::string local64(64, 'x');
  expect_all({
      {"email", "first.last+tag@example.co", true},
      {"email", "o'brien!#$%&*=?^_`{|}~-/@example.com", true},
      {"email", "a@[192.168.0.1]", true},
      {"email", local64 + "@example.com", true},
      {"email", local64 + "x@example.com", false},
      {"email", "a@[::1]", false},
      {"email", "\"quoted\"@example.com", false},
      {"email", ".a@example.com", false},
      {"email", "a.@example.com", false},
      {"email", "a..b@example.com", false},
      {"email", "a@b@example.com", false},
      {"email", "@example.com", false},
      {"email", "a@", false},
      {"email", "a@-bad.com", false},
  });
}

TEST(StringFormatsTest, AddressesUrisAndUuids) {
  expect_all({
      {"ipv4", "0.0.0.0", true},
      {"ipv4", "255.255.255.255", true},
      {"ipv4", "256.0.0.1", false},
      {"ipv4", "1.2.3", false},
      {"ipv4", "1.2.3.4.5", false},
      {"ipv6", "2001:db8::1", true},
      {"ipv6", "::ffff:192.0.2.1", true},
      {"ipv6", "1::2::3", false},
      {"ipv6", "[::1]", false},
      {"uri", "urn:isbn:0451450523", true},
      {"uri", "mailto:a@example.com", true},
      {"uri", "/relative/path", false},
      {"uri", "http://exa mple.com", false},
      {"uri-reference", "/relative/path?q=1#f", true},
      {"uri-reference", "https://example.com/a", true},
      {"uri-reference", "a b", false},
      {"uuid", "123E4567-E89B-12D3-A456-426614174000", true},
      {"uuid", "123e4567-e89b-12d3-a456-42661417400g", false},
      {"uuid", "123e4567-e89b-12d3-a4564-26614174000", false},
      {"uuid", "123e4567-e89b-12d3-a456-4266141740000", false},
  });
}

TEST(StringFormatsTest, UnknownFormatsAlwaysMatch) {
  expect_all({
      {"color", "not a color", true},
      {"", "anything", true},
      {"Date", "not a date", true},  // format names are case-sensitive
  });
}

TEST(StringFormatsTest, HintsForTheFormatsWithAnExample) {
  EXPECT_EQ(format_hint("date"), " (YYYY-MM-DD, e.g. 2024-01-15)");
  EXPECT_EQ(format_hint("time"), " (HH:MM:SS with an offset, e.g. 09:30:00Z)");
  EXPECT_EQ(format_hint("date-time"), " (RFC 3339 with an offset, e.g. 2024-01-15T09:30:00Z)");
  EXPECT_EQ(format_hint("uri"), " (an absolute URI with a scheme, e.g. https://example.com/a)");
  EXPECT_EQ(format_hint("uuid"), " (e.g. 123e4567-e89b-12d3-a456-426614174000)");
  EXPECT_EQ(format_hint("email"), "");
  EXPECT_EQ(format_hint("ipv4"), "");
  EXPECT_EQ(format_hint("color"), "");
}

}  // namespace
}  // namespace sheepdog::llm::detail
