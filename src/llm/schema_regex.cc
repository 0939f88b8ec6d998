#include "llm/schema_regex.h"

#include <mutex>
#include <unordered_map>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <fmt/format.h>
#include <pcre2.h>

namespace sheepdog::llm {

namespace {

// The ECMAScript approximation of llm/schema_regex.h. MATCH_INVALID_UTF is added where the
// search is the pattern itself (not behind the lazy prefix, see compile()).
constexpr uint32_t kOptions = PCRE2_UTF | PCRE2_ALT_BSUX | PCRE2_DOLLAR_ENDONLY |
                              PCRE2_ALLOW_EMPTY_CLASS | PCRE2_NEVER_BACKSLASH_C;
// JIT's own stack for a search's first attempt (PCRE2's default size); a search that outgrows
// it is retried once with a stack of kBacktrackBytes.
constexpr size_t kFirstJitStackBytes = 32 << 10;

struct CodeFree {
  void operator()(pcre2_code* code) const { pcre2_code_free(code); }
};
struct MatchDataFree {
  void operator()(pcre2_match_data* data) const { pcre2_match_data_free(data); }
};
struct MatchContextFree {
  void operator()(pcre2_match_context* context) const { pcre2_match_context_free(context); }
};
struct JitStackFree {
  void operator()(pcre2_jit_stack* stack) const { pcre2_jit_stack_free(stack); }
};
using CodePtr = std::unique_ptr<pcre2_code, CodeFree>;

PCRE2_SPTR units(std::string_view text) {
  // PCRE2 10.42 refuses a null pointer even with length 0.
  return reinterpret_cast<PCRE2_SPTR>(text.data() != nullptr ? text.data() : "");
}

// The contexts are made once and never changed after, which PCRE2 allows threads to share.
// They live as long as the process (a static pointer, so not a leak to LeakSanitizer).
pcre2_compile_context* compile_context() {
  static pcre2_compile_context* const context = [] {
    pcre2_compile_context* made = pcre2_compile_context_create(nullptr);
    if (made != nullptr) {
      pcre2_set_newline(made, PCRE2_NEWLINE_ANYCRLF);
      pcre2_set_compile_extra_options(made, PCRE2_EXTRA_ALT_BSUX);
    }
    return made;
  }();
  return context;
}

// The match limit is all JIT looks at. The interpreter also keeps its backtracking frames on the
// heap, bounded here; its depth (nested backtracking points) needs no limit of its own, since
// each level costs a step of the match limit and a frame of the heap limit.
pcre2_match_context* match_context() {
  static pcre2_match_context* const context = [] {
    pcre2_match_context* made = pcre2_match_context_create(nullptr);
    if (made != nullptr) {
      pcre2_set_match_limit(made, SchemaRegex::kMatchLimit);
      pcre2_set_heap_limit(made, SchemaRegex::kBacktrackBytes / 1024);  // in KiB
    }
    return made;
  }();
  return context;
}

CodePtr compile_code(std::string_view pattern, uint32_t options, std::string& error) {
  int code = 0;
  PCRE2_SIZE offset = 0;
  CodePtr compiled(
      pcre2_compile(units(pattern), pattern.size(), options, &code, &offset, compile_context()));
  if (compiled == nullptr) {
    PCRE2_UCHAR message[256] = {};
    pcre2_get_error_message(code, message, sizeof message);  // truncated if longer: fine
    error = fmt::format("{} at offset {}", reinterpret_cast<const char*>(message), offset);
  } else {
    error.clear();
  }
  return compiled;
}

// A search that outgrew JIT's default stack (a repeated group remembers each iteration), again
// with a stack of its own. Made per search: it is rare, and a JIT stack cannot be shared by two
// threads at once.
int match_with_large_jit_stack(const pcre2_code* code, std::string_view subject,
                               pcre2_match_data* data) {
  const std::unique_ptr<pcre2_match_context, MatchContextFree> context(
      match_context() != nullptr ? pcre2_match_context_copy(match_context()) : nullptr);
  const std::unique_ptr<pcre2_jit_stack, JitStackFree> stack(
      pcre2_jit_stack_create(kFirstJitStackBytes, SchemaRegex::kBacktrackBytes, nullptr));
  if (context == nullptr || stack == nullptr) {
    return PCRE2_ERROR_NOMEMORY;
  }
  pcre2_jit_stack_assign(context.get(), nullptr, stack.get());
  return pcre2_match(code, units(subject), subject.size(), 0, 0, data, context.get());
}

}  // namespace

std::optional<SchemaRegex> SchemaRegex::compile(std::string_view pattern, std::string& error,
                                                Engine engine) {
  CodePtr code = compile_code(pattern, kOptions | PCRE2_MATCH_INVALID_UTF, error);
  if (code == nullptr) {
    return std::nullopt;
  }
  if (engine == Engine::kJitWhenAvailable &&
      pcre2_jit_compile(code.get(), PCRE2_JIT_COMPLETE) == 0) {
    return SchemaRegex(std::move(code), true);
  }
  // The interpreter restarts its match count at every start position of an unanchored search,
  // so "(?:a|a){0,15}$" costs 2^15 steps per position: seconds on a few kilobytes. One anchored
  // match that skips a lazy prefix is one count. The groups added capture nothing, so
  // backreferences keep their numbers; lookbehind still sees the skipped text. A pattern that
  // only compiles on its own (a trailing \Q or (?x) comment swallowing the ")", a leading (*VERB))
  // keeps the plain search. Without MATCH_INVALID_UTF, since "." cannot skip invalid bytes.
  uint32_t options = 0;
  pcre2_pattern_info(code.get(), PCRE2_INFO_ALLOPTIONS, &options);
  if ((options & PCRE2_ANCHORED) == 0) {
    std::string ignored;
    const std::string prefixed = fmt::format("(?s:.*?)(?:{})", pattern);
    if (CodePtr anchored = compile_code(prefixed, kOptions | PCRE2_ANCHORED, ignored)) {
      code = std::move(anchored);
    }
  }
  return SchemaRegex(std::move(code), false);
}

std::string SchemaRegex::check(std::string_view pattern) {
  // Clients send the same few patterns with every request of a conversation, and compiling one
  // costs microseconds, so verdicts are remembered: a bounded map, emptied when full (simpler
  // than an LRU, and a full map means the patterns are not repeating anyway).
  constexpr size_t kMaxRemembered = 1024;
  constexpr size_t kMaxRememberedBytes = 256;
  static std::mutex mu;
  static std::unordered_map<std::string, std::string> verdicts;
  const bool rememberable = pattern.size() <= kMaxRememberedBytes;
  if (rememberable) {
    std::lock_guard lock(mu);
    if (const auto it = verdicts.find(std::string(pattern)); it != verdicts.end()) {
      return it->second;
    }
  }
  std::string error;
  compile_code(pattern, kOptions | PCRE2_MATCH_INVALID_UTF, error);
  if (rememberable) {
    std::lock_guard lock(mu);
    if (verdicts.size() >= kMaxRemembered) {
      verdicts.clear();
    }
    verdicts.emplace(std::string(pattern), error);
  }
  return error;
}

SchemaRegex::Match SchemaRegex::search(std::string_view subject) const {
  // One ovector pair: only whether it matched matters (PCRE2 then returns 0, still a match).
  const std::unique_ptr<pcre2_match_data, MatchDataFree> data(pcre2_match_data_create(1, nullptr));
  if (data == nullptr) {
    return Match::kUndecided;
  }
  int rc =
      pcre2_match(code_.get(), units(subject), subject.size(), 0, 0, data.get(), match_context());
  if (rc == PCRE2_ERROR_JIT_STACKLIMIT) {
    rc = match_with_large_jit_stack(code_.get(), subject, data.get());
  }
  if (rc >= 0) {
    return Match::kMatch;
  }
  // Anything else (the match or heap limit, JIT stack still too small, invalid UTF-8 behind the
  // prefix, out of memory) leaves the question open.
  return rc == PCRE2_ERROR_NOMATCH ? Match::kNoMatch : Match::kUndecided;
}

}  // namespace sheepdog::llm
