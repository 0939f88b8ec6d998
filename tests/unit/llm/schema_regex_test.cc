// SchemaRegex: ECMAScript-like matching by PCRE2, bad patterns, bounded work on hostile input.
// Most cases run on both engines: JIT (where the platform has it) and the interpreter fallback.
#include "llm/schema_regex.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace sheepdog::llm {
namespace {

using Engine = SchemaRegex::Engine;
using Match = SchemaRegex::Match;

class SchemaRegexTest : public testing::TestWithParam<Engine> {
 protected:
  SchemaRegex compiled(std::string_view pattern) const {
    std::string error = "not cleared";
    std::optional<SchemaRegex> regex = SchemaRegex::compile(pattern, error, GetParam());
    EXPECT_TRUE(regex.has_value()) << pattern << ": " << error;
    EXPECT_EQ(error, "");
    return regex ? *std::move(regex) : *SchemaRegex::compile("(?!)", error);
  }
  Match search(std::string_view pattern, std::string_view subject) const {
    return compiled(pattern).search(subject);
  }
};

INSTANTIATE_TEST_SUITE_P(Engines, SchemaRegexTest,
                         testing::Values(Engine::kJitWhenAvailable, Engine::kInterpreter),
                         [](const testing::TestParamInfo<Engine>& info) {
                           return info.param == Engine::kInterpreter ? "Interpreter" : "Jit";
                         });

TEST_P(SchemaRegexTest, SearchIsUnanchored) {
  EXPECT_EQ(search("b", "abc"), Match::kMatch);
  EXPECT_EQ(search("[0-9]{3}", "call 555-0100"), Match::kMatch);
  EXPECT_EQ(search("d", "abc"), Match::kNoMatch);
  EXPECT_EQ(search("", ""), Match::kMatch);
  EXPECT_EQ(search("b(?=c)", "abd abc"), Match::kMatch);
  EXPECT_EQ(search("(?<=a)c", "bc ac"), Match::kMatch);  // lookbehind sees the skipped text
  EXPECT_EQ(search("(?<=a)c", "bc dc"), Match::kNoMatch);
  EXPECT_EQ(search("(\\w)\\1", "abccd"), Match::kMatch);  // group numbers unchanged
  EXPECT_EQ(search("(\\w)\\1", "abcd"), Match::kNoMatch);
}

TEST_P(SchemaRegexTest, CaretAndDollarAnchorAtTheEndsOnly) {
  const SchemaRegex time = compiled("^[0-2][0-9]:[0-5][0-9]$");
  EXPECT_EQ(time.search("19:00"), Match::kMatch);
  EXPECT_EQ(time.search("at 19:00"), Match::kNoMatch);
  EXPECT_EQ(time.search("19:00 sharp"), Match::kNoMatch);
  EXPECT_EQ(time.search("19:60"), Match::kNoMatch);
  // ECMAScript's $ (without the m flag) is the very end; PCRE2's default also allows "\n".
  EXPECT_EQ(time.search("19:00\n"), Match::kNoMatch);
  EXPECT_EQ(search("^b", "a\nb"), Match::kNoMatch);  // no multiline
  EXPECT_EQ(search("a$", "a\nb"), Match::kNoMatch);
}

TEST_P(SchemaRegexTest, EscapesAndClassesAsInEcmaScript) {
  EXPECT_EQ(search("^\\d+$", "0123456789"), Match::kMatch);
  EXPECT_EQ(search("^\\d$", "\u0663"), Match::kNoMatch);  // ARABIC-INDIC DIGIT THREE: \d is ASCII
  EXPECT_EQ(search("^\\w+$", "snake_case_2"), Match::kMatch);
  EXPECT_EQ(search("^\\w$", "\u00e9"), Match::kNoMatch);
  EXPECT_EQ(search("^\\s$", "\t"), Match::kMatch);
  EXPECT_EQ(search("^[A-Z][a-z]{2,}$", "Ada"), Match::kMatch);
  EXPECT_EQ(search("^[A-Z][a-z]{2,}$", "ADA"), Match::kNoMatch);
  EXPECT_EQ(search("^[^0-9]+$", "abc"), Match::kMatch);
  EXPECT_EQ(search("^[^0-9]+$", "ab1"), Match::kNoMatch);
  EXPECT_EQ(search("^(?:ab|cd)+$", "abcdab"), Match::kMatch);
  EXPECT_EQ(search("^a.c$", "a\nc"), Match::kNoMatch);  // . excludes line terminators
  EXPECT_EQ(search("^a.c$", "a\rc"), Match::kNoMatch);
  EXPECT_EQ(search("[]", "a"), Match::kNoMatch);    // the empty class matches nothing...
  EXPECT_EQ(search("^[^]$", "\n"), Match::kMatch);  // ...and its negation anything
  EXPECT_EQ(search("^\\x41$", "A"), Match::kMatch);
  EXPECT_EQ(search("^\\U$", "U"), Match::kMatch);
  EXPECT_EQ(search("^\\/\\.\\-$", "/.-"), Match::kMatch);
}

TEST_P(SchemaRegexTest, UnicodePatternsAndSubjects) {
  EXPECT_EQ(search("^caf\u00e9$", "caf\u00e9"), Match::kMatch);   // UTF-8 literal in the pattern
  EXPECT_EQ(search("^caf\\u00e9$", "caf\u00e9"), Match::kMatch);  // \uXXXX escape
  EXPECT_EQ(search("^caf\\u00e9$", "cafe"), Match::kNoMatch);
  EXPECT_EQ(search("^\\u{1F600}$", "\U0001F600"), Match::kMatch);
  EXPECT_EQ(search("^.{4}$", "caf\u00e9"), Match::kMatch);  // four characters, five bytes
  EXPECT_EQ(search("^.$", "\U0001F600"), Match::kMatch);
  EXPECT_EQ(search("^[\u00e0-\u00ff]+$", "\u00e9\u00e8"), Match::kMatch);
  EXPECT_EQ(search("^\\p{L}+$", "\u03a9mega"), Match::kMatch);
  EXPECT_EQ(search("^\\p{Lu}", "\u03c9mega"), Match::kNoMatch);
}

TEST_P(SchemaRegexTest, InvalidUtf8Subjects) {
  const SchemaRegex anchored = compiled("^a");
  EXPECT_EQ(anchored.search("a\xff"), Match::kMatch);  // invalid bytes match nothing
  EXPECT_EQ(anchored.search("\xff"
                            "a"),
            Match::kNoMatch);
  // Behind the interpreter's lazy prefix the subject must be valid UTF-8.
  const SchemaRegex unanchored = compiled("b");
  EXPECT_EQ(unanchored.search("a\xff"
                              "b"),
            unanchored.jit() ? Match::kMatch : Match::kUndecided);
}

TEST_P(SchemaRegexTest, CatastrophicPatternsGiveUpInsteadOfHanging) {
  const std::string subject = std::string(40, 'a') + "!";
  EXPECT_EQ(search("^(a+)+$", subject), Match::kUndecided);
  EXPECT_EQ(search("^(a|aa)*$", subject), Match::kUndecided);
  // Not anchored: 2^15 steps at every start position, under the limit at each one. The limit
  // must bound the whole search (PCRE2's interpreter alone would take seconds, then say no).
  EXPECT_EQ(search("(?:a|a){0,15}$", std::string(5000, 'a') + "!"), Match::kUndecided);
}

TEST_P(SchemaRegexTest, LongSubjectsAreSearched) {
  const std::string long_a(100'000, 'a');
  const SchemaRegex letters = compiled("^[a-z]+$");
  EXPECT_EQ(letters.search(long_a), Match::kMatch);
  // Failing at the end, the interpreter counts a step per character given back.
  EXPECT_EQ(letters.search(long_a + "1"), letters.jit() ? Match::kNoMatch : Match::kUndecided);
  EXPECT_EQ(letters.search(std::string(10'000, 'a') + "1"), Match::kNoMatch);
  EXPECT_EQ(search("^(a|b)*$", std::string(100'000, 'c')), Match::kNoMatch);
  // A repeated group remembers every iteration: JIT retries on a larger stack; the interpreter
  // reaches its limits first.
  const SchemaRegex group = compiled("^(a|b)*$");
  EXPECT_EQ(group.search(long_a), group.jit() ? Match::kMatch : Match::kUndecided);
  const SchemaRegex letter = compiled("z");
  EXPECT_EQ(letter.search(std::string(10'000, 'a') + "z"), Match::kMatch);
  EXPECT_EQ(letter.search(std::string(10'000, 'a')), Match::kNoMatch);
}

TEST_P(SchemaRegexTest, CopiesShareTheCodeAcrossThreads) {
  std::vector<SchemaRegex> copies(4, compiled("^(?:[a-z0-9]+\\.)*[a-z]+$"));
  std::string host;
  for (int i = 0; i < 2000; ++i) {
    host += "ab.";  // long enough for the JIT retry path
  }
  host += "z";
  std::vector<int> matches(copies.size(), 0);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < copies.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        matches[t] += copies[t].search(host) == Match::kMatch ? 1 : 0;
        matches[t] += copies[t].search("a..b") == Match::kNoMatch ? 1 : 0;
      }
    });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(matches, std::vector<int>(copies.size(), 100));
}

TEST(SchemaRegexErrorTest, BadPatternsSayWhatAndWhere) {
  std::string error;
  EXPECT_FALSE(SchemaRegex::compile("^(ab", error).has_value());
  EXPECT_EQ(error, "missing closing parenthesis at offset 4");
  EXPECT_EQ(SchemaRegex::check("^(ab"), "missing closing parenthesis at offset 4");
  EXPECT_EQ(SchemaRegex::check("ab[c"), "missing terminating ] for character class at offset 4");
  EXPECT_EQ(SchemaRegex::check("a{2,1}"), "numbers out of order in {} quantifier at offset 5");
  EXPECT_EQ(SchemaRegex::check("*a"), "quantifier does not follow a repeatable item at offset 0");
  // \C would match one byte of a UTF-8 character.
  EXPECT_EQ(SchemaRegex::check("a\\Cb"), "using \\C is disabled by the application at offset 3");
  EXPECT_EQ(SchemaRegex::check("^[a-z]+$"), "");
  EXPECT_TRUE(SchemaRegex::compile("^[a-z]+$", error).has_value());
  EXPECT_EQ(error, "");
}

TEST(SchemaRegexErrorTest, InterpreterKeepsPatternsThatOnlyCompileAlone) {
  // "\Q" quotes to the end, so the prefixed form's closing ")" would be quoted too.
  std::string error;
  const std::optional<SchemaRegex> quoted =
      SchemaRegex::compile("\\Qa)(b", error, Engine::kInterpreter);
  ASSERT_TRUE(quoted.has_value()) << error;
  EXPECT_EQ(quoted->search("xa)(by"), Match::kMatch);
  EXPECT_EQ(quoted->search("xa)by"), Match::kNoMatch);
}

}  // namespace
}  // namespace sheepdog::llm
