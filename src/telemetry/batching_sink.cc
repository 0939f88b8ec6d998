#include "telemetry/batching_sink.h"

#include <unistd.h>

#include <cerrno>
#include <chrono>

namespace sheepdog {

BatchingSink::BatchingSink(int fd) : fd_(fd) { pending_.reserve(kBatchBytes + 1024); }

BatchingSink::~BatchingSink() {
  flusher_.reset();  // joins the worker before the buffer goes
  std::lock_guard<std::mutex> lock(mutex_);
  flush_();
}

std::shared_ptr<BatchingSink> BatchingSink::make(int fd) {
  auto sink = std::make_shared<BatchingSink>(fd);
  BatchingSink* raw = sink.get();
  sink->flusher_ = std::make_unique<spdlog::details::periodic_worker>([raw] { raw->flush(); },
                                                                      std::chrono::seconds(1));
  return sink;
}

void BatchingSink::sink_it_(const spdlog::details::log_msg& msg) {
  spdlog::memory_buf_t formatted;
  formatter_->format(msg, formatted);
  pending_.append(formatted.data(), formatted.size());
  if (pending_.size() >= kBatchBytes || msg.level >= spdlog::level::warn) {
    flush_();
  }
}

void BatchingSink::flush_() {
  size_t written = 0;
  while (written < pending_.size()) {
    const ssize_t n = ::write(fd_, pending_.data() + written, pending_.size() - written);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;  // the output is gone (closed pipe, full disk): drop the batch, never block
    }
    written += static_cast<size_t>(n);
  }
  pending_.clear();
}

}  // namespace sheepdog
