// Beast's HTTP/1.1 parser with every field bounded and trailers discarded, for both directions:
// requests from clients (server/request_reader.cc) and responses from upstreams
// (upstream_client.cc, response_stream.cc).
//
// Why: Beast stores field sizes in 16 bits and throws std::length_error from inside the parser
// for a name or value of 64 KiB or more. Its header limit does not cover the trailer section
// after a chunked body, so a client (or a hostile upstream, or a man in the middle on http://)
// could send one such trailer field and the exception left the io thread: the whole process
// aborted. Here such a field is a header_limit error instead, and trailer fields are dropped
// (RFC 9110 6.5.1 lets a recipient discard them; nothing here uses them). The bytes of a trailer
// section are bounded by the connection's read buffer: callers cap its max_size.
#pragma once

#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <cstddef>

namespace sheepdog::upstream {

// Comfortably under Beast's 64 KiB field limit.
inline constexpr size_t kMaxHttpFieldBytes = 65000;

template <bool isRequest, class Body>
class BoundedHttpParser final : public boost::beast::http::parser<isRequest, Body> {
 private:
  // Overriding the parser's private callbacks is how Beast means them to be customised.
  void on_field_impl(boost::beast::http::field name, boost::beast::string_view name_string,
                     boost::beast::string_view value, boost::beast::error_code& ec) override {
    if (name_string.size() > kMaxHttpFieldBytes || value.size() > kMaxHttpFieldBytes) {
      ec = boost::beast::http::error::header_limit;
      return;
    }
    if (header_done_) {
      return;  // a trailer field: read within the buffer's bound, then dropped
    }
    this->get().insert(name, name_string, value);
  }

  void on_header_impl(boost::beast::error_code& ec) override {
    header_done_ = true;
    ec = {};
  }

  bool header_done_ = false;
};

}  // namespace sheepdog::upstream
