// A hostile test upstream: a loopback HTTP/1.1 server (127.0.0.1, port 0) that answers each
// request with exactly the bytes a test writes, framing errors included. Each connection reads
// one request (head and Content-Length body), hands it to the test's handler with a writer,
// then closes. Runs on its own threads (blocking sockets), so a gateway on another thread can
// call it; counts calls and the bytes it managed to send. Header-only.
#pragma once

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <cstdio>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace sheepdog::testing {

class RawUpstream {
 public:
  // The server side of one exchange.
  class Exchange {
   public:
    Exchange(boost::asio::ip::tcp::socket& socket, std::atomic<size_t>& sent, int call,
             std::string request)
        : call(call), request(std::move(request)), socket_(socket), sent_(sent) {}
    // Writes `bytes`; false once the client has gone.
    bool write(std::string_view bytes) {
      boost::system::error_code ec;
      const size_t n = boost::asio::write(socket_, boost::asio::buffer(bytes), ec);
      sent_ += n;
      return !ec;
    }
    // Blocks until the client closes its end (what it sends is discarded).
    void wait_for_close() {
      char buffer[4096];
      boost::system::error_code ec;
      while (!ec) {
        socket_.read_some(boost::asio::buffer(buffer), ec);
      }
    }
    const int call;             // 1-based, in arrival order
    const std::string request;  // head and body as received

   private:
    boost::asio::ip::tcp::socket& socket_;
    std::atomic<size_t>& sent_;
  };
  using Handler = std::function<void(Exchange&)>;

  explicit RawUpstream(Handler handler) : handler_(std::move(handler)), acceptor_(io_) {
    using boost::asio::ip::tcp;
    const tcp::endpoint endpoint(boost::asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(endpoint.protocol());
    acceptor_.bind(endpoint);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    accept_thread_ = std::thread([this] { accept_loop(); });
  }
  ~RawUpstream() {
    stopping_ = true;
    boost::system::error_code ignored;
    // Wake the accept loop with a connection of our own, then end every exchange.
    {
      boost::asio::io_context io;
      boost::asio::ip::tcp::socket poke(io);
      poke.connect({boost::asio::ip::make_address("127.0.0.1"), port_}, ignored);
    }
    accept_thread_.join();
    {
      std::lock_guard lock(mu_);
      for (auto& socket : sockets_) {
        // Only shutdown: it wakes a serving thread's blocked read or write, which then ends
        // and closes its own socket (closing it here would race with that thread).
        socket->shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
      }
    }
    for (auto& thread : threads_) {
      thread.join();
    }
  }
  RawUpstream(const RawUpstream&) = delete;
  RawUpstream& operator=(const RawUpstream&) = delete;

  uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int calls() const { return calls_; }
  size_t bytes_sent() const { return sent_; }
  std::vector<std::string> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }

  // Framing helpers for handlers.
  static std::string head(int status, std::string_view headers) {
    return "HTTP/1.1 " + std::to_string(status) + " X\r\n" + std::string(headers) +
           "Connection: close\r\n\r\n";
  }
  static std::string json_response(int status, std::string_view body) {
    return head(status, "Content-Type: application/json\r\nContent-Length: " +
                            std::to_string(body.size()) + "\r\n") +
           std::string(body);
  }
  static std::string chunk(std::string_view data) {
    char size[32];
    std::snprintf(size, sizeof(size), "%zx\r\n", data.size());
    return size + std::string(data) + "\r\n";
  }
  static std::string chunked_head(std::string_view content_type) {
    return head(200, "Content-Type: " + std::string(content_type) +
                         "\r\nTransfer-Encoding: chunked\r\n");
  }

 private:
  void accept_loop() {
    for (;;) {
      auto socket = std::make_shared<boost::asio::ip::tcp::socket>(io_);
      boost::system::error_code ec;
      acceptor_.accept(*socket, ec);
      if (ec || stopping_) {
        return;
      }
      std::lock_guard lock(mu_);
      sockets_.push_back(socket);
      threads_.emplace_back([this, socket] { serve(*socket); });
    }
  }

  void serve(boost::asio::ip::tcp::socket& socket) {
    boost::asio::streambuf buffer;
    boost::system::error_code ec;
    const size_t head_bytes = boost::asio::read_until(socket, buffer, "\r\n\r\n", ec);
    if (ec) {
      return;
    }
    std::string request(boost::asio::buffers_begin(buffer.data()),
                        boost::asio::buffers_end(buffer.data()));
    size_t length = 0;
    for (std::string_view name : {"Content-Length: ", "content-length: "}) {
      if (const size_t at = request.find(name); at != std::string::npos) {
        length = std::stoul(request.substr(at + name.size()));
      }
    }
    if (request.size() < head_bytes + length) {
      std::string rest(head_bytes + length - request.size(), '\0');
      boost::asio::read(socket, boost::asio::buffer(rest), ec);
      request += rest;
    }
    int call = 0;
    {
      std::lock_guard lock(mu_);
      call = ++calls_;
      requests_.push_back(request);
    }
    Exchange exchange(socket, sent_, call, std::move(request));
    handler_(exchange);
    socket.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
  }

  Handler handler_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> calls_{0};
  std::atomic<size_t> sent_{0};
  mutable std::mutex mu_;
  std::vector<std::string> requests_;
  std::list<std::shared_ptr<boost::asio::ip::tcp::socket>> sockets_;
  std::vector<std::thread> threads_;
  std::thread accept_thread_;
};

}  // namespace sheepdog::testing
