// A stable 64-bit string hash for sticky routing: the same key must land on the same side of a
// canary split in every process, on every platform, across restarts and versions. std::hash
// promises none of that.
//
// FNV-1a (http://www.isthe.com/chongo/tech/comp/fnv/) followed by MurmurHash3's fmix64
// finalizer. FNV-1a alone is stable and fast on short keys (user ids), but its last byte
// reaches only the low bits, so "user-1" and "user-2" would fall into neighbouring buckets;
// fmix64 spreads every input bit over every output bit. This is not a keyed or DoS-resistant
// hash, and needs not be: whoever picks the sticky key (the client's own `user` field) may as
// well pick their side, and there is no table to flood.
#pragma once

#include <cstdint>
#include <string_view>

namespace sheepdog {

inline constexpr uint64_t kFnv1a64OffsetBasis = 0xcbf29ce484222325ULL;
inline constexpr uint64_t kFnv1a64Prime = 0x100000001b3ULL;

constexpr uint64_t fnv1a64(std::string_view data) {
  uint64_t hash = kFnv1a64OffsetBasis;
  for (char c : data) {
    hash = (hash ^ static_cast<unsigned char>(c)) * kFnv1a64Prime;
  }
  return hash;
}

// MurmurHash3 fmix64: a bijection on 64-bit values with full avalanche.
constexpr uint64_t fmix64(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ULL;
  k ^= k >> 33;
  return k;
}

// `seed` separates independent splits (one per alias), so a user in one alias' canary is not
// thereby in every alias' canary.
constexpr uint64_t stable_hash64(std::string_view data, uint64_t seed = 0) {
  return fmix64(fnv1a64(data) ^ fmix64(seed));
}

// The hash as a fraction in [0, 1), from its top 53 bits (the RandomSource::uniform01 mapping).
constexpr double stable_fraction(std::string_view data, uint64_t seed = 0) {
  return static_cast<double>(stable_hash64(data, seed) >> 11) * 0x1.0p-53;
}

}  // namespace sheepdog
