// BatchingSink over a pipe: info lines wait in the buffer, a warn line or flush() writes
// everything waiting in order, and a full batch goes out without being asked.
#include "telemetry/batching_sink.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <spdlog/logger.h>
#include <unistd.h>

#include <string>

namespace sheepdog {
namespace {

class BatchingSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::pipe2(fds_, O_NONBLOCK), 0);
    ::fcntl(fds_[1], F_SETPIPE_SZ, 1 << 20);  // room for a whole batch without blocking
    sink_ = std::make_shared<BatchingSink>(fds_[1]);
    logger_ = std::make_shared<spdlog::logger>("batching_test", sink_);
    logger_->set_pattern("%v");
    logger_->set_level(spdlog::level::info);
  }
  void TearDown() override {
    logger_.reset();
    sink_.reset();
    ::close(fds_[0]);
    ::close(fds_[1]);
  }
  // Everything readable from the pipe now.
  std::string drain() {
    std::string out;
    char buffer[65536];
    for (;;) {
      const ssize_t n = ::read(fds_[0], buffer, sizeof(buffer));
      if (n <= 0) {
        return out;
      }
      out.append(buffer, static_cast<size_t>(n));
    }
  }

  int fds_[2] = {-1, -1};
  std::shared_ptr<BatchingSink> sink_;
  std::shared_ptr<spdlog::logger> logger_;
};

TEST_F(BatchingSinkTest, InfoWaitsUntilFlush) {
  logger_->info("one");
  logger_->info("two");
  EXPECT_EQ(drain(), "");
  logger_->flush();
  EXPECT_EQ(drain(), "one\ntwo\n");
  EXPECT_EQ(drain(), "");
}

TEST_F(BatchingSinkTest, WarnWritesEverythingWaitingAtOnce) {
  logger_->info("before");
  logger_->warn("problem");
  EXPECT_EQ(drain(), "before\nproblem\n");
}

TEST_F(BatchingSinkTest, AFullBatchIsWrittenWithoutAsking) {
  const std::string line(1000, 'x');
  size_t logged = 0;
  while (logged < BatchingSink::kBatchBytes) {
    EXPECT_EQ(drain(), "") << "written before the batch was full, at " << logged << " bytes";
    logger_->info(line);
    logged += line.size() + 1;
  }
  EXPECT_EQ(drain().size(), logged);
}

TEST_F(BatchingSinkTest, DestructionWritesWhatIsWaiting) {
  logger_->info("last words");
  logger_.reset();
  sink_.reset();
  EXPECT_EQ(drain(), "last words\n");
}

}  // namespace
}  // namespace sheepdog
