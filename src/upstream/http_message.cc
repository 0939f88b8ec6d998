#include "upstream/http_message.h"

#include <algorithm>
#include <boost/url/parse.hpp>
#include <charconv>

namespace sheepdog::upstream {
namespace {

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

uint16_t default_port(bool tls) { return tls ? 443 : 80; }

bool is_ipv6_literal(std::string_view host) { return host.find(':') != std::string_view::npos; }

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return ascii_lower(x) == ascii_lower(y);
         });
}

std::string Origin::key() const {
  std::string out = tls ? "https://" : "http://";
  if (is_ipv6_literal(host)) {
    out += '[' + host + ']';
  } else {
    out += host;
  }
  out += ':' + std::to_string(port);
  return out;
}

std::string Origin::host_header() const {
  std::string out = is_ipv6_literal(host) ? '[' + host + ']' : host;
  if (port != default_port(tls)) {
    out += ':' + std::to_string(port);
  }
  return out;
}

std::optional<Endpoint> parse_endpoint(std::string_view url) {
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) {
    return std::nullopt;
  }
  const boost::urls::url_view& u = *parsed;
  Endpoint endpoint;
  if (iequals(u.scheme(), "https")) {
    endpoint.origin.tls = true;
  } else if (!iequals(u.scheme(), "http")) {
    return std::nullopt;
  }
  if (u.has_userinfo() || u.encoded_host_address().empty()) {
    return std::nullopt;
  }
  endpoint.origin.host = std::string(u.encoded_host_address());
  if (u.has_port()) {
    const std::string_view port = u.port();
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
      return std::nullopt;
    }
    endpoint.origin.port = static_cast<uint16_t>(value);
  } else {
    endpoint.origin.port = default_port(endpoint.origin.tls);
  }
  const std::string_view path = u.encoded_path();
  endpoint.target = path.empty() ? std::string("/") : std::string(path);
  if (u.has_query()) {
    endpoint.target += '?';
    endpoint.target += std::string_view(u.encoded_query());
  }
  return endpoint;
}

void Headers::add(std::string name, std::string value) {
  fields_.emplace_back(std::move(name), std::move(value));
}

void Headers::set(std::string_view name, std::string value) {
  remove(name);
  fields_.emplace_back(std::string(name), std::move(value));
}

void Headers::remove(std::string_view name) {
  std::erase_if(fields_, [&](const Field& f) { return iequals(f.first, name); });
}

std::optional<std::string_view> Headers::get(std::string_view name) const {
  for (const Field& f : fields_) {
    if (iequals(f.first, name)) {
      return f.second;
    }
  }
  return std::nullopt;
}

PushbackHeaders pushback_headers(const Headers& headers) {
  PushbackHeaders out;
  out.retry_after = headers.value("retry-after");
  out.retry_after_ms = headers.value("retry-after-ms");
  out.ratelimit_reset_requests = headers.value("x-ratelimit-reset-requests");
  out.ratelimit_reset_tokens = headers.value("x-ratelimit-reset-tokens");
  return out;
}

AttemptResponse attempt_response(const UpstreamResponse& response) {
  AttemptResponse out;
  out.transport = response.transport;
  out.http_status = response.status;
  out.body = std::string_view(response.body).substr(0, kBodyScanLimit);
  if (auto value = response.headers.get("x-should-retry")) {
    out.should_retry = parse_should_retry(*value);
  }
  return out;
}

}  // namespace sheepdog::upstream
