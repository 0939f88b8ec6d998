// An spdlog sink that writes lines to a file descriptor in batches. A gateway logs two lines
// per request; writing (and, through an async queue, waking a writer thread for) each one cost
// about a fifth of the gateway's CPU under load (docs/benchmarks.md). This sink instead appends
// each formatted line to a buffer under its mutex (uncontended: no system call) and issues one
// write(2) for many lines: when kBatchBytes are waiting, when a line at warn or above arrives
// (problems show at once), on flush(), and once a second from a background timer, so that a
// quiet gateway's lines still appear within a second.
#pragma once

#include <spdlog/common.h>
#include <spdlog/details/periodic_worker.h>
#include <spdlog/sinks/base_sink.h>

#include <memory>
#include <mutex>
#include <string>

namespace sheepdog {

class BatchingSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  static constexpr size_t kBatchBytes = size_t{64} << 10;

  // Writes to `fd` (not owned; it must stay open while the sink lives).
  explicit BatchingSink(int fd);
  // Writes what is waiting.
  ~BatchingSink() override;

  // Starts the once-a-second flush. Separate from the constructor so that the worker, which
  // calls flush() on this object, only sees a fully built sink; make() does both.
  static std::shared_ptr<BatchingSink> make(int fd);

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override;
  void flush_() override;

 private:
  int fd_;
  std::string pending_;
  std::unique_ptr<spdlog::details::periodic_worker> flusher_;
};

}  // namespace sheepdog
