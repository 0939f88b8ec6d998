// The mock's faults file and control bodies get the same guards as sheepdog.yaml (issue 10):
// escaped values (no forged lines), UTF-8 and control-byte checks, the nesting limit, a bounded
// read of the file.
#include <gtest/gtest.h>

#include <string>

#include "mock/mock_config_decode.h"

namespace sheepdog::mock {
namespace {

TEST(MockConfigHostileTest, AValueCannotForgeALine) {
  MockConfig config;
  const Status status = decode_mock_config(
      "default:\n  faults: {\"x\\nfaults.yaml:1:1: ok\": 0.1}\n", "faults.yaml", {}, &config);
  ASSERT_FALSE(status.is_ok());
  // One diagnostic, one line: the newline in the key is printed as "\n".
  EXPECT_EQ(status.message().find('\n'), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("x\\nfaults.yaml:1:1: ok"), std::string::npos)
      << status.message();
}

TEST(MockConfigHostileTest, BinaryBytesAndDeepNestingAreOneErrorEach) {
  MockConfig config;
  Status status = decode_mock_config("default:\n  faults: {h\xff: 0.1}\n", "f.yaml", {}, &config);
  ASSERT_FALSE(status.is_ok());
  EXPECT_NE(status.message().find("f.yaml:2:13: invalid UTF-8 (byte 0xff)"), std::string::npos)
      << status.message();
  status = decode_mock_config("default: " + std::string(100000, '{'), "f.yaml", {}, &config);
  ASSERT_FALSE(status.is_ok());
  EXPECT_NE(status.message().find("nested too deeply"), std::string::npos) << status.message();
  status = decode_fault_update(std::string(100000, '['), MockConfig{}, &config);
  ASSERT_FALSE(status.is_ok());
  EXPECT_NE(status.message().find("nested too deeply"), std::string::npos) << status.message();
}

TEST(MockConfigHostileTest, AnEndlessFileIsRefused) {
  MockConfig config;
  const Status status = load_mock_config_file("/dev/zero", {}, &config);
  ASSERT_FALSE(status.is_ok());
  EXPECT_NE(status.message().find("/dev/zero: the file is larger than 4 MiB"), std::string::npos)
      << status.message();
}

}  // namespace
}  // namespace sheepdog::mock
