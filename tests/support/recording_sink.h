// Test helper: a gateway::ClientSink that keeps what the executor answered (head, body, stream
// pieces) and can play a client that goes away: leave() fires its cancellation as the server
// does when a connection closes. Header-only (tests/unit globs only *_test.cc).
#pragma once

#include <boost/asio/cancellation_signal.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/client_sink.h"

namespace sheepdog::testing {

class RecordingSink final : public gateway::ClientSink {
 public:
  boost::asio::awaitable<bool> send(gateway::ResponseHead h, std::string b) override {
    head = std::move(h);
    body = std::move(b);
    answered = true;
    co_return !gone_;
  }
  boost::asio::awaitable<bool> start_stream(gateway::ResponseHead h) override {
    head = std::move(h);
    streamed = true;
    answered = true;
    co_return !gone_;
  }
  boost::asio::awaitable<bool> write(std::string_view chunk) override {
    if (!gone_) {
      body.append(chunk);
      pieces.emplace_back(chunk);
    }
    co_return !gone_;
  }
  boost::asio::awaitable<bool> finish() override {
    finished = true;
    co_return !gone_;
  }
  bool client_gone() const override { return gone_; }
  boost::asio::cancellation_slot cancellation_slot() override { return signal_.slot(); }

  // The client goes away: the request's operations are cancelled.
  void leave() {
    gone_ = true;
    signal_.emit(boost::asio::cancellation_type::terminal);
  }

  // The value of the answer's header `name`, "" if absent.
  std::string header(std::string_view name) const {
    for (const auto& [n, v] : head.headers) {
      if (n == name) {
        return v;
      }
    }
    return {};
  }

  gateway::ResponseHead head;
  std::string body;
  std::vector<std::string> pieces;
  bool answered = false;
  bool streamed = false;
  bool finished = false;

 private:
  bool gone_ = false;
  boost::asio::cancellation_signal signal_;
};

}  // namespace sheepdog::testing
