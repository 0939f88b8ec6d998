#include "server/request_reader.h"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <memory>
#include <string_view>
#include <vector>

#include "upstream/bounded_http_parser.h"

namespace sheepdog::server {
namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
// How much to read at once while a header is arriving.
constexpr size_t kHeaderReadBytes = 4096;
// Beast's request parser, with fields bounded and trailers discarded (see request_reader.h).
using RequestParser = upstream::BoundedHttpParser<true, http::string_body>;

// Ends the connection's pending read when it expires, leaving the socket open so that a 408 can
// still be written (beast::tcp_stream's own timeout closes the socket). The handler holds only
// a shared state and checks its generation, so a wait that completes after the deadline was
// re-armed or destroyed touches nothing.
class ReadDeadline {
 public:
  explicit ReadDeadline(beast::tcp_stream& stream)
      : state_(std::make_shared<State>(stream.socket())), timer_(stream.get_executor()) {}
  ~ReadDeadline() {
    ++state_->generation;
    timer_.cancel();
  }
  ReadDeadline(const ReadDeadline&) = delete;
  ReadDeadline& operator=(const ReadDeadline&) = delete;

  void arm(Duration limit) {
    const uint64_t generation = ++state_->generation;
    state_->expired = false;
    timer_.expires_after(limit);
    timer_.async_wait([state = state_, generation](boost::system::error_code ec) {
      if (ec || state->generation != generation) {
        return;
      }
      state->expired = true;
      boost::system::error_code ignored;
      state->socket.cancel(ignored);
    });
  }
  bool expired() const { return state_->expired; }

 private:
  struct State {
    explicit State(asio::ip::tcp::socket& s) : socket(s) {}
    asio::ip::tcp::socket& socket;
    uint64_t generation = 0;
    bool expired = false;
  };
  std::shared_ptr<State> state_;
  asio::steady_timer timer_;
};

bool is_disconnect(const boost::system::error_code& ec) {
  return ec == http::error::end_of_stream || ec == http::error::partial_message ||
         ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor ||
         ec == asio::error::broken_pipe;
}

ReadResult gone() { return ReadResult{}; }

ReadResult refuse(http::status status, std::string message, std::string code,
                  const HttpRequest* header = nullptr) {
  ReadResult r;
  r.kind = ReadResult::Kind::kError;
  r.status = status;
  r.error =
      ApiError{std::move(message),
               status == http::status::not_implemented ? "server_error" : "invalid_request_error",
               std::nullopt, std::move(code)};
  if (header != nullptr) {
    r.target = std::string(header->target());
    r.version = header->version() == 10 ? 10 : 11;
  }
  return r;
}

ReadResult too_large_body(const HttpServerOptions& options, const HttpRequest& header) {
  return refuse(http::status::payload_too_large,
                "Request body is larger than the server's limit of " +
                    std::to_string(options.max_body_bytes) + " bytes.",
                "request_too_large", &header);
}

ReadResult too_large_header(const HttpServerOptions& options, const HttpRequest* header) {
  return refuse(http::status::request_header_fields_too_large,
                "Request header (or trailer) is larger than the server's limit of " +
                    std::to_string(options.max_header_bytes) + " bytes.",
                "request_header_too_large", header);
}

ReadResult timed_out(std::string_view what, Duration limit, const HttpRequest* header) {
  return refuse(http::status::request_timeout,
                "The request " + std::string(what) + " did not arrive within " +
                    std::to_string(std::chrono::duration_cast<milliseconds>(limit).count()) +
                    " ms.",
                "request_timeout", header);
}

ReadResult malformed(std::string detail, const HttpRequest* header = nullptr) {
  return refuse(http::status::bad_request, "Malformed HTTP request: " + detail + ".",
                "invalid_http", header);
}

// The target of the request line at the start of `data`, when that line is complete and looks
// like one ("METHOD /target HTTP/1.x"), else "": it only chooses the error's envelope for
// requests refused before Beast parsed them.
std::string target_hint(std::string_view data) {
  const size_t eol = data.find("\r\n");
  if (eol == std::string_view::npos) {
    return {};
  }
  const std::string_view line = data.substr(0, eol);
  const size_t first = line.find(' ');
  const size_t last = line.rfind(' ');
  if (first == std::string_view::npos || last <= first + 1 || line.substr(last + 1, 5) != "HTTP/") {
    return {};
  }
  const std::string_view target = line.substr(first + 1, last - first - 1);
  if (target.front() != '/' || target.find_first_of(" \t\0") != std::string_view::npos) {
    return {};
  }
  return std::string(target);
}

// With the target of the request line, when it can be read.
ReadResult with_target(ReadResult r, std::string_view data) {
  if (r.target.empty()) {
    r.target = target_hint(data);
  }
  return r;
}

// Where the header ends in `data` (just past its empty line), or npos. A bare-LF empty line
// ends it too, so that Beast reports the bad line ending instead of us waiting for more.
size_t header_end(std::string_view data) {
  const size_t crlf = data.find("\r\n\r\n");
  const size_t lf = data.find("\n\n");
  if (crlf == std::string_view::npos && lf == std::string_view::npos) {
    return std::string_view::npos;
  }
  if (lf == std::string_view::npos || (crlf != std::string_view::npos && crlf < lf)) {
    return crlf + 4;
  }
  return lf + 2;
}

// Byte-level checks Beast's parser does not make. Empty iff the header is acceptable.
std::string raw_header_problem(std::string_view header) {
  for (size_t i = 0; i < header.size(); ++i) {
    const char c = header[i];
    if (c == '\0') {
      return "a NUL byte in the header at byte " + std::to_string(i);
    }
    if (c == '\r' && (i + 1 >= header.size() || header[i + 1] != '\n')) {
      return "a bare CR in the header at byte " + std::to_string(i);
    }
    if (c == '\n' && i + 1 < header.size() && (header[i + 1] == ' ' || header[i + 1] == '\t')) {
      return "obsolete line folding (a header line starting with a space or tab) at byte " +
             std::to_string(i + 1);
    }
  }
  return {};
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

// Header semantics Beast leaves to the application: Host and Transfer-Encoding.
std::optional<ReadResult> header_problem(const HttpRequest& header) {
  const auto hosts = header.equal_range(http::field::host);
  const auto host_count = std::distance(hosts.first, hosts.second);
  if (host_count > 1) {
    return malformed("more than one Host header", &header);
  }
  if (header.version() >= 11 && host_count == 0) {
    return malformed("HTTP/1.1 requires a Host header", &header);
  }
  std::vector<std::string_view> codings;
  for (const auto& field : header) {
    if (field.name() != http::field::transfer_encoding) {
      continue;
    }
    std::string_view list = field.value();
    while (!list.empty()) {
      const size_t comma = list.find(',');
      const std::string_view coding = trim(list.substr(0, comma));
      if (!coding.empty()) {
        codings.push_back(coding);
      }
      list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    }
  }
  if (codings.empty()) {
    return std::nullopt;
  }
  const auto is_chunked = [](std::string_view c) { return beast::iequals(c, "chunked"); };
  if (!is_chunked(codings.back())) {
    return malformed("Transfer-Encoding must end with chunked (got '" +
                         std::string(codings.back()) + "'); the body length cannot be known",
                     &header);
  }
  if (std::count_if(codings.begin(), codings.end(), is_chunked) > 1) {
    return malformed("Transfer-Encoding names chunked more than once", &header);
  }
  for (std::string_view coding : codings) {
    if (!is_chunked(coding)) {
      return refuse(http::status::not_implemented,
                    "Transfer-Encoding '" + std::string(coding) +
                        "' is not supported; send the body with chunked alone or with "
                        "Content-Length.",
                    "unsupported_transfer_encoding", &header);
    }
  }
  return std::nullopt;
}

bool expects_continue(const HttpRequest& header) {
  return header.version() >= 11 &&
         beast::iequals(header[http::field::expect], std::string_view("100-continue"));
}

}  // namespace

size_t read_buffer_limit(const HttpServerOptions& options) {
  return options.max_header_bytes + kHeaderReadBytes;
}

asio::awaitable<ReadResult> read_request(HttpConnection& connection, bool first_request) {
  const HttpServerOptions& options = connection.options;
  auto& stream = connection.stream;
  auto& buffer = connection.buffer;

  ReadDeadline deadline(stream);
  stream.expires_never();  // reads are bounded by `deadline`, writes set their own expiry

  // 1. The first byte: a connection that sends nothing is closed without an answer.
  if (buffer.size() == 0) {
    deadline.arm(first_request ? options.header_timeout : options.idle_timeout);
    auto [ec, n] = co_await stream.async_read_some(buffer.prepare(kHeaderReadBytes), kUseTuple);
    if (ec) {
      co_return gone();
    }
    buffer.commit(n);
  }
  connection.phase = HttpConnection::Phase::kReading;

  // 2. The whole header, within header_timeout and max_header_bytes. RFC 9112 2.2: empty lines
  // before the request line are ignored.
  deadline.arm(options.header_timeout);
  size_t end = std::string_view::npos;
  for (;;) {
    std::string_view data(static_cast<const char*>(buffer.data().data()), buffer.size());
    size_t blank = 0;
    while (blank + 1 < data.size() && data[blank] == '\r' && data[blank + 1] == '\n') {
      blank += 2;
    }
    if (blank > 0) {
      buffer.consume(blank);
      continue;
    }
    end = header_end(data.substr(0, std::min(data.size(), options.max_header_bytes + 4)));
    if (end != std::string_view::npos) {
      break;
    }
    if (buffer.size() >= options.max_header_bytes) {
      co_return with_target(too_large_header(options, nullptr), data);
    }
    const size_t room = std::min(kHeaderReadBytes, buffer.max_size() - buffer.size());
    // prepare() may move the buffer's bytes: `data` is stale from here on.
    auto [ec, n] = co_await stream.async_read_some(buffer.prepare(room), kUseTuple);
    if (ec && deadline.expired()) {
      const std::string_view read(static_cast<const char*>(buffer.data().data()), buffer.size());
      co_return with_target(timed_out("header", options.header_timeout, nullptr), read);
    }
    if (ec) {
      co_return is_disconnect(ec) ? gone() : malformed(ec.message());
    }
    buffer.commit(n);
  }
  const std::string_view header(static_cast<const char*>(buffer.data().data()), end);
  if (end > options.max_header_bytes) {
    co_return with_target(too_large_header(options, nullptr), header);
  }
  if (std::string problem = raw_header_problem(header); !problem.empty()) {
    co_return with_target(malformed(std::move(problem)), header);
  }

  // 3. Parse it. Content-Length over the body limit fails here, before any body byte is read.
  RequestParser parser;
  parser.header_limit(static_cast<uint32_t>(options.max_header_bytes));
  parser.body_limit(options.max_body_bytes);
  beast::error_code ec;
  const std::string hint = target_hint(header);  // `header` is gone once consumed
  const size_t used = parser.put(asio::buffer(buffer.data().data(), end), ec);
  buffer.consume(used);
  if (ec == http::error::body_limit) {
    co_return too_large_body(options, parser.get());
  }
  if (ec == http::error::header_limit) {
    co_return too_large_header(options, &parser.get());
  }
  if (ec && ec != http::error::need_more) {
    co_return with_target(
        malformed(ec.message(), parser.is_header_done() ? &parser.get() : nullptr), hint);
  }
  if (!parser.is_header_done()) {
    co_return malformed("incomplete header");
  }
  if (std::optional<ReadResult> problem = header_problem(parser.get())) {
    co_return std::move(*problem);
  }

  // 4. The body, within body_timeout (and the trailer section within the buffer's bound).
  if (!parser.is_done()) {
    if (expects_continue(parser.get())) {
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      stream.expires_after(options.write_timeout);
      auto [write_ec, written] = co_await asio::async_write(
          stream, asio::buffer(kContinue.data(), kContinue.size()), kUseTuple);
      stream.expires_never();
      if (write_ec) {
        co_return gone();
      }
    }
    deadline.arm(options.body_timeout);
    auto [body_ec, body_bytes] = co_await http::async_read(stream, buffer, parser, kUseTuple);
    if (body_ec == http::error::body_limit) {
      co_return too_large_body(options, parser.get());
    }
    if (body_ec == http::error::buffer_overflow || body_ec == http::error::header_limit) {
      co_return too_large_header(options, &parser.get());
    }
    if (body_ec && deadline.expired()) {
      co_return timed_out("body", options.body_timeout, &parser.get());
    }
    if (body_ec) {
      co_return is_disconnect(body_ec) ? gone() : malformed(body_ec.message(), &parser.get());
    }
  }
  ReadResult result;
  result.kind = ReadResult::Kind::kRequest;
  result.request = parser.release();
  co_return result;
}

}  // namespace sheepdog::server
