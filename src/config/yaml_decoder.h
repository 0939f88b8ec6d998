// Typed reading of yaml-cpp nodes with error collection: every reader reports what is wrong at
// the node's line and returns nullopt, so decoding goes on and all errors surface in one run.
// Every scalar value passes through ${ENV} interpolation (env.h) before it is converted.
//
// Conventions: an absent key and an explicit null (`key:` or `key: ~`) both mean "not set" and
// are never errors here; required keys are checked with require(). Nodes are only read, never
// indexed with a non-const operator[] (which would insert).
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/diagnostic.h"
#include "config/env.h"
#include "core/clock.h"

namespace sheepdog::config {

// A closed or open interval for floating-point fields, described in messages as "in (0, 1]".
struct NumberRange {
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
  bool min_open = false;
  bool max_open = false;

  bool contains(double v) const;
  std::string describe() const;  // "a number in (0, 1]", "a number >= 1"
};

// Where a node sits in the file, 0-based as yaml-cpp counts; negative = nowhere (absent node).
// Kept instead of YAML::Node wherever a position outlives decoding: assigning to a YAML::Node
// overwrites the node it refers to, in the document, rather than rebinding the handle.
struct Position {
  int line = -1;
  int column = -1;
};
Position position_of(const YAML::Node& node);

// "a.b" + "c" -> "a.b.c"; "" + "c" -> "c".
std::string join_path(std::string_view parent, std::string_view key);
// "a.b" + 2 -> "a.b[2]".
std::string index_path(std::string_view parent, size_t index);

class Decoder {
 public:
  // Both must outlive the decoder.
  Decoder(Diagnostics& diagnostics, const EnvLookup& env) : diags_(diagnostics), env_(env) {}

  void error(const YAML::Node& node, std::string path, std::string message);
  void error(Position at, std::string path, std::string message);
  void warning(const YAML::Node& node, std::string path, std::string message);
  void warning(Position at, std::string path, std::string message);

  // --- Structure ---
  // True iff `node` is set, i.e. defined and not null.
  static bool present(const YAML::Node& node);
  // The value of `key` in `map` (its first occurrence), or a null node. Never inserts.
  static YAML::Node get(const YAML::Node& map, std::string_view key);
  // The key node of `key` in `map`, or a null node; for errors that point at the key.
  static YAML::Node key_node(const YAML::Node& map, std::string_view key);

  // True iff `node` is a mapping. A null node is "absent": false, no error. Anything else is
  // reported as "expected a mapping ...".
  bool expect_map(const YAML::Node& node, const std::string& path, std::string_view what = "");
  // The same for sequences.
  bool expect_sequence(const YAML::Node& node, const std::string& path, std::string_view what = "");
  // Reports every key of `map` not in `allowed` (with a did-you-mean) and every duplicate key.
  // REQUIRES: map is a mapping.
  void check_keys(const YAML::Node& map, const std::string& path,
                  std::span<const std::string_view> allowed);
  // Reports duplicate and non-scalar keys only (for maps of user-chosen names).
  void check_unique_keys(const YAML::Node& map, const std::string& path, std::string_view what);
  // Reports "missing required key" at `map` when `key` is absent or null. True iff present.
  bool require(const YAML::Node& map, std::string_view key, const std::string& map_path);

  // --- Scalars --- (nullopt: absent, or wrong and reported)
  // The interpolated text. If `unset` is non-null, variables that are unset (with no default)
  // are appended to it and nullopt is returned without an error; otherwise that is an error.
  std::optional<std::string> string(const YAML::Node& node, const std::string& path,
                                    std::vector<std::string>* unset = nullptr);
  // As string(), and also rejects the empty string.
  std::optional<std::string> name(const YAML::Node& node, const std::string& path);
  std::optional<int64_t> integer(const YAML::Node& node, const std::string& path, int64_t min,
                                 int64_t max = std::numeric_limits<int64_t>::max());
  std::optional<double> number(const YAML::Node& node, const std::string& path,
                               const NumberRange& range);
  // true/false, yes/no, on/off, any case.
  std::optional<bool> boolean(const YAML::Node& node, const std::string& path);
  // See parse_duration(). Zero is accepted iff allow_zero.
  std::optional<Duration> duration(const YAML::Node& node, const std::string& path,
                                   bool allow_zero);
  // See parse_byte_size(). In [min, max]. REQUIRES: min <= max.
  std::optional<uint64_t> byte_size(const YAML::Node& node, const std::string& path, uint64_t min,
                                    uint64_t max = UINT64_MAX);
  // The index of the value in `choices`, reported with a did-you-mean if it is none of them.
  std::optional<size_t> choice(const YAML::Node& node, const std::string& path,
                               std::span<const std::string_view> choices);

 private:
  // The interpolated text of a scalar node, reporting non-scalars as "expected <expected>".
  std::optional<std::string> scalar(const YAML::Node& node, const std::string& path,
                                    std::string_view expected,
                                    std::vector<std::string>* unset = nullptr);

  Diagnostics& diags_;
  const EnvLookup& env_;
};

// "a mapping", "a list", "a value" etc. for yaml-cpp node types, used in "got ..." phrases.
std::string_view node_type_name(const YAML::Node& node);

}  // namespace sheepdog::config
