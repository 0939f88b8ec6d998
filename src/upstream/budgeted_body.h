// A Beast body for buffered upstream answers (UpstreamClient::send) whose bytes are charged to a
// MemoryBudget as they arrive (memory_budget.h): the body is a std::string, as with
// http::string_body, plus the charge that holds its bytes. A Content-Length is charged in full
// before the body is read, so an answer that cannot fit fails before any byte of it is stored.
// Internal to src/upstream.
#pragma once

#include <boost/beast/core/buffers_range.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/optional.hpp>
#include <boost/system/errc.hpp>
#include <cstdint>
#include <cstring>
#include <string>

#include "upstream/memory_budget.h"

namespace sheepdog::upstream {

struct BudgetedBody {
  struct value_type {
    std::string data;
    BudgetCharge* charge = nullptr;  // set before the read; null: nothing is charged
  };

  static std::uint64_t size(const value_type& body) { return body.data.size(); }

  // The budget refused: reported as ENOMEM, which exchange_failure() makes kResponseTooLarge.
  static boost::system::error_code refused() {
    return boost::system::errc::make_error_code(boost::system::errc::not_enough_memory);
  }

  class reader {
   public:
    template <bool isRequest, class Fields>
    explicit reader(boost::beast::http::header<isRequest, Fields>&, value_type& body)
        : body_(body) {}

    void init(const boost::optional<std::uint64_t>& length, boost::system::error_code& ec) {
      ec = {};
      if (length) {
        if (body_.charge != nullptr && !body_.charge->grow_to(static_cast<size_t>(*length))) {
          ec = refused();
          return;
        }
        body_.data.reserve(static_cast<size_t>(*length));
      }
    }

    template <class ConstBufferSequence>
    std::size_t put(const ConstBufferSequence& buffers, boost::system::error_code& ec) {
      const size_t extra = boost::asio::buffer_size(buffers);
      const size_t size = body_.data.size();
      // The bytes the body holds; the string's spare capacity (at most as much again, for a
      // chunked answer without a Content-Length to reserve by) is not counted.
      if (body_.charge != nullptr && !body_.charge->grow_to(size + extra)) {
        ec = refused();
        return 0;
      }
      body_.data.resize(size + extra);
      char* dest = body_.data.data() + size;
      for (const auto b : boost::beast::buffers_range_ref(buffers)) {
        std::memcpy(dest, b.data(), b.size());
        dest += b.size();
      }
      ec = {};
      return extra;
    }

    void finish(boost::system::error_code& ec) { ec = {}; }

   private:
    value_type& body_;
  };
};

}  // namespace sheepdog::upstream
