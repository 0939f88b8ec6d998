#include "telemetry/log.h"

#include <spdlog/async_logger.h>
#include <spdlog/details/thread_pool.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <array>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <functional>

#include "telemetry/batching_sink.h"

namespace sheepdog {
namespace {

constexpr std::array<std::string_view, 6> kLevelNames = {"trace", "debug", "info",
                                                         "warn",  "error", "off"};

spdlog::level::level_enum to_spdlog(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace:
      return spdlog::level::trace;
    case LogLevel::kDebug:
      return spdlog::level::debug;
    case LogLevel::kInfo:
      return spdlog::level::info;
    case LogLevel::kWarn:
      return spdlog::level::warn;
    case LogLevel::kError:
      return spdlog::level::err;
    case LogLevel::kOff:
      return spdlog::level::off;
  }
  return spdlog::level::off;
}

bool valid_field_name(std::string_view name) {
  if (name.empty() || name.size() > 64) {
    return false;
  }
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
      return false;
    }
  }
  return true;
}

bool reserved_field_name(std::string_view name) {
  return name == "ts" || name == "level" || name == "event";
}

// Longest prefix of at most `limit` bytes that does not split a UTF-8 sequence.
std::string_view utf8_prefix(std::string_view s, size_t limit) {
  if (s.size() <= limit) {
    return s;
  }
  size_t end = limit;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) {
    --end;  // s[end] continues a sequence: cut before the sequence starts
  }
  return s.substr(0, end);
}

// A key's fingerprint (core/key_fingerprint.h: first 4, "...", last 4) is what logs are meant to
// carry in place of a key; it starts like one ("sk-o...aaaa") but cannot be used as one.
bool is_key_fingerprint(std::string_view value) {
  return value.size() == 11 && value.substr(4, 3) == "...";
}

bool looks_like_credential(std::string_view value) {
  if (value.starts_with("Bearer ") || value.starts_with("bearer ")) {
    return true;
  }
  return value.starts_with("sk-") && !is_key_fingerprint(value);
}

// Boost.JSON escapes strings correctly but prints doubles as "1.25E1"; log readers and humans
// expect "12.5", so doubles get the shortest round-trip form from std::to_chars instead.
void append_json_value(std::string& out, const boost::json::value& value) {
  if (!value.is_double()) {
    out += boost::json::serialize(value);
    return;
  }
  char buffer[32];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value.get_double());
  out.append(buffer, result.ptr);
}

class CaptureSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  using Append = std::function<void(std::string)>;
  explicit CaptureSink(Append append) : append_(std::move(append)) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    append_(std::string(msg.payload.data(), msg.payload.size()));
  }
  void flush_() override {}

 private:
  Append append_;
};

}  // namespace

std::string_view to_string(LogLevel level) { return kLevelNames[static_cast<size_t>(level)]; }

std::optional<LogLevel> parse_log_level(std::string_view name) {
  if (name == "warning") {
    return LogLevel::kWarn;
  }
  for (size_t i = 0; i < kLevelNames.size(); ++i) {
    if (kLevelNames[i] == name) {
      return static_cast<LogLevel>(i);
    }
  }
  return std::nullopt;
}

// --- LogFields ------------------------------------------------------------------------------

bool LogFields::name_is_sensitive(std::string_view name) {
  static constexpr std::array<std::string_view, 12> kWords = {
      "key",     "authorization", "password", "secret", "token", "content",
      "message", "messages",      "prompt",   "input",  "body",  "text"};
  for (std::string_view word : kWords) {
    if (name == word) {
      return true;
    }
    if (name.size() > word.size() && name.ends_with(word) &&
        name[name.size() - word.size() - 1] == '_') {
      return true;
    }
  }
  return false;
}

boost::json::value* LogFields::slot(std::string_view name) {
  if (!valid_field_name(name) || reserved_field_name(name)) {
    return nullptr;
  }
  return &fields_[name];
}

LogFields& LogFields::str(std::string_view name, std::string_view value) {
  if (boost::json::value* v = slot(name)) {
    if (name_is_sensitive(name) || looks_like_credential(value)) {
      *v = kRedacted;
    } else {
      *v = utf8_prefix(value, kMaxLogStringBytes);
    }
  }
  return *this;
}

LogFields& LogFields::put(std::string_view name, std::int64_t value) {
  if (boost::json::value* v = slot(name)) {
    *v = name_is_sensitive(name) ? boost::json::value(kRedacted) : boost::json::value(value);
  }
  return *this;
}

LogFields& LogFields::put(std::string_view name, std::uint64_t value) {
  if (boost::json::value* v = slot(name)) {
    *v = name_is_sensitive(name) ? boost::json::value(kRedacted) : boost::json::value(value);
  }
  return *this;
}

LogFields& LogFields::num(std::string_view name, double value) {
  if (boost::json::value* v = slot(name)) {
    // JSON has no NaN or Infinity: write null rather than an unparsable line.
    if (name_is_sensitive(name)) {
      *v = kRedacted;
    } else if (std::isfinite(value)) {
      *v = value;
    } else {
      *v = nullptr;
    }
  }
  return *this;
}

LogFields& LogFields::flag(std::string_view name, bool value) {
  if (boost::json::value* v = slot(name)) {
    *v = name_is_sensitive(name) ? boost::json::value(kRedacted) : boost::json::value(value);
  }
  return *this;
}

LogFields& LogFields::ms(std::string_view name, Duration value) { return num(name, to_ms(value)); }

LogFields& LogFields::kind(std::string_view name, ErrorKind value) {
  return str(name, to_string(value));
}

// --- StructuredLogger -----------------------------------------------------------------------

StructuredLogger::StructuredLogger(std::shared_ptr<spdlog::logger> sink, const Clock& clock,
                                   LogLevel level)
    : sink_(std::move(sink)), clock_(clock) {
  sink_->set_pattern("%v");
  sink_->set_level(to_spdlog(level));
}

std::unique_ptr<StructuredLogger> StructuredLogger::make(const LogOptions& options,
                                                         const Clock& clock) {
  spdlog::sink_ptr sink;
  if (options.batched && !options.async) {
    sink = BatchingSink::make(options.target == LogOptions::Target::kStdout ? STDOUT_FILENO
                                                                            : STDERR_FILENO);
  } else if (options.target == LogOptions::Target::kStdout) {
    sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
  } else {
    sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  }
  return make(options, clock, std::move(sink));
}

std::unique_ptr<StructuredLogger> StructuredLogger::make(
    const LogOptions& options, const Clock& clock, std::shared_ptr<spdlog::sinks::sink> sink) {
  // Not registered in spdlog's global registry: the logger is wired explicitly, and two
  // instances (tests, an embedding application) must not collide on a name.
  if (!options.async) {
    return std::make_unique<StructuredLogger>(
        std::make_shared<spdlog::logger>("sheepdog", std::move(sink)), clock, options.level);
  }
  auto pool = std::make_shared<spdlog::details::thread_pool>(options.queue_size, 1);
  auto logger = std::make_shared<spdlog::async_logger>(
      "sheepdog", std::move(sink), pool, spdlog::async_overflow_policy::overrun_oldest);
  auto out = std::make_unique<StructuredLogger>(std::move(logger), clock, options.level);
  out->pool_ = std::move(pool);
  return out;
}

StructuredLogger::~StructuredLogger() {
  sink_->flush();
  // sink_ is released before pool_ (reverse declaration order); the pool's destructor drains
  // the queue, writing every line logged so far, then joins its thread.
}

bool StructuredLogger::enabled(LogLevel level) const {
  return level != LogLevel::kOff && sink_->should_log(to_spdlog(level));
}

void StructuredLogger::set_level(LogLevel level) { sink_->set_level(to_spdlog(level)); }

LogLevel StructuredLogger::level() const {
  switch (sink_->level()) {
    case spdlog::level::trace:
      return LogLevel::kTrace;
    case spdlog::level::debug:
      return LogLevel::kDebug;
    case spdlog::level::info:
      return LogLevel::kInfo;
    case spdlog::level::warn:
      return LogLevel::kWarn;
    case spdlog::level::err:
    case spdlog::level::critical:
      return LogLevel::kError;
    default:
      return LogLevel::kOff;
  }
}

std::string StructuredLogger::format(LogLevel level, std::string_view event,
                                     const LogFields& fields) const {
  std::string line = "{\"ts\":\"" + format_rfc3339_ms(clock_.wall_now()) + "\",\"level\":\"";
  line += to_string(level);
  line += "\",\"event\":\"";
  line += valid_field_name(event) ? event : std::string_view("invalid_event");
  line += '"';
  for (const auto& field : fields.fields()) {
    line += ',';
    line += boost::json::serialize(field.key());
    line += ':';
    append_json_value(line, field.value());
  }
  line += '}';
  return line;
}

void StructuredLogger::log(LogLevel level, std::string_view event, const LogFields& fields) {
  if (!enabled(level)) {
    return;
  }
  const std::string line = format(level, event, fields);
  sink_->log(to_spdlog(level), spdlog::string_view_t(line.data(), line.size()));
}

void StructuredLogger::flush() { sink_->flush(); }

// --- LogCapture -----------------------------------------------------------------------------

LogCapture::LogCapture() : lines_(std::make_shared<Lines>()) {
  auto sink = std::make_shared<CaptureSink>([lines = lines_](std::string line) {
    std::lock_guard lock(lines->mu);
    lines->lines.push_back(std::move(line));
  });
  logger_ = std::make_shared<spdlog::logger>("capture", std::move(sink));
}

LogCapture::~LogCapture() = default;

std::shared_ptr<spdlog::sinks::sink> LogCapture::sink() const { return logger_->sinks().front(); }

std::vector<std::string> LogCapture::lines() const {
  std::lock_guard lock(lines_->mu);
  return lines_->lines;
}

std::string format_rfc3339_ms(WallTime t) {
  const auto ms_since_epoch =
      std::chrono::floor<std::chrono::milliseconds>(t.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(
      ms_since_epoch >= 0 ? ms_since_epoch / 1000 : (ms_since_epoch - 999) / 1000);
  const int millis = static_cast<int>(ms_since_epoch - static_cast<long long>(seconds) * 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[32];
  const size_t n = std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%S", &utc);
  char millis_text[8];
  std::snprintf(millis_text, sizeof(millis_text), ".%03dZ", millis);
  return std::string(buffer, n) + millis_text;
}

}  // namespace sheepdog
