#include "server/http_server.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <csignal>
#include <exception>
#include <thread>
#include <unordered_set>

#include "server/http_connection.h"

namespace sheepdog::server {
namespace {

using asio::ip::tcp;
constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

// After the drain timeout closes the remaining sockets, handlers that honour cancellation end
// within moments; this bounds the wait for those that do not before their threads are stopped.
constexpr Duration kForcedStopGrace = milliseconds(500);
// A header must hold a request line and a few fields; beyond 1 MiB it is an attack, not a request.
constexpr size_t kMinHeaderBytes = 1024;
constexpr size_t kMaxHeaderBytes = size_t{1} << 20;
// Pause after an accept failure such as EMFILE, so a full descriptor table is not a busy loop.
constexpr Duration kAcceptErrorPause = milliseconds(50);

// The co_spawn completion handler for server coroutines: expected errors are handled inside
// them, so anything arriving here is a bug worth a log line.
auto log_failure(const char* what) {
  return [what](std::exception_ptr error) {
    if (!error) {
      return;
    }
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      spdlog::error("http: {} failed: {}", what, e.what());
    } catch (...) {
      spdlog::error("http: {} failed with an unknown exception", what);
    }
  };
}

}  // namespace

// One io thread's world. Everything here is touched only from that thread, except through
// asio::post. Member order matters for destruction: io objects go before the io_context, and
// the connection set outlives it because destroying the context destroys pending session
// coroutines, whose cleanup erases them from the set.
struct HttpServer::Worker {
  explicit Worker(size_t worker_index) : index(worker_index) {}
  ~Worker() { destroying = true; }

  const size_t index;
  std::unordered_set<HttpConnection*> connections;
  bool destroying = false;
  bool stopping = false;
  asio::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  asio::steady_timer drain_timer{ioc};
  asio::steady_timer kill_timer{ioc};
  std::optional<asio::signal_set> signals;
  std::optional<asio::signal_set> hangups;
};

Status HttpServerOptions::validate() const {
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  if (ec) {
    return Status::error("host '" + host +
                         "' is not an IP address; use e.g. 127.0.0.1, 0.0.0.0 or ::1");
  }
  if (threads > 1024) {
    return Status::error("threads " + std::to_string(threads) +
                         " is too many; use 0 (one per core) or at most 1024");
  }
  if (max_body_bytes == 0) {
    return Status::error("max_body_bytes must be positive");
  }
  if (max_header_bytes < kMinHeaderBytes || max_header_bytes > kMaxHeaderBytes) {
    return Status::error("max_header_bytes " + std::to_string(max_header_bytes) +
                         " is out of range; use 1 KiB to 1 MiB (default 16 KiB)");
  }
  if (header_timeout <= Duration::zero() || body_timeout <= Duration::zero() ||
      idle_timeout <= Duration::zero() || write_timeout <= Duration::zero()) {
    return Status::error("header, body, idle and write timeouts must be positive");
  }
  if (drain_timeout < Duration::zero()) {
    return Status::error("drain_timeout must not be negative");
  }
  if (max_connections == 0) {
    return Status::error("max_connections must be at least 1");
  }
  return Status::ok();
}

unsigned HttpServerOptions::resolved_threads() const {
  if (threads != 0) {
    return threads;
  }
  const unsigned cores = std::thread::hardware_concurrency();
  return cores == 0 ? 1 : cores;
}

HttpServer::HttpServer(HttpServerOptions options, HttpHandler handler)
    : options_(std::move(options)), handler_(std::move(handler)) {
  const unsigned threads = options_.resolved_threads();
  workers_.reserve(threads);
  for (unsigned i = 0; i < threads; ++i) {
    workers_.push_back(std::make_unique<Worker>(i));
  }
}

HttpServer::~HttpServer() = default;

Status HttpServer::listen() {
  boost::system::error_code ec;
  const asio::ip::address address = asio::ip::make_address(options_.host, ec);
  if (ec) {
    return Status::error("host '" + options_.host + "' is not an IP address");
  }
  const tcp::endpoint endpoint(address, options_.port);
  const std::string where = endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
  const auto fail = [&](const char* step) {
    for (auto& w : workers_) {
      boost::system::error_code ignored;
      w->acceptor.close(ignored);
    }
    return Status::error(std::string("cannot ") + step + " " + where + ": " + ec.message());
  };
  // One listening socket, without SO_REUSEPORT (see the header), shared by every thread.
  tcp::acceptor& first = workers_[0]->acceptor;
  first.open(endpoint.protocol(), ec);
  if (ec) {
    return fail("open a socket for");
  }
  first.set_option(tcp::acceptor::reuse_address(true), ec);  // TIME_WAIT only, not live sockets
  first.bind(endpoint, ec);
  if (ec) {
    return fail("bind");
  }
  first.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return fail("listen on");
  }
  for (size_t i = 1; i < workers_.size(); ++i) {
    const int fd = ::dup(first.native_handle());
    if (fd < 0) {
      ec.assign(errno, boost::system::system_category());
      return fail("share the listening socket of");
    }
    workers_[i]->acceptor.assign(endpoint.protocol(), fd, ec);
    if (ec) {
      ::close(fd);
      return fail("share the listening socket of");
    }
  }
  port_ = first.local_endpoint().port();
  for (auto& worker : workers_) {
    asio::co_spawn(worker->ioc, accept_loop(*worker), log_failure("accept loop"));
  }
  return Status::ok();
}

asio::awaitable<void> HttpServer::accept_loop(Worker& worker) {
  for (;;) {
    auto [ec, socket] = co_await worker.acceptor.async_accept(kUseTuple);
    if (!worker.acceptor.is_open() || worker.stopping) {
      co_return;
    }
    if (ec) {
      spdlog::warn("http: accept failed: {}", ec.message());
      asio::steady_timer pause(worker.ioc, kAcceptErrorPause);
      co_await pause.async_wait(kUseTuple);
      continue;
    }
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);  // each streamed chunk goes out at once
    if (active_.load(std::memory_order_relaxed) >= options_.max_connections) {
      asio::co_spawn(worker.ioc, refuse_connection(std::move(socket), options_),
                     log_failure("connection refusal"));
      continue;
    }
    active_.fetch_add(1, std::memory_order_relaxed);
    accepted_.fetch_add(1, std::memory_order_relaxed);
    asio::co_spawn(worker.ioc, session(worker, std::move(socket)), log_failure("connection"));
  }
}

asio::awaitable<void> HttpServer::session(Worker& worker, tcp::socket socket) {
  HttpConnection connection(std::move(socket), options_, worker.index);
  worker.connections.insert(&connection);
  // Runs when the coroutine ends, and also when a forced stop destroys it while suspended.
  struct Registration {
    HttpServer& server;
    Worker& worker;
    HttpConnection& connection;
    ~Registration() {
      worker.connections.erase(&connection);
      server.active_.fetch_sub(1, std::memory_order_relaxed);
      if (!worker.destroying && worker.stopping && worker.connections.empty()) {
        worker.drain_timer.cancel();
        worker.kill_timer.cancel();
      }
    }
  } registration{*this, worker, connection};
  if (worker.stopping) {
    connection.close_requested = true;
  }
  co_await serve_connection(connection, handler_);
}

void HttpServer::run() {
  std::vector<std::thread> threads;
  threads.reserve(workers_.size() - 1);
  for (size_t i = 1; i < workers_.size(); ++i) {
    threads.emplace_back([worker = workers_[i].get()] { run_worker(*worker); });
  }
  run_worker(*workers_[0]);
  for (auto& thread : threads) {
    thread.join();
  }
}

void HttpServer::run_worker(Worker& worker) {
  // Asio's documented pattern: an exception thrown by a handler propagates out of run(); the
  // io_context stays usable, so log it and run on rather than let it end the thread (and, from
  // a std::thread, the process).
  for (;;) {
    try {
      worker.ioc.run();
      return;
    } catch (const std::exception& e) {
      spdlog::error("http: a handler on thread {} threw and was dropped: {}", worker.index,
                    e.what());
    } catch (...) {
      spdlog::error("http: a handler on thread {} threw an unknown exception and was dropped",
                    worker.index);
    }
  }
}

void HttpServer::stop() {
  if (stop_requested_.exchange(true)) {
    return;
  }
  for (auto& worker : workers_) {
    asio::post(worker->ioc, [this, w = worker.get()] { begin_stop(*w); });
  }
}

void HttpServer::begin_stop(Worker& worker) {
  worker.stopping = true;
  boost::system::error_code ignored;
  worker.acceptor.close(ignored);
  if (worker.signals) {
    worker.signals->cancel(ignored);
  }
  if (worker.hangups) {
    worker.hangups->cancel(ignored);  // still caught while draining, and ignored
  }
  // Copy: closing an idle connection can finish its coroutine, which erases it from the set.
  const std::vector<HttpConnection*> connections(worker.connections.begin(),
                                                 worker.connections.end());
  for (HttpConnection* connection : connections) {
    connection->close_requested = true;
    if (connection->phase == HttpConnection::Phase::kIdle ||
        connection->phase == HttpConnection::Phase::kClosing) {
      connection->stream.close();
    }
  }
  if (worker.connections.empty()) {
    return;
  }
  worker.drain_timer.expires_after(options_.drain_timeout);
  worker.drain_timer.async_wait([this, &worker](boost::system::error_code ec) {
    if (!ec) {
      force_close(worker);
    }
  });
}

void HttpServer::force_close(Worker& worker) {
  const size_t remaining = worker.connections.size();
  if (remaining == 0) {
    return;
  }
  spdlog::warn("http: drain timeout passed; closing {} connection(s) on thread {}", remaining,
               worker.index);
  const std::vector<HttpConnection*> connections(worker.connections.begin(),
                                                 worker.connections.end());
  for (HttpConnection* connection : connections) {
    connection->close_now();
  }
  worker.kill_timer.expires_after(kForcedStopGrace);
  worker.kill_timer.async_wait([&worker](boost::system::error_code ec) {
    if (!ec) {
      spdlog::warn("http: {} handler(s) ignored cancellation; stopping thread {}",
                   worker.connections.size(), worker.index);
      worker.ioc.stop();
    }
  });
}

void HttpServer::stop_on_signals(std::function<void(int)> on_signal) {
  Worker& worker = *workers_[0];
  on_signal_ = std::move(on_signal);
  worker.signals.emplace(worker.ioc, SIGINT, SIGTERM);
  worker.signals->async_wait([this](boost::system::error_code ec, int signal_number) {
    if (ec) {
      return;
    }
    stop();
    if (on_signal_) {
      on_signal_(signal_number);
    }
  });
}

void HttpServer::on_hangup(std::function<void()> handler) {
  Worker& worker = *workers_[0];
  on_hangup_ = std::move(handler);
  worker.hangups.emplace(worker.ioc, SIGHUP);
  wait_for_hangup(worker);
}

void HttpServer::wait_for_hangup(Worker& worker) {
  worker.hangups->async_wait([this, &worker](boost::system::error_code ec, int) {
    if (ec || stop_requested_.load(std::memory_order_relaxed)) {
      return;
    }
    try {
      on_hangup_();
    } catch (const std::exception& e) {
      spdlog::error("http: the SIGHUP handler failed: {}", e.what());
    }
    wait_for_hangup(worker);
  });
}

}  // namespace sheepdog::server
