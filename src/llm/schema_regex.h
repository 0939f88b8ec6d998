// The regular expressions of JSON Schema (`pattern`, patternProperties keys), compiled once by
// PCRE2 and searched with bounded work. The client sends the pattern and the model the subject,
// so neither may stall a gateway thread: every search runs under a match limit, and a search
// that hits it (or cannot otherwise be finished) is undecided rather than a failure, since a
// pattern too costly to decide is not the model's fault.
//
// JSON Schema's dialect is ECMA-262 with the `u` flag; PCRE2 is compiled to approximate it:
//   UTF                the pattern and subject are code points ("." is one character)
//   ALT_BSUX (+EXTRA)  \uXXXX and \u{X...} are code points, \xHH needs two hex digits, \U is "U"
//   DOLLAR_ENDONLY     "$" matches only at the very end (PCRE2 also allows before a final \n)
//   ALLOW_EMPTY_CLASS  "[]" matches nothing and "[^]" any character
//   NEWLINE_ANYCRLF    "." matches neither \r nor \n (ECMAScript's . excludes both)
//   no UCP             \d, \w and \b stay ASCII, as in ECMAScript (only \s differs: ASCII here,
//                      Unicode spaces there); \p{...} works regardless
//   NEVER_BACKSLASH_C  \C (one byte, splits characters) is refused
//   MATCH_INVALID_UTF  a subject with invalid UTF-8 is searched anyway (invalid bytes match
//                      nothing) instead of failing
// Not covered: a surrogate pair written as two escapes ("\ud83d\ude00") is refused (PCRE2 takes
// code points, not UTF-16 units); PCRE2-only syntax ((?i), \A, possessive quantifiers, ...) is
// accepted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

struct pcre2_real_code_8;

namespace sheepdog::llm {

class SchemaRegex {
 public:
  enum class Match : unsigned char {
    kMatch,
    kNoMatch,
    kUndecided,  // the match limit (or the backtracking memory bound) was reached
  };
  enum class Engine : unsigned char {
    kJitWhenAvailable,  // what compile() uses: JIT, or kInterpreter where JIT cannot run
    kInterpreter,       // the fallback, selectable for tests
  };

  // Backtracking steps per search, and memory for backtracking (JIT stack or interpreter heap).
  // A catastrophic pattern ("^(a+)+$" against "aaa...a!") gives up after a fraction of a
  // millisecond with JIT, a few milliseconds interpreted.
  static constexpr uint32_t kMatchLimit = 100'000;
  static constexpr size_t kBacktrackBytes = 8 << 20;

  // `pattern` compiled, and `error` cleared; nullopt with `error` saying why PCRE2 refuses it
  // ("missing closing parenthesis at offset 4", the offset in bytes of the pattern).
  static std::optional<SchemaRegex> compile(std::string_view pattern, std::string& error,
                                            Engine engine = Engine::kJitWhenAvailable);
  // What compile() would put in `error`, "" if it compiles; cheaper (no JIT, nothing kept).
  static std::string check(std::string_view pattern);

  // Whether `pattern` matches somewhere in `subject` (unanchored, as JSON Schema says: anchor
  // with ^ and $). Thread-safe: concurrent searches share only the immutable compiled code.
  // No bound on the subject's length: with JIT the match limit bounds the whole search, and a
  // JIT stack that runs out is retried once with kBacktrackBytes. The interpreter restarts
  // PCRE2's count at every start position, so there a pattern that is not anchored is searched
  // as one anchored match behind a lazy ".*?" prefix, which the limit bounds as a whole; it
  // also counts a step per character skipped or given back, so interpreted, subjects of about
  // kMatchLimit bytes and more may be undecided, as is a subject that is not valid UTF-8 behind
  // that prefix.
  Match search(std::string_view subject) const;

  // Whether the code is JIT-compiled (false for kInterpreter, or where JIT is unavailable).
  bool jit() const { return jit_; }

 private:
  SchemaRegex(std::shared_ptr<const pcre2_real_code_8> code, bool jit)
      : code_(std::move(code)), jit_(jit) {}

  // Shared because valijson copies constraints (cloneInto); the code is never modified after
  // compile(), so copies may search it from several threads at once.
  std::shared_ptr<const pcre2_real_code_8> code_;
  bool jit_ = false;
};

}  // namespace sheepdog::llm
