// Shared helpers of the libFuzzer targets (tests/fuzz/*_fuzz.cc): silent logging, splitting one
// input into parts, deterministic chunking for incremental parsers, and a loud failure for
// broken invariants. Header-only; see docs/fuzzing.md for how targets are built and run.
//
// Every target must be deterministic for a given input (no clock-dependent branches that change
// what is parsed, no state carried from one input to the next that changes the outcome), so that
// a saved crash reproduces when the input is run alone.
#pragma once

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <utility>
#include <vector>

namespace sheepdog::fuzz {

// Separates the parts of a multi-part input (a schema and the arguments checked against it).
// A raw newline cannot occur inside a JSON string and "----" is no JSON token, so the separator
// never occurs inside a JSON part. The targets' dictionaries hold it, so mutations keep it.
inline constexpr std::string_view kPartSeparator = "\n----\n";

// spdlog's default logger off: a target runs millions of inputs, and formatting a line per input
// would cost more than the code under test (and flood the fuzzer's output).
inline void quiet_logs() { spdlog::set_level(spdlog::level::off); }

inline std::string_view as_text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// The text before and after the first kPartSeparator; an input without one is all first part.
inline std::pair<std::string_view, std::string_view> split_parts(std::string_view input) {
  const size_t at = input.find(kPartSeparator);
  if (at == std::string_view::npos) {
    return {input, {}};
  }
  return {input.substr(0, at), input.substr(at + kPartSeparator.size())};
}

// FNV-1a: a cheap, stable hash of the input, to derive choices (chunk sizes) from the input
// itself rather than from a random source, so the same input always takes the same path.
inline uint64_t input_hash(std::string_view text) {
  uint64_t h = 14695981039346656037ull;
  for (const char c : text) {
    h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  }
  return h;
}

// `text` cut into pieces of 1 to 16 bytes (sizes drawn from the input's hash), then a rest of
// whatever is left after 64 pieces: incremental parsers fed these must give what they give for
// the text in one piece.
inline std::vector<std::string_view> chunks_of(std::string_view text) {
  std::vector<std::string_view> pieces;
  uint64_t h = input_hash(text) | 1;
  while (!text.empty()) {
    size_t n = pieces.size() >= 64 ? text.size() : 1 + (h & 15);
    n = std::min(n, text.size());
    pieces.push_back(text.substr(0, n));
    text.remove_prefix(n);
    h = (h >> 4) | (h << 60);
  }
  return pieces;
}

// Whether `text` contains `needle` (lower-case ASCII), ignoring ASCII case: for the harnesses'
// skips of known bugs, which key on header tokens.
inline bool contains_ci(std::string_view text, std::string_view needle) {
  if (needle.empty()) {
    return true;
  }
  for (size_t i = 0; i + needle.size() <= text.size(); ++i) {
    size_t j = 0;
    while (j < needle.size() && (text[i + j] | 0x20) == needle[j]) {
      ++j;
    }
    if (j == needle.size()) {
      return true;
    }
  }
  return false;
}

// An invariant of the code under test does not hold: abort, so libFuzzer saves the input.
[[noreturn]] inline void invariant_failed(const char* what) {
  std::fprintf(stderr, "fuzz invariant failed: %s\n", what);
  std::abort();
}

}  // namespace sheepdog::fuzz
