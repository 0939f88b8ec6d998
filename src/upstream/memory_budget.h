// A process-wide bound on the bytes of upstream answers held in memory at once. One answer is
// already bounded (ClientOptions::max_response_body_bytes); without a shared bound, N concurrent
// hostile answers still cost N times that. Each buffered answer charges the budget as its body
// arrives (BudgetCharge), and gives the bytes back when the answer is freed; an answer that
// would pass the budget fails at once as kResponseTooLarge (the attempt may go elsewhere) rather
// than the process running out of memory.
//
// Thread-safe (one atomic counter shared by every io thread's client). A budget of 0 means no
// bound.
#pragma once

#include <atomic>
#include <cstddef>

namespace sheepdog::upstream {

class MemoryBudget {
 public:
  explicit MemoryBudget(size_t limit_bytes = 0) : limit_(limit_bytes) {}
  MemoryBudget(const MemoryBudget&) = delete;
  MemoryBudget& operator=(const MemoryBudget&) = delete;

  // Takes `bytes` if they fit under the limit; false (nothing taken) otherwise.
  bool try_take(size_t bytes) {
    if (limit_ == 0) {
      used_.fetch_add(bytes, std::memory_order_relaxed);
      return true;
    }
    size_t used = used_.load(std::memory_order_relaxed);
    do {
      if (bytes > limit_ || used > limit_ - bytes) {
        return false;
      }
    } while (!used_.compare_exchange_weak(used, used + bytes, std::memory_order_relaxed));
    return true;
  }
  void give_back(size_t bytes) { used_.fetch_sub(bytes, std::memory_order_relaxed); }

  size_t used() const { return used_.load(std::memory_order_relaxed); }
  size_t limit() const { return limit_; }

 private:
  const size_t limit_;
  std::atomic<size_t> used_{0};
};

// The bytes one answer holds of a budget; gives them back when destroyed. A null budget takes
// nothing and always succeeds. Moving hands the bytes over; a copy holds nothing (only the
// response read off the wire owns its bytes; a copy of its head, say, must not free them twice).
class BudgetCharge {
 public:
  BudgetCharge() = default;
  explicit BudgetCharge(MemoryBudget* budget) : budget_(budget) {}
  BudgetCharge(const BudgetCharge&) {}
  BudgetCharge& operator=(const BudgetCharge& other) {
    if (this != &other) {
      release();
    }
    return *this;
  }
  BudgetCharge(BudgetCharge&& other) noexcept : budget_(other.budget_), bytes_(other.bytes_) {
    other.bytes_ = 0;
  }
  BudgetCharge& operator=(BudgetCharge&& other) noexcept {
    if (this != &other) {
      release();
      budget_ = other.budget_;
      bytes_ = other.bytes_;
      other.bytes_ = 0;
    }
    return *this;
  }
  ~BudgetCharge() { release(); }

  // Grows the charge to `total` bytes (never shrinks it); false if the budget refuses.
  bool grow_to(size_t total) {
    if (budget_ == nullptr || total <= bytes_) {
      return true;
    }
    if (!budget_->try_take(total - bytes_)) {
      return false;
    }
    bytes_ = total;
    return true;
  }
  void release() {
    if (budget_ != nullptr && bytes_ > 0) {
      budget_->give_back(bytes_);
    }
    bytes_ = 0;
  }
  size_t bytes() const { return bytes_; }

 private:
  MemoryBudget* budget_ = nullptr;
  size_t bytes_ = 0;
};

}  // namespace sheepdog::upstream
