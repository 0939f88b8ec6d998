// ConnectionPool limits and expiry, observed through UpstreamClient on loopback: idle expiry
// on the manual clock, max idle and max connections per origin, and the wait for a free slot.
#include "upstream/connection_pool.h"

#include <gtest/gtest.h>

#include "test_server.h"

namespace sheepdog::upstream::test {
namespace {

using std::chrono::milliseconds;

class ConnectionPoolTest : public UpstreamFixture {};

TEST_F(ConnectionPoolTest, IdleConnectionsExpire) {
  TestServer& server = start_server(always("{}"));
  ClientOptions options;
  options.pool.idle_timeout = std::chrono::seconds(30);
  UpstreamClient& client = make_client(options);
  run([&]() -> asio::awaitable<void> {
    CO_ASSERT_TRUE((co_await client.send(request(), generous())).ok());
    clock_.advance(std::chrono::seconds(29));
    UpstreamResponse reused = co_await client.send(request(), generous());
    EXPECT_TRUE(reused.reused_connection);
    clock_.advance(std::chrono::seconds(30));
    UpstreamResponse fresh = co_await client.send(request(), generous());
    EXPECT_FALSE(fresh.reused_connection);
    EXPECT_EQ(server.accepted(), 2);
    clock_.advance(std::chrono::seconds(30));
    client.pool().close_expired();
    EXPECT_EQ(client.pool().idle_count(server.origin()), 0u);
  });
}

TEST_F(ConnectionPoolTest, AtMostMaxIdleConnectionsAreKept) {
  Gate& both_connected = make_gate();
  TestServer& server = start_server([&](ServerConnection& c) -> asio::awaitable<void> {
    if (c.index == 2) {
      both_connected.open();
    }
    http::request<http::string_body> r;
    while (co_await c.read(r)) {
      co_await both_connected.wait();
      co_await c.write(response(200, "{}"));
    }
  });
  ClientOptions options;
  options.pool.max_idle_per_origin = 1;
  UpstreamClient& client = make_client(options);
  run([&]() -> asio::awaitable<void> {
    int done = 0;
    Gate& finished = make_gate();
    for (int i = 0; i < 2; ++i) {
      asio::co_spawn(
          executor(),
          [&]() -> asio::awaitable<void> {
            EXPECT_TRUE((co_await client.send(request(), generous())).ok());
            if (++done == 2) {
              finished.open();
            }
          },
          report_exception);
    }
    co_await finished.wait();
    EXPECT_EQ(server.accepted(), 2);
    EXPECT_EQ(client.pool().idle_count(server.origin()), 1u);
  });
}

TEST_F(ConnectionPoolTest, MaxConnectionsPerOriginQueuesRequests) {
  TestServer& server = start_server(always("{}"));
  ClientOptions options;
  options.pool.max_connections_per_origin = 1;
  UpstreamClient& client = make_client(options);
  run([&]() -> asio::awaitable<void> {
    int done = 0;
    Gate& finished = make_gate();
    for (int i = 0; i < 3; ++i) {
      asio::co_spawn(
          executor(),
          [&]() -> asio::awaitable<void> {
            EXPECT_TRUE((co_await client.send(request(), generous())).ok());
            if (++done == 3) {
              finished.open();
            }
          },
          report_exception);
    }
    co_await finished.wait();
    EXPECT_EQ(server.accepted(), 1);
  });
}

TEST_F(ConnectionPoolTest, WaitingForAFreeConnectionTimesOutAsConnectFailed) {
  start_server([](ServerConnection& c) -> asio::awaitable<void> {
    http::request<http::string_body> r;
    if (co_await c.read(r)) {
      co_await c.wait_for_close();  // holds the only connection
    }
  });
  ClientOptions options;
  options.pool.max_connections_per_origin = 1;
  UpstreamClient& client = make_client(options);
  run([&]() -> asio::awaitable<void> {
    Gate& first_done = make_gate();
    asio::co_spawn(
        executor(),
        [&]() -> asio::awaitable<void> {
          RequestTimeouts t = generous();
          t.attempt = milliseconds(300);
          EXPECT_EQ((co_await client.send(request(), t)).transport, TransportResult::kTimeout);
          first_done.open();
        },
        report_exception);
    RequestTimeouts t = generous();
    t.connect = milliseconds(50);
    UpstreamResponse second = co_await client.send(request(), t);
    EXPECT_EQ(second.transport, TransportResult::kConnectFailed);
    EXPECT_NE(second.error.find("no free connection"), std::string::npos) << second.error;
    co_await first_done.wait();
    EXPECT_EQ(client.pool().in_use_count(server_->origin()), 0u);
  });
}

TEST_F(ConnectionPoolTest, FreedSlotsGoToWaitersInArrivalOrder) {
  PoolOptions options;
  options.max_connections_per_origin = 1;
  ConnectionPool pool(executor(), options, clock_);
  const Origin origin{false, "127.0.0.1", 9};
  run([&]() -> asio::awaitable<void> {
    const IoDeadline far = IoClock::now() + std::chrono::seconds(10);
    PoolLease first = co_await pool.acquire(origin, far);
    CO_ASSERT_TRUE(first.valid());
    EXPECT_EQ(first.connection(), nullptr);  // a slot to open a connection in
    EXPECT_EQ(pool.in_use_count(origin), 1u);

    std::vector<int> order;
    Gate& both_served = make_gate();
    std::vector<Gate*> waiting = {&make_gate(), &make_gate()};
    for (int i = 0; i < 2; ++i) {
      asio::co_spawn(
          executor(),
          [&, i]() -> asio::awaitable<void> {
            waiting[i]->open();  // we resume only once this one waits inside acquire()
            PoolLease lease = co_await pool.acquire(origin, far);
            EXPECT_TRUE(lease.valid());
            order.push_back(i);
            if (order.size() == 2) {
              both_served.open();
            }
          },
          report_exception);
      co_await waiting[i]->wait();
    }
    EXPECT_EQ(pool.in_use_count(origin), 1u);
    first = PoolLease();  // frees the slot: the first waiter gets it, then the second
    co_await both_served.wait();
    EXPECT_EQ(order, (std::vector<int>{0, 1}));
    EXPECT_EQ(pool.in_use_count(origin), 0u);
  });
}

}  // namespace
}  // namespace sheepdog::upstream::test
