// Test helper: a small blocking HTTP/1.1 client over a real loopback socket, for tests that
// drive a server started on 127.0.0.1 port 0 (HttpServer, MockServer). Every operation is
// bounded by the client's timeout (Beast tcp_stream expiry on a private io_context), so a
// broken server fails a test instead of hanging it. Movable (its state lives on the heap), so a
// helper can return a client mid-conversation. Header-only: tests/unit globs only *_test.cc.
#pragma once

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sheepdog::testing {

namespace http = boost::beast::http;
using ErrorCode = boost::system::error_code;

class LoopbackClient {
 public:
  using Request = http::request<http::string_body>;
  using Response = http::response<http::string_body>;

  // The outcome of reading one response. On error `response` holds what had been parsed.
  struct Reply {
    ErrorCode ec;
    Response response;
    bool ok() const { return !ec; }
    int status() const { return static_cast<int>(response.result_int()); }
    const std::string& body() const { return response.body(); }
  };

  explicit LoopbackClient(uint16_t port,
                          std::chrono::milliseconds timeout = std::chrono::seconds(5),
                          std::string host = "127.0.0.1")
      : state_(std::make_unique<State>()), timeout_(timeout), host_(std::move(host)) {
    const boost::asio::ip::tcp::endpoint endpoint(boost::asio::ip::make_address(host_), port);
    state_->stream.expires_after(timeout_);
    state_->stream.async_connect(endpoint, [this](ErrorCode ec) { connect_error_ = ec; });
    run();
  }

  // Empty iff the connection was established.
  const ErrorCode& connect_error() const { return connect_error_; }

  // A request with Host, and Content-Type/Content-Length when there is a body.
  Request make_request(http::verb verb, std::string_view target, std::string body = {},
                       std::string_view content_type = "application/json") const {
    Request request{verb, target, 11};
    request.set(http::field::host, host_);
    if (!body.empty()) {
      request.set(http::field::content_type, content_type);
    }
    request.body() = std::move(body);
    request.prepare_payload();
    return request;
  }

  ErrorCode write(Request request) {
    ErrorCode result;
    state_->stream.expires_after(timeout_);
    http::async_write(state_->stream, request, [&](ErrorCode ec, size_t) { result = ec; });
    run();
    return result;
  }

  ErrorCode write_raw(std::string_view bytes) {
    ErrorCode result;
    state_->stream.expires_after(timeout_);
    boost::asio::async_write(state_->stream, boost::asio::buffer(bytes.data(), bytes.size()),
                             [&](ErrorCode ec, size_t) { result = ec; });
    run();
    return result;
  }

  // Reads one whole response.
  Reply read() {
    http::response_parser<http::string_body> parser;
    parser.body_limit(boost::none);
    Reply reply;
    state_->stream.expires_after(timeout_);
    http::async_read(state_->stream, state_->buffer, parser,
                     [&](ErrorCode ec, size_t) { reply.ec = ec; });
    run();
    reply.response = parser.release();
    return reply;
  }

  Reply request(Request request) {
    if (ErrorCode ec = write(std::move(request))) {
      return Reply{ec, {}};
    }
    return read();
  }
  Reply get(std::string_view target) { return request(make_request(http::verb::get, target)); }
  Reply post(std::string_view target, std::string body) {
    return request(make_request(http::verb::post, target, std::move(body)));
  }

  // Incremental reading of a streamed response: begin_stream() reads the head, read_more()
  // appends whatever body bytes arrive next to streamed_body().
  ErrorCode begin_stream() {
    state_->stream_parser.emplace();
    state_->stream_parser->body_limit(boost::none);
    ErrorCode result;
    state_->stream.expires_after(timeout_);
    http::async_read_header(state_->stream, state_->buffer, *state_->stream_parser,
                            [&](ErrorCode ec, size_t) { result = ec; });
    run();
    return result;
  }
  ErrorCode read_more() {
    ErrorCode result;
    state_->stream.expires_after(timeout_);
    http::async_read_some(state_->stream, state_->buffer, *state_->stream_parser,
                          [&](ErrorCode ec, size_t) { result = ec; });
    run();
    return result;
  }
  // Reads until the body contains `needle` (true) or the stream ends or fails (false).
  bool read_until(std::string_view needle) {
    while (streamed_body().find(needle) == std::string::npos) {
      if (state_->stream_parser->is_done() || read_more()) {
        return streamed_body().find(needle) != std::string::npos;
      }
    }
    return true;
  }
  // Reads to the end of the streamed response; the error (if any) that ended it.
  ErrorCode read_to_end() {
    while (!state_->stream_parser->is_done()) {
      if (ErrorCode ec = read_more()) {
        return ec;
      }
    }
    return {};
  }
  const http::response_parser<http::string_body>& stream_parser() const {
    return *state_->stream_parser;
  }
  const std::string& streamed_body() const { return state_->stream_parser->get().body(); }

  // Reads until the server closes the connection. True iff it closed (end of stream or reset)
  // within the timeout; bytes received meanwhile are discarded.
  bool wait_for_close() {
    char sink[1024];
    for (;;) {
      ErrorCode result;
      state_->stream.expires_after(timeout_);
      state_->stream.async_read_some(boost::asio::buffer(sink),
                                     [&](ErrorCode ec, size_t) { result = ec; });
      run();
      if (result == boost::beast::error::timeout) {
        return false;
      }
      if (result) {
        return true;
      }
    }
  }

  // Reads until the server closes the connection (or the timeout passes) and returns every byte
  // received, for tests that check exactly what went over the wire (e.g. that one request got
  // one answer and nothing more). `closed`, when given, tells whether the server closed.
  std::string read_raw_to_close(bool* closed = nullptr) {
    std::string out;
    char chunk[16384];
    for (;;) {
      ErrorCode result;
      size_t got = 0;
      state_->stream.expires_after(timeout_);
      state_->stream.async_read_some(boost::asio::buffer(chunk), [&](ErrorCode ec, size_t n) {
        result = ec;
        got = n;
      });
      run();
      out.append(chunk, got);
      if (result) {
        if (closed != nullptr) {
          *closed = result != boost::beast::error::timeout;
        }
        return out;
      }
    }
  }

  void close() { state_->stream.close(); }

 private:
  struct State {
    boost::asio::io_context ioc;
    boost::beast::tcp_stream stream{ioc};
    boost::beast::flat_buffer buffer;
    std::optional<http::response_parser<http::string_body>> stream_parser;
  };

  void run() {
    state_->ioc.restart();
    state_->ioc.run();
  }

  std::unique_ptr<State> state_;
  std::chrono::milliseconds timeout_;
  std::string host_;
  ErrorCode connect_error_;
};

// The `data:` payloads of a text/event-stream body, in order (one per event; multi-line data
// joined with "\n").
inline std::vector<std::string> sse_data(std::string_view body) {
  std::vector<std::string> events;
  std::string current;
  bool has_data = false;
  size_t start = 0;
  while (start < body.size()) {
    size_t end = body.find('\n', start);
    if (end == std::string_view::npos) {
      end = body.size();
    }
    std::string_view line = body.substr(start, end - start);
    if (line.empty()) {
      if (has_data) {
        events.push_back(current);
      }
      current.clear();
      has_data = false;
    } else if (line.starts_with("data:")) {
      std::string_view value = line.substr(5);
      if (value.starts_with(' ')) {
        value.remove_prefix(1);
      }
      if (has_data) {
        current += '\n';
      }
      current += value;
      has_data = true;
    }
    start = end + 1;
  }
  return events;
}

}  // namespace sheepdog::testing
