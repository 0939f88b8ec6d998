#include "core/random.h"

#include <gtest/gtest.h>

#include <vector>

namespace sheepdog {
namespace {

TEST(FixedRandomTest, ReturnsTheFixedFraction) {
  FixedRandom half(0.5);
  EXPECT_EQ(half.uniform01(), 0.5);
  EXPECT_EQ(half.uniform01(), 0.5);
  EXPECT_EQ(half.uniform(100, 200), 150);
  FixedRandom zero(0.0);
  EXPECT_EQ(zero.uniform01(), 0.0);
  EXPECT_EQ(zero.uniform(3, 7), 3);
  FixedRandom quarter(0.25);
  EXPECT_EQ(quarter.uniform(100, 200), 125);
}

TEST(FixedRandomTest, ChanceComparesAgainstTheFraction) {
  FixedRandom r(0.25);  // exactly representable, so uniform01() == 0.25
  EXPECT_TRUE(r.chance(0.5));
  EXPECT_FALSE(r.chance(0.2));
  EXPECT_FALSE(r.chance(0.25));  // strictly below
  EXPECT_FALSE(FixedRandom(0.0).chance(0.0));
  EXPECT_TRUE(FixedRandom(0.999).chance(1.0));
}

TEST(SeededRandomTest, MatchesTheStandardsMersenneTwister) {
  // [rand.predef]: the 10000th invocation of a default-constructed mt19937_64 (seed 5489)
  // produces 9981545732273789042.
  SeededRandom r(5489);
  uint64_t value = 0;
  for (int i = 0; i < 10000; ++i) {
    value = r.next_u64();
  }
  EXPECT_EQ(value, 9981545732273789042ULL);
}

TEST(SeededRandomTest, SameSeedSameSequenceDifferentSeedDifferentSequence) {
  SeededRandom a(42);
  SeededRandom b(42);
  SeededRandom c(43);
  std::vector<uint64_t> va, vb, vc;
  for (int i = 0; i < 16; ++i) {
    va.push_back(a.next_u64());
    vb.push_back(b.next_u64());
    vc.push_back(c.next_u64());
  }
  EXPECT_EQ(va, vb);
  EXPECT_NE(va, vc);
}

TEST(SeededRandomTest, UniformStaysInRangeAndIsRoughlyUniform) {
  SeededRandom r(7);
  constexpr int kDraws = 100000;
  int buckets[10] = {};
  for (int i = 0; i < kDraws; ++i) {
    const double u = r.uniform01();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    ++buckets[static_cast<int>(u * 10)];
    const double x = r.uniform(-2.0, 3.0);
    ASSERT_GE(x, -2.0);
    ASSERT_LT(x, 3.0);
  }
  for (int count : buckets) {
    // Expected 10000 per bucket; 5 standard deviations is about 475.
    EXPECT_NEAR(count, kDraws / 10, 500);
  }
}

TEST(SeededRandomTest, ChanceFrequencyMatchesProbability) {
  SeededRandom r(11);
  int hits = 0;
  for (int i = 0; i < 100000; ++i) {
    hits += r.chance(0.2) ? 1 : 0;
  }
  EXPECT_NEAR(hits, 20000, 700);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_FALSE(r.chance(0.0));
    ASSERT_TRUE(r.chance(1.0));
  }
}

}  // namespace
}  // namespace sheepdog
