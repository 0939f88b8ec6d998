#include "mock/mock_server.h"

#include <cstdio>

#include "server/protocol_error_shape.h"

namespace sheepdog::mock {
namespace {

server::HttpServerOptions http_options(const MockOptions& options) {
  server::HttpServerOptions http = options.http;
  http.host = options.host;
  http.port = options.port;
  http.threads = options.threads;
  if (!http.protocol_error) {
    http.protocol_error = server::api_protocol_error;  // /v1/messages: Anthropic's envelope
  }
  return http;
}

}  // namespace

MockServer::MockServer(MockOptions options)
    : options_(std::move(options)),
      service_(options_.config, options_.seed, http_options(options_).resolved_threads(),
               options_.clock != nullptr ? *options_.clock : clock_),
      server_(std::make_unique<server::HttpServer>(
          http_options(options_),
          [this](const server::HttpRequest& request, server::Responder& responder) {
            return service_.handle(request, responder);
          })) {}

MockServer::~MockServer() { stop(); }

Status MockServer::listen() {
  if (Status status = http_options(options_).validate(); !status) {
    return status;
  }
  return server_->listen();
}

Status MockServer::start() {
  Status status = listen();
  if (!status) {
    return status;
  }
  thread_ = std::thread([this] { server_->run(); });
  return Status::ok();
}

Status MockServer::run(const std::function<void(const std::string&)>& on_ready,
                       bool handle_signals) {
  Status status = listen();
  if (!status) {
    return status;
  }
  if (handle_signals) {
    server_->stop_on_signals();
    server_->on_hangup([] {
      std::fprintf(stderr,
                   "sheepdog mock: SIGHUP ignored (nothing to reload: POST /_mock/faults or "
                   "/_mock/script changes a running mock)\n");
      std::fflush(stderr);
    });
  }
  if (on_ready) {
    on_ready(url());
  }
  server_->run();
  return Status::ok();
}

void MockServer::stop() {
  server_->stop();
  if (thread_.joinable()) {
    thread_.join();
  }
}

std::string MockServer::url() const {
  const bool ipv6 = options_.host.find(':') != std::string::npos;
  const std::string host = ipv6 ? "[" + options_.host + "]" : options_.host;
  return "http://" + host + ":" + std::to_string(port());
}

}  // namespace sheepdog::mock
