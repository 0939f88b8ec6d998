// Configuration diagnostics: an error or warning tied to a place in the file and a path in the
// document, printed the way compilers do so editors can jump to it:
//   sheepdog.yaml:12:5: models.gpt-4o.fallbacks[0]: unknown model 'gpt4o-mini'; did you mean ...
// Also the did-you-mean helper used for unknown keys and names.
#pragma once

#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sheepdog::config {

struct Diagnostic {
  std::string file;
  int line = 0;         // 1-based; 0 = no position (e.g. the file could not be read)
  int column = 0;       // 1-based; meaningful iff line > 0
  std::string path;     // "models.gpt-4o.routing.strategy"; may be empty
  std::string message;  // "what is wrong; expected ..."

  // "FILE:LINE:COL: PATH: MESSAGE", dropping the parts that are absent. Always one line:
  // every part goes through printable(), so a value quoted in the message cannot end the line
  // or forge another diagnostic.
  std::string to_string() const;
  // The same with "warning: " after the location.
  std::string to_warning_string() const;
};

// Collects diagnostics while a config is decoded. Identical errors (same place, path and message,
// as when one bad policy is merged into several models) are kept once.
class Diagnostics {
 public:
  explicit Diagnostics(std::string file) : file_(std::move(file)) {}

  // `line` and `column` are 0-based, as yaml-cpp reports them; negative = no position.
  void error(int line, int column, std::string path, std::string message);
  void warning(int line, int column, std::string path, std::string message);

  const std::string& file() const { return file_; }
  bool has_errors() const { return !errors_.empty(); }
  // In file order (by line, then column; unpositioned ones first), whatever order the checks
  // ran in.
  std::vector<Diagnostic> take_errors();
  std::vector<Diagnostic> take_warnings();

 private:
  Diagnostic make(int line, int column, std::string path, std::string message) const;
  std::string file_;
  std::vector<Diagnostic> errors_;
  std::vector<Diagnostic> warnings_;
  std::set<std::string> seen_;
};

// `text` made safe to print on a terminal as part of one line: line breaks, tabs and other
// control characters (C0, DEL, C1), bytes that are not UTF-8, and the invisible characters
// that reorder or split a line (bidirectional overrides and isolates, U+2028/2029, the
// zero-width ones) are written as escapes: "\n", "\r", "\t", "\x1b" (a raw byte), "\u202e" (a
// code point). Printable UTF-8 passes through unchanged, so non-English names stay readable.
std::string printable(std::string_view text);

// The offset of the first byte of `text` that does not belong to well-formed UTF-8 (overlong
// forms, surrogates and code points past U+10FFFF count as ill-formed), or npos if none.
size_t invalid_utf8_offset(std::string_view text);

// Levenshtein distance (insert, delete, substitute each cost 1).
size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `name` within edit distance 2 (and less than name's length, so "a"
// does not suggest "b"), or empty. Ties go to the earliest candidate.
std::string closest_match(std::string_view name, std::span<const std::string_view> candidates);
std::string closest_match(std::string_view name, std::span<const std::string> candidates);

// "; did you mean 'x'?" when a close candidate exists, else "".
std::string did_you_mean(std::string_view name, std::span<const std::string_view> candidates);
std::string did_you_mean(std::string_view name, std::span<const std::string> candidates);

// "'a', 'b' or 'c'" for messages.
std::string quoted_list(std::span<const std::string_view> items);

}  // namespace sheepdog::config
