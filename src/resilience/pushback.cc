#include "resilience/pushback.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>

namespace sheepdog {
namespace {

constexpr double kNsPerSecond = 1e9;
constexpr double kNsPerMs = 1e6;

std::string_view trim(std::string_view s) {
  const auto is_space = [](char c) { return c == ' ' || c == '\t'; };
  while (!s.empty() && is_space(s.front())) {
    s.remove_prefix(1);
  }
  while (!s.empty() && is_space(s.back())) {
    s.remove_suffix(1);
  }
  return s;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool equals_ci(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

// An unsigned decimal "12", "1.5", ".5" or "3." at the front of `s`; consumes it. Accumulating
// in double makes an absurdly long number large (or inf), never undefined; the caller clamps.
std::optional<double> take_decimal(std::string_view& s) {
  size_t i = 0;
  double value = 0;
  bool any_digit = false;
  for (; i < s.size() && is_digit(s[i]); ++i) {
    value = value * 10 + (s[i] - '0');
    any_digit = true;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    // One division at the end keeps "6.5" and "0.25" exact; digits past the 15th cannot change
    // a double anyway.
    double fraction = 0;
    double scale = 1;
    for (int kept = 0; i < s.size() && is_digit(s[i]); ++i, ++kept) {
      if (kept < 15) {
        fraction = fraction * 10 + (s[i] - '0');
        scale *= 10;
      }
      any_digit = true;
    }
    value += fraction / scale;
  }
  if (!any_digit) {
    return std::nullopt;
  }
  s.remove_prefix(i);
  return value;
}

// REQUIRES: ns >= 0 (or +inf).
Duration clamp_ns(double ns) {
  if (ns >= static_cast<double>(kMaxPushback.count())) {
    return kMaxPushback;
  }
  return Duration(static_cast<Duration::rep>(std::llround(ns)));
}

// A whole value that must be a non-negative decimal number of `ns_per_unit` units.
std::optional<Duration> parse_number(std::string_view value, double ns_per_unit) {
  value = trim(value);
  std::optional<double> number = take_decimal(value);
  if (!number || !value.empty()) {
    return std::nullopt;
  }
  return clamp_ns(*number * ns_per_unit);
}

// --- HTTP-date (RFC 9110 section 5.6.7) ---

constexpr std::array<std::string_view, 12> kMonths = {"jan", "feb", "mar", "apr", "may", "jun",
                                                      "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::array<std::string_view, 7> kShortDays = {"mon", "tue", "wed", "thu",
                                                        "fri", "sat", "sun"};
constexpr std::array<std::string_view, 7> kLongDays = {
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"};

template <size_t N>
bool is_one_of(std::string_view word, const std::array<std::string_view, N>& names) {
  return std::any_of(names.begin(), names.end(),
                     [word](std::string_view name) { return equals_ci(word, name); });
}

// A cursor over the date text; every take_* consumes only on success.
class Scanner {
 public:
  explicit Scanner(std::string_view s) : s_(s) {}

  bool done() const { return s_.empty(); }
  bool take(char c) {
    if (s_.empty() || s_.front() != c) {
      return false;
    }
    s_.remove_prefix(1);
    return true;
  }
  bool take_ci(std::string_view word) {
    if (s_.size() < word.size() || !equals_ci(s_.substr(0, word.size()), word)) {
      return false;
    }
    s_.remove_prefix(word.size());
    return true;
  }
  std::string_view take_letters() {
    size_t n = 0;
    while (n < s_.size() && lower(s_[n]) >= 'a' && lower(s_[n]) <= 'z') {
      ++n;
    }
    std::string_view word = s_.substr(0, n);
    s_.remove_prefix(n);
    return word;
  }
  // Exactly `count` digits.
  std::optional<int> take_digits(size_t count) {
    if (s_.size() < count) {
      return std::nullopt;
    }
    int value = 0;
    for (size_t i = 0; i < count; ++i) {
      if (!is_digit(s_[i])) {
        return std::nullopt;
      }
      value = value * 10 + (s_[i] - '0');
    }
    s_.remove_prefix(count);
    return value;
  }
  // 1-based month from its three-letter name.
  std::optional<int> take_month() {
    for (size_t i = 0; i < kMonths.size(); ++i) {
      if (take_ci(kMonths[i])) {
        return static_cast<int>(i) + 1;
      }
    }
    return std::nullopt;
  }

 private:
  std::string_view s_;
};

struct DateFields {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
};

// "HH:MM:SS"
bool take_time(Scanner& in, DateFields& f) {
  auto h = in.take_digits(2);
  if (!h || !in.take(':')) {
    return false;
  }
  auto m = in.take_digits(2);
  if (!m || !in.take(':')) {
    return false;
  }
  auto s = in.take_digits(2);
  if (!s) {
    return false;
  }
  f.hour = *h;
  f.minute = *m;
  f.second = *s;
  return true;
}

// After "Sun, ": "06 Nov 1994 08:49:37 GMT"
bool parse_imf_fixdate(Scanner& in, DateFields& f) {
  auto day = in.take_digits(2);
  if (!day || !in.take(' ')) {
    return false;
  }
  auto month = in.take_month();
  if (!month || !in.take(' ')) {
    return false;
  }
  auto year = in.take_digits(4);
  if (!year || !in.take(' ') || !take_time(in, f) || !in.take(' ') || !in.take_ci("GMT")) {
    return false;
  }
  f.day = *day;
  f.month = *month;
  f.year = *year;
  return true;
}

// After "Sunday, ": "06-Nov-94 08:49:37 GMT"
bool parse_rfc850(Scanner& in, DateFields& f) {
  auto day = in.take_digits(2);
  if (!day || !in.take('-')) {
    return false;
  }
  auto month = in.take_month();
  if (!month || !in.take('-')) {
    return false;
  }
  auto year = in.take_digits(2);
  if (!year || !in.take(' ') || !take_time(in, f) || !in.take(' ') || !in.take_ci("GMT")) {
    return false;
  }
  f.day = *day;
  f.month = *month;
  // RFC 9110 asks for "no more than 50 years in the future", which needs the current date; this
  // pivot agrees with it until 2050, and the format has been obsolete since 1996.
  f.year = *year < 70 ? 2000 + *year : 1900 + *year;
  return true;
}

// After "Sun ": "Nov  6 08:49:37 1994"
bool parse_asctime(Scanner& in, DateFields& f) {
  auto month = in.take_month();
  if (!month || !in.take(' ')) {
    return false;
  }
  std::optional<int> day = in.take(' ') ? in.take_digits(1) : in.take_digits(2);
  if (!day || !in.take(' ') || !take_time(in, f) || !in.take(' ')) {
    return false;
  }
  auto year = in.take_digits(4);
  if (!year) {
    return false;
  }
  f.day = *day;
  f.month = *month;
  f.year = *year;
  return true;
}

// Seconds since the Unix epoch, in 64 bits so that any four-digit year fits.
std::optional<int64_t> parse_http_date_seconds(std::string_view value) {
  Scanner in(trim(value));
  const std::string_view day_name = in.take_letters();
  DateFields f;
  bool parsed = false;
  if (in.take(',') && in.take(' ')) {
    if (is_one_of(day_name, kShortDays)) {
      parsed = parse_imf_fixdate(in, f);
    } else if (is_one_of(day_name, kLongDays)) {
      parsed = parse_rfc850(in, f);
    }
  } else if (in.take(' ') && is_one_of(day_name, kShortDays)) {
    parsed = parse_asctime(in, f);
  }
  if (!parsed || !in.done()) {
    return std::nullopt;
  }
  using namespace std::chrono;
  const year_month_day date{year{f.year}, month{static_cast<unsigned>(f.month)},
                            day{static_cast<unsigned>(f.day)}};
  // Second 60 is a leap second; POSIX time folds it into the next minute.
  if (!date.ok() || f.hour > 23 || f.minute > 59 || f.second > 60) {
    return std::nullopt;
  }
  const int64_t days = sys_days(date).time_since_epoch().count();
  return days * 86400 + f.hour * 3600 + f.minute * 60 + f.second;
}

}  // namespace

std::optional<WallTime> parse_http_date(std::string_view value) {
  const std::optional<int64_t> secs = parse_http_date_seconds(value);
  if (!secs) {
    return std::nullopt;
  }
  using std::chrono::duration_cast;
  const int64_t max_secs = duration_cast<seconds>(WallTime::duration::max()).count();
  const int64_t min_secs = duration_cast<seconds>(WallTime::duration::min()).count();
  if (*secs >= max_secs) {
    return WallTime::max();
  }
  if (*secs <= min_secs) {
    return WallTime::min();
  }
  return WallTime(duration_cast<WallTime::duration>(seconds(*secs)));
}

std::optional<Duration> parse_retry_after(std::string_view value, WallTime now) {
  value = trim(value);
  if (value.empty()) {
    return std::nullopt;
  }
  if (is_digit(value.front()) || value.front() == '.') {
    return parse_number(value, kNsPerSecond);
  }
  const std::optional<int64_t> date_secs = parse_http_date_seconds(value);
  if (!date_secs) {
    return std::nullopt;
  }
  // Subtract in whole seconds first: the date may lie beyond WallTime's range.
  const auto now_secs = std::chrono::floor<seconds>(now);
  const int64_t delta_secs = *date_secs - now_secs.time_since_epoch().count();
  if (delta_secs > std::chrono::duration_cast<seconds>(kMaxPushback).count()) {
    return kMaxPushback;
  }
  const Duration delta = seconds(delta_secs) - std::chrono::duration_cast<Duration>(now - now_secs);
  return std::clamp(delta, Duration::zero(), kMaxPushback);
}

std::optional<Duration> parse_retry_after_ms(std::string_view value) {
  return parse_number(value, kNsPerMs);
}

std::optional<Duration> parse_go_duration(std::string_view value) {
  value = trim(value);
  if (!value.empty() && value.front() == '+') {
    value.remove_prefix(1);
  }
  if (value == "0") {  // the one unit-less form Go accepts
    return Duration::zero();
  }
  // Longer units first so that "ms" is not read as "m" followed by garbage.
  struct Unit {
    std::string_view name;
    double ns;
  };
  static constexpr std::array<Unit, 8> kUnits = {{{"ns", 1},
                                                  {"us", 1e3},
                                                  {"\xC2\xB5s", 1e3},  // U+00B5 micro sign
                                                  {"\xCE\xBCs", 1e3},  // U+03BC Greek mu
                                                  {"ms", 1e6},
                                                  {"s", 1e9},
                                                  {"m", 60e9},
                                                  {"h", 3600e9}}};
  double total_ns = 0;
  bool any = false;
  while (!value.empty()) {
    const std::optional<double> number = take_decimal(value);
    if (!number) {
      return std::nullopt;  // also rejects a leading '-': negative waits are ignored
    }
    const Unit* unit = nullptr;
    for (const Unit& u : kUnits) {
      if (value.substr(0, u.name.size()) == u.name &&
          (unit == nullptr || u.name.size() > unit->name.size())) {
        unit = &u;
      }
    }
    if (unit == nullptr) {
      return std::nullopt;
    }
    value.remove_prefix(unit->name.size());
    total_ns += *number * unit->ns;
    any = true;
  }
  if (!any) {
    return std::nullopt;
  }
  return clamp_ns(total_ns);
}

std::optional<Duration> parse_pushback(const PushbackHeaders& headers, WallTime now) {
  if (std::optional<Duration> ms = parse_retry_after_ms(headers.retry_after_ms)) {
    return ms;
  }
  if (std::optional<Duration> retry_after = parse_retry_after(headers.retry_after, now)) {
    return retry_after;
  }
  const std::optional<Duration> requests = parse_go_duration(headers.ratelimit_reset_requests);
  const std::optional<Duration> tokens = parse_go_duration(headers.ratelimit_reset_tokens);
  if (requests && tokens) {
    return std::max(*requests, *tokens);
  }
  return requests ? requests : tokens;
}

}  // namespace sheepdog
