// The upstream client's request and response values, free of Beast types so that providers can
// build requests and read answers without the HTTP machinery: Origin (where), Headers
// (case-insensitive lookup), UpstreamRequest and UpstreamResponse (a result value: transport
// errors are data here, never exceptions).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "resilience/outcome.h"
#include "resilience/pushback.h"
#include "upstream/memory_budget.h"

namespace sheepdog::upstream {

// scheme + host + port: the unit of connection pooling.
struct Origin {
  bool tls = false;
  std::string host;  // a DNS name or an IP literal, IPv6 without brackets
  uint16_t port = 0;

  // "https://api.openai.com:443": a stable key for pools and logs.
  std::string key() const;
  // The Host header value: the port only when not the scheme's default, IPv6 in brackets.
  std::string host_header() const;

  friend bool operator==(const Origin&, const Origin&) = default;
};

// An absolute http(s) URL split into what the client needs.
struct Endpoint {
  Origin origin;
  std::string target;  // path and query, "/" when the URL has no path
};

// Parses "http://host[:port]/path?query" or "https://...". nullopt for other schemes, a missing
// host, a bad port, or userinfo (credentials never travel in URLs here).
std::optional<Endpoint> parse_endpoint(std::string_view url);

// Ordered header fields with case-insensitive lookup (RFC 9110: field names are
// case-insensitive). A vector, not a map: responses carry a few dozen fields, and order and
// repeats are preserved for relaying.
class Headers {
 public:
  using Field = std::pair<std::string, std::string>;

  // Appends a field (a repeated name keeps every value).
  void add(std::string name, std::string value);
  // Replaces every field of this name with one.
  void set(std::string_view name, std::string value);
  void remove(std::string_view name);
  // The first value of `name`, or nullopt if absent.
  std::optional<std::string_view> get(std::string_view name) const;
  // The first value of `name`, or "" if absent.
  std::string_view value(std::string_view name) const { return get(name).value_or(""); }
  bool contains(std::string_view name) const { return get(name).has_value(); }

  const std::vector<Field>& fields() const { return fields_; }
  size_t size() const { return fields_.size(); }
  bool empty() const { return fields_.empty(); }

 private:
  std::vector<Field> fields_;
};

// ASCII case-insensitive equality, as header names need.
bool iequals(std::string_view a, std::string_view b);

struct UpstreamRequest {
  std::string method = "POST";
  Origin origin;
  std::string target = "/";
  // Host, Content-Length and (unless given) User-Agent are set by the client; anything else,
  // e.g. Authorization and Content-Type, is the caller's.
  Headers headers;
  std::string body;
  // The largest response body accepted for this request; 0: the client's
  // max_response_body_bytes.
  size_t max_response_body_bytes = 0;
};

// The result of one exchange. transport says how it ended; status, headers and body are
// meaningful iff transport == kOk (for a stream's head, body is empty and the body follows).
struct UpstreamResponse {
  TransportResult transport = TransportResult::kOk;
  // Human-readable cause when transport != kOk ("connect 127.0.0.1:9: Connection refused",
  // "TLS handshake with api.example.com:443 failed: certificate verify failed (...)").
  std::string error;
  int status = 0;
  Headers headers;
  std::string body;
  // The request went out on a pooled keep-alive connection (for metrics and tests).
  bool reused_connection = false;
  // The bytes of `body` held against the client's memory budget (memory_budget.h), given back
  // when this response is destroyed.
  BudgetCharge charge;

  bool ok() const { return transport == TransportResult::kOk; }
};

// The pushback-related headers as views into `headers` (for resilience/pushback.h).
PushbackHeaders pushback_headers(const Headers& headers);

// What classify() needs (resilience/outcome.h). Views into `response`, which must outlive the
// result; the body is cut to kBodyScanLimit.
AttemptResponse attempt_response(const UpstreamResponse& response);

}  // namespace sheepdog::upstream
