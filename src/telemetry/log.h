// Structured logs: one JSON object per line, written through spdlog.
//
// A line is {"ts": RFC 3339 UTC with milliseconds, "level", "event", then the caller's fields in
// the order added}. Fields are passed explicitly through LogFields, one typed value at a time.
//
// THE RULE: callers log ids, kinds and numbers, never secrets or content. Pass a trace id, a
// virtual key's id, a deployment name, an ErrorKind, a status code, a latency, token counts;
// never an API key, an Authorization header, a prompt, a message, a completion or a request
// body. Nothing here accepts a request, a header map or a JSON value, so such things cannot be
// logged by passing the wrong object. As a second line of defence LogFields:
//   - replaces with "[redacted]" the value of a field whose name says it holds a secret or
//     content: a name equal to, or ending in "_" and, one of key, authorization, password,
//     secret, token, content, message, messages, prompt, input, body, text ("api_key",
//     "error_message" are redacted; "key_id", "prompt_tokens" are not);
//   - replaces a string value that looks like a credential ("sk-...", "Bearer ...") likewise,
//     except a key fingerprint ("sk-o...aaaa", core/key_fingerprint.h), which is what logs
//     carry instead of a key (the attempt lines' key_id);
//   - truncates string values to kMaxLogStringBytes, on a UTF-8 boundary;
//   - drops a field whose name is not snake_case ([a-z0-9_]+) or is "ts", "level" or "event".
// Tests capture lines with LogCapture; production writes to stderr or stdout, synchronously, in
// batches (batching_sink.h), or through spdlog's async queue (which drops the oldest lines
// rather than block an io thread).
#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <concepts>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/error_kind.h"

namespace spdlog {
class logger;
namespace details {
class thread_pool;
}
namespace sinks {
class sink;
}
}  // namespace spdlog

namespace sheepdog {

enum class LogLevel : unsigned char { kTrace, kDebug, kInfo, kWarn, kError, kOff };
std::string_view to_string(LogLevel level);  // "trace", "debug", "info", "warn", "error", "off"
std::optional<LogLevel> parse_log_level(std::string_view name);

inline constexpr size_t kMaxLogStringBytes = 256;
inline constexpr std::string_view kRedacted = "[redacted]";

// The caller's fields of one line. Cheap to build; build it only when enabled(level) is true.
class LogFields {
 public:
  // An id, a name, a kind: short identifiers, never content (see the file comment).
  LogFields& str(std::string_view name, std::string_view value);
  template <std::integral T>
  requires(!std::same_as<T, bool>) LogFields& num(std::string_view name, T value) {
    if constexpr (std::is_signed_v<T>) {
      return put(name, static_cast<std::int64_t>(value));
    } else {
      return put(name, static_cast<std::uint64_t>(value));
    }
  }
  LogFields& num(std::string_view name, double value);
  LogFields& flag(std::string_view name, bool value);
  // A duration as fractional milliseconds; name it with a unit ("latency_ms").
  LogFields& ms(std::string_view name, Duration value);
  LogFields& kind(std::string_view name, ErrorKind value);

  const boost::json::object& fields() const { return fields_; }

 private:
  LogFields& put(std::string_view name, std::int64_t value);
  LogFields& put(std::string_view name, std::uint64_t value);
  // Applies the naming rules; nullptr iff the field is to be dropped.
  boost::json::value* slot(std::string_view name);
  static bool name_is_sensitive(std::string_view name);

  boost::json::object fields_;
};

struct LogOptions {
  enum class Target : unsigned char { kStderr, kStdout };
  LogLevel level = LogLevel::kInfo;
  Target target = Target::kStderr;
  // Through a background thread: log() costs a queue push. Lines are dropped (oldest first)
  // when more than queue_size wait, never blocking the caller.
  bool async = false;
  size_t queue_size = 8192;
  // In batches (BatchingSink): log() appends to a buffer; lines reach the target when 64 KiB
  // wait, at once for warn and above, on flush(), and within a second otherwise. The cheapest
  // mode under load; used by `sheepdog serve`. Ignored when async is set.
  bool batched = false;
};

// Writes JSON lines. Thread-safe (spdlog loggers are, and log() touches no other state).
class StructuredLogger {
 public:
  // `sink` is any spdlog logger; its pattern is set to the bare message. `clock` supplies "ts"
  // and must outlive this logger.
  StructuredLogger(std::shared_ptr<spdlog::logger> sink, const Clock& clock,
                   LogLevel level = LogLevel::kInfo);
  // A logger writing to stderr/stdout as `options` say.
  static std::unique_ptr<StructuredLogger> make(const LogOptions& options, const Clock& clock);
  // The same, writing to `sink` instead of options.target (tests: LogCapture::sink()).
  static std::unique_ptr<StructuredLogger> make(const LogOptions& options, const Clock& clock,
                                                std::shared_ptr<spdlog::sinks::sink> sink);
  ~StructuredLogger();

  bool enabled(LogLevel level) const;
  void set_level(LogLevel level);
  LogLevel level() const;

  // One line. `event` names what happened ("attempt", "request", "breaker_transition") and
  // follows the field naming rule. Nothing is written below the level.
  void log(LogLevel level, std::string_view event, const LogFields& fields = LogFields());
  void flush();

  // The line log() would write, without the trailing newline. Exposed for tests.
  std::string format(LogLevel level, std::string_view event, const LogFields& fields) const;

 private:
  std::shared_ptr<spdlog::details::thread_pool> pool_;  // non-null iff async; outlives sink_
  std::shared_ptr<spdlog::logger> sink_;
  const Clock& clock_;
};

// Collects written lines in memory, for tests. Thread-safe.
class LogCapture {
 public:
  LogCapture();
  ~LogCapture();
  // A synchronous logger whose lines land here.
  std::shared_ptr<spdlog::logger> logger() const { return logger_; }
  // Its sink, to build other loggers (an async one) on.
  std::shared_ptr<spdlog::sinks::sink> sink() const;
  std::vector<std::string> lines() const;

 private:
  struct Lines {
    mutable std::mutex mu;
    std::vector<std::string> lines;
  };
  std::shared_ptr<Lines> lines_;
  std::shared_ptr<spdlog::logger> logger_;
};

// "2026-11-24T12:34:56.789Z", the "ts" format.
std::string format_rfc3339_ms(WallTime t);

}  // namespace sheepdog
