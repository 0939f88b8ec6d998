#include "core/error_kind.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace sheepdog {
namespace {

TEST(ErrorKindTest, NamesRoundTripAndAreUnique) {
  std::set<std::string> names;
  for (ErrorKind kind : all_error_kinds()) {
    const std::string_view name = to_string(kind);
    EXPECT_FALSE(name.empty());
    EXPECT_EQ(parse_error_kind(name), kind) << name;
    names.insert(std::string(name));
  }
  EXPECT_EQ(names.size(), kErrorKindCount);
}

TEST(ErrorKindTest, StableNames) {
  EXPECT_EQ(to_string(ErrorKind::kRateLimited), "rate_limited");
  EXPECT_EQ(to_string(ErrorKind::kContextLengthExceeded), "context_length_exceeded");
  EXPECT_EQ(to_string(ErrorKind::kCancelled), "cancelled");
}

TEST(ErrorKindTest, ParseRejectsUnknownAndNonCanonicalNames) {
  EXPECT_EQ(parse_error_kind(""), std::nullopt);
  EXPECT_EQ(parse_error_kind("Rate_Limited"), std::nullopt);
  EXPECT_EQ(parse_error_kind("rate-limited"), std::nullopt);
  EXPECT_EQ(parse_error_kind("teapot"), std::nullopt);
}

TEST(ErrorKindTest, AllKindsInDeclarationOrder) {
  const auto& kinds = all_error_kinds();
  ASSERT_EQ(kinds.size(), kErrorKindCount);
  for (size_t i = 0; i < kinds.size(); ++i) {
    EXPECT_EQ(static_cast<size_t>(kinds[i]), i);
  }
  EXPECT_EQ(kinds.front(), ErrorKind::kRateLimited);
  EXPECT_EQ(kinds.back(), ErrorKind::kCancelled);
}

TEST(ErrorKindTest, DefaultDispositions) {
  const struct {
    ErrorKind kind;
    Disposition disposition;
  } cases[] = {
      {ErrorKind::kRateLimited, Disposition::kRetry},
      {ErrorKind::kQuotaExhausted, Disposition::kFallBack},
      {ErrorKind::kOverloaded, Disposition::kRetry},
      {ErrorKind::kServerError, Disposition::kRetry},
      {ErrorKind::kTimeout, Disposition::kRetry},
      {ErrorKind::kConnectFailed, Disposition::kRetry},
      {ErrorKind::kConnectionReset, Disposition::kRetry},
      {ErrorKind::kAuth, Disposition::kFallBack},
      {ErrorKind::kBadRequest, Disposition::kFail},
      {ErrorKind::kContextLengthExceeded, Disposition::kFallBack},
      {ErrorKind::kContentFiltered, Disposition::kFallBack},
      {ErrorKind::kMalformedResponse, Disposition::kRetry},
      {ErrorKind::kResponseTooLarge, Disposition::kFallBack},
      {ErrorKind::kInvalidToolCall, Disposition::kRetry},
      {ErrorKind::kBudgetExceeded, Disposition::kFail},
      {ErrorKind::kCircuitOpen, Disposition::kFallBack},
      {ErrorKind::kDeadlineExceeded, Disposition::kFail},
      {ErrorKind::kCancelled, Disposition::kFail},
  };
  static_assert(std::size(cases) == kErrorKindCount);
  for (const auto& c : cases) {
    EXPECT_EQ(default_disposition(c.kind), c.disposition) << to_string(c.kind);
  }
}

TEST(DispositionTest, NamesRoundTrip) {
  EXPECT_EQ(to_string(Disposition::kRetry), "retry");
  EXPECT_EQ(to_string(Disposition::kFallBack), "fallback");
  EXPECT_EQ(to_string(Disposition::kFail), "fail");
  for (Disposition d : {Disposition::kRetry, Disposition::kFallBack, Disposition::kFail}) {
    EXPECT_EQ(parse_disposition(to_string(d)), d);
  }
  EXPECT_EQ(parse_disposition("fall_back"), std::nullopt);
  EXPECT_EQ(parse_disposition(""), std::nullopt);
}

}  // namespace
}  // namespace sheepdog
