#include "gateway/wait_timer.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace sheepdog::gateway {

namespace asio = boost::asio;

asio::awaitable<bool> AsioWaitTimer::wait(Duration delay) {
  asio::steady_timer timer(io_, delay);
  auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  co_return !ec;
}

}  // namespace sheepdog::gateway
