// Test helper: an upstream::Transport that answers from a script, on virtual time. Each origin
// host ("a.test") has a queue of replies; every call takes the next one of its host, waits its
// latency on the VirtualTimer (so cancellation and timing behave as on a network), and records
// the request it was sent. A host with no reply left answers 599 and fails the test: a script
// says exactly how many calls it expects. Header-only (tests/unit globs only *_test.cc).
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/this_coro.hpp>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "support/virtual_timer.h"
#include "upstream/body_source.h"
#include "upstream/transport.h"

namespace sheepdog::testing {

struct ScriptedReply {
  // Not kOk: the call fails so, after `latency`, and nothing else below matters.
  TransportResult transport = TransportResult::kOk;
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;               // non-streamed answers, and error answers to streams
  Duration latency = std::chrono::milliseconds(100);  // until the head
  // Streams with a 2xx status: the body, each piece after its delay.
  std::vector<std::pair<Duration, std::string>> chunks;
  // Streams: after the chunks, fail like this instead of ending cleanly.
  std::optional<TransportResult> stream_failure;

  static ScriptedReply json(int status, std::string body) {
    ScriptedReply r;
    r.status = status;
    r.headers = {{"content-type", "application/json"}};
    r.body = std::move(body);
    return r;
  }
  static ScriptedReply failure(TransportResult transport) {
    ScriptedReply r;
    r.transport = transport;
    return r;
  }
};

// What the transport was asked, in call order.
struct ScriptedCall {
  std::string host;
  std::string target;
  upstream::Headers headers;
  std::string body;
  TimePoint at;  // virtual time of the call
  bool stream = false;
};

class ScriptedUpstream final : public upstream::Transport {
 public:
  ScriptedUpstream(VirtualTimer& timer, const Clock& clock) : timer_(timer), clock_(clock) {}

  void push(const std::string& host, ScriptedReply reply) {
    replies_[host].push_back(std::move(reply));
  }
  size_t left(const std::string& host) const {
    auto it = replies_.find(host);
    return it == replies_.end() ? 0 : it->second.size();
  }

  boost::asio::awaitable<upstream::UpstreamResponse> send(
      const upstream::UpstreamRequest& request, upstream::RequestTimeouts) override {
    ScriptedReply reply = take(request, false);
    upstream::UpstreamResponse response = co_await head(reply);
    if (response.ok()) {
      response.body = std::move(reply.body);
    }
    co_return response;
  }

  boost::asio::awaitable<upstream::ResponseStream> open_stream(
      const upstream::UpstreamRequest& request, upstream::RequestTimeouts) override {
    ScriptedReply reply = take(request, true);
    upstream::UpstreamResponse response = co_await head(reply);
    if (!response.ok()) {
      co_return upstream::ResponseStream(std::move(response), nullptr);
    }
    auto body = std::make_unique<Body>(timer_);
    if (response.status >= 200 && response.status < 300) {
      body->chunks.assign(reply.chunks.begin(), reply.chunks.end());
      body->failure_after = reply.stream_failure;
    } else {
      body->chunks.emplace_back(Duration{}, std::move(reply.body));
    }
    co_return upstream::ResponseStream(std::move(response), std::move(body));
  }

  std::vector<ScriptedCall> calls;

 private:
  // A body read piece by piece on virtual time.
  class Body final : public upstream::BodySource {
   public:
    explicit Body(VirtualTimer& timer) : timer_(timer) {}
    boost::asio::awaitable<upstream::BodyChunk> read(
        const boost::asio::cancellation_state&) override {
      upstream::BodyChunk chunk;
      if (chunks.empty()) {
        if (failure_after) {
          fail(*failure_after, "scripted failure");
          chunk.transport = failure;
          chunk.error = error;
          co_return chunk;
        }
        finish();
        chunk.end = true;
        co_return chunk;
      }
      current = std::move(chunks.front().second);
      const Duration delay = chunks.front().first;
      chunks.pop_front();
      const bool waited = co_await timer_.wait(delay);
      if (!waited || cancel_requested) {
        fail(TransportResult::kCancelled, "cancelled");
        chunk.transport = failure;
        chunk.error = error;
        co_return chunk;
      }
      chunk.data = current;
      co_return chunk;
    }
    void abort() override {}

    std::deque<std::pair<Duration, std::string>> chunks;
    std::optional<TransportResult> failure_after;
    std::string current;

   private:
    VirtualTimer& timer_;
  };

  ScriptedReply take(const upstream::UpstreamRequest& request, bool stream) {
    calls.push_back({request.origin.host, request.target, request.headers, request.body,
                     clock_.now(), stream});
    std::deque<ScriptedReply>& queue = replies_[request.origin.host];
    if (queue.empty()) {
      ADD_FAILURE() << "unscripted call to " << request.origin.host << request.target;
      return ScriptedReply::json(599, R"({"error":{"message":"unscripted"}})");
    }
    ScriptedReply reply = std::move(queue.front());
    queue.pop_front();
    return reply;
  }

  boost::asio::awaitable<upstream::UpstreamResponse> head(const ScriptedReply& reply) {
    upstream::UpstreamResponse response;
    const bool waited = co_await timer_.wait(reply.latency);
    if (!waited) {
      response.transport = TransportResult::kCancelled;
      response.error = "cancelled";
      co_return response;
    }
    if (reply.transport != TransportResult::kOk) {
      response.transport = reply.transport;
      response.error = "scripted transport failure";
      co_return response;
    }
    response.status = reply.status;
    for (const auto& [name, value] : reply.headers) {
      response.headers.add(name, value);
    }
    co_return response;
  }

  VirtualTimer& timer_;
  const Clock& clock_;
  std::map<std::string, std::deque<ScriptedReply>> replies_;
};

}  // namespace sheepdog::testing
