#include "routing/stable_hash.h"

#include <gtest/gtest.h>

#include <string>

namespace sheepdog {
namespace {

// Reference values from the FNV authors' test suite (FNV-1a, 64-bit).
static_assert(fnv1a64("") == 0xcbf29ce484222325ULL);
static_assert(fnv1a64("a") == 0xaf63dc4c8601ec8cULL);
static_assert(fnv1a64("foobar") == 0x85944171f73967e8ULL);
static_assert(fmix64(0) == 0);

TEST(StableHashTest, IsAFixedFunctionOfKeyAndSeed) {
  // Pinned outputs: if these change, every sticky user changes side on upgrade.
  EXPECT_EQ(stable_hash64("user-1"), 0x41a2fca5c68401c5ULL);
  EXPECT_EQ(stable_hash64("user-1", 7), 0xc8ca3e876c80cf23ULL);
  EXPECT_EQ(stable_hash64("user-1"), fmix64(fnv1a64("user-1")));
  EXPECT_EQ(stable_hash64("user-1", 7), fmix64(fnv1a64("user-1") ^ fmix64(7)));
  EXPECT_EQ(stable_hash64("user-1"), stable_hash64(std::string("user-") + "1"));
  EXPECT_NE(stable_hash64("user-1"), stable_hash64("user-2"));
  EXPECT_NE(stable_hash64("user-1", 1), stable_hash64("user-1", 2));
}

TEST(StableHashTest, NeighbouringKeysSpreadOverTheRange) {
  // FNV-1a alone would put user-0..user-9 close together; after fmix64 ten consecutive keys
  // should land in several of ten equal slices of [0, 1).
  int slices_hit = 0;
  bool hit[10] = {};
  for (int i = 0; i < 10; ++i) {
    const double f = stable_fraction("user-" + std::to_string(i));
    ASSERT_GE(f, 0.0);
    ASSERT_LT(f, 1.0);
    const int slice = static_cast<int>(f * 10);
    if (!hit[slice]) {
      hit[slice] = true;
      ++slices_hit;
    }
  }
  EXPECT_GE(slices_hit, 5);
}

}  // namespace
}  // namespace sheepdog
