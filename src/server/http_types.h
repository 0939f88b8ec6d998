// The HTTP vocabulary shared by the server, its handlers and the mock: Beast/Asio namespace
// aliases and the request/response types a handler sees. Requests are fully read (body
// included, within the configured limit) before a handler runs.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

namespace sheepdog::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;

using HttpRequest = http::request<http::string_body>;
using HttpResponse = http::response<http::string_body>;

}  // namespace sheepdog::server
