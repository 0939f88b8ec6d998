#include "llm/string_formats.h"

#include <algorithm>
#include <array>
#include <boost/url/ipv4_address.hpp>
#include <boost/url/ipv6_address.hpp>
#include <boost/url/parse.hpp>
#include <cstddef>

namespace sheepdog::llm::detail {

namespace {

bool digits(std::string_view s, size_t pos, size_t count) {
  if (pos + count > s.size()) {
    return false;
  }
  return std::all_of(s.begin() + pos, s.begin() + pos + count,
                     [](char c) { return c >= '0' && c <= '9'; });
}

int number_at(std::string_view s, size_t pos, size_t count) {
  int n = 0;
  for (size_t i = pos; i < pos + count; ++i) {
    n = n * 10 + (s[i] - '0');
  }
  return n;
}

// RFC 3339 full-date: YYYY-MM-DD with a day that exists in that month.
bool is_date(std::string_view s) {
  if (s.size() != 10 || !digits(s, 0, 4) || s[4] != '-' || !digits(s, 5, 2) || s[7] != '-' ||
      !digits(s, 8, 2)) {
    return false;
  }
  const int year = number_at(s, 0, 4);
  const int month = number_at(s, 5, 2);
  const int day = number_at(s, 8, 2);
  static constexpr std::array<int, 12> kDays = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1 || day > kDays[month - 1]) {
    return false;
  }
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month != 2 || day != 29 || leap;
}

// RFC 3339 full-time: HH:MM:SS[.frac](Z|+HH:MM|-HH:MM).
bool is_time(std::string_view s) {
  if (s.size() < 9 || !digits(s, 0, 2) || s[2] != ':' || !digits(s, 3, 2) || s[5] != ':' ||
      !digits(s, 6, 2) || number_at(s, 0, 2) > 23 || number_at(s, 3, 2) > 59 ||
      number_at(s, 6, 2) > 60) {
    return false;
  }
  size_t pos = 8;
  if (s[pos] == '.') {
    const size_t start = ++pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      ++pos;
    }
    if (pos == start) {
      return false;
    }
  }
  const std::string_view offset = s.substr(pos);
  if (offset == "Z" || offset == "z") {
    return true;
  }
  return offset.size() == 6 && (offset[0] == '+' || offset[0] == '-') && digits(offset, 1, 2) &&
         offset[3] == ':' && digits(offset, 4, 2) && number_at(offset, 1, 2) <= 23 &&
         number_at(offset, 4, 2) <= 59;
}

bool is_date_time(std::string_view s) {
  return s.size() > 11 && (s[10] == 'T' || s[10] == 't') && is_date(s.substr(0, 10)) &&
         is_time(s.substr(11));
}

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens.
bool is_hostname(std::string_view s) {
  if (s.empty() || s.size() > 253) {
    return false;
  }
  size_t start = 0;
  while (true) {
    const size_t dot = s.find('.', start);
    const std::string_view label =
        s.substr(start, dot == std::string_view::npos ? s.npos : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-' ||
        !std::all_of(label.begin(), label.end(), [](char c) { return is_alnum(c) || c == '-'; })) {
      return false;
    }
    if (dot == std::string_view::npos) {
      return true;
    }
    start = dot + 1;
  }
}

// The common (RFC 5321 dot-atom) form: local@domain; quoted local parts are not accepted.
bool is_email(std::string_view s) {
  const size_t at = s.rfind('@');
  if (at == std::string_view::npos || at == 0 || at > 64) {
    return false;
  }
  const std::string_view local = s.substr(0, at);
  static constexpr std::string_view kAtext = "!#$%&'*+-/=?^_`{|}~.";
  const bool local_ok =
      local.front() != '.' && local.back() != '.' && local.find("..") == local.npos &&
      std::all_of(local.begin(), local.end(),
                  [](char c) { return is_alnum(c) || kAtext.find(c) != kAtext.npos; });
  const std::string_view domain = s.substr(at + 1);
  if (domain.size() > 2 && domain.front() == '[' && domain.back() == ']') {
    return local_ok && boost::urls::parse_ipv4_address(domain.substr(1, domain.size() - 2));
  }
  return local_ok && is_hostname(domain);
}

bool is_uuid(std::string_view s) {
  if (s.size() != 36) {
    return false;
  }
  for (size_t i = 0; i < s.size(); ++i) {
    const bool hyphen = i == 8 || i == 13 || i == 18 || i == 23;
    const char c = s[i];
    const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (hyphen ? c != '-' : !hex) {
      return false;
    }
  }
  return true;
}

}  // namespace

bool format_matches(std::string_view format, std::string_view s) {
  if (format == "date") {
    return is_date(s);
  }
  if (format == "time") {
    return is_time(s);
  }
  if (format == "date-time") {
    return is_date_time(s);
  }
  if (format == "email") {
    return is_email(s);
  }
  if (format == "hostname") {
    return is_hostname(s);
  }
  if (format == "ipv4") {
    return boost::urls::parse_ipv4_address(s).has_value();
  }
  if (format == "ipv6") {
    return boost::urls::parse_ipv6_address(s).has_value();
  }
  if (format == "uri") {
    return boost::urls::parse_uri(s).has_value();
  }
  if (format == "uri-reference") {
    return boost::urls::parse_uri_reference(s).has_value();
  }
  if (format == "uuid") {
    return is_uuid(s);
  }
  return true;
}

std::string_view format_hint(std::string_view format) {
  if (format == "date") {
    return " (YYYY-MM-DD, e.g. 2024-01-15)";
  }
  if (format == "time") {
    return " (HH:MM:SS with an offset, e.g. 09:30:00Z)";
  }
  if (format == "date-time") {
    return " (RFC 3339 with an offset, e.g. 2024-01-15T09:30:00Z)";
  }
  if (format == "uri") {
    return " (an absolute URI with a scheme, e.g. https://example.com/a)";
  }
  if (format == "uuid") {
    return " (e.g. 123e4567-e89b-12d3-a456-426614174000)";
  }
  return "";
}

}  // namespace sheepdog::llm::detail
