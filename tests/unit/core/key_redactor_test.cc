#include "core/key_redactor.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/random.h"

namespace sheepdog {
namespace {

TEST(KeyRedactorTest, ReplacesEveryConfiguredKeyWithItsFingerprint) {
  const KeyRedactor redactor({"sk-proj-abcdefghijklmnop1234", "sk-other-zzzzzzzzzzzz9999"});
  std::string body =
      R"({"error":{"message":"you sent Authorization: Bearer sk-proj-abcdefghijklmnop1234 )"
      R"(and sk-other-zzzzzzzzzzzz9999, sk-proj-abcdefghijklmnop1234 again"}})";
  EXPECT_TRUE(redactor.redact(body));
  EXPECT_EQ(body,
            R"({"error":{"message":"you sent Authorization: Bearer [redacted key sk-p...1234] )"
            R"(and [redacted key sk-o...9999], [redacted key sk-p...1234] again"}})");
}

TEST(KeyRedactorTest, LeavesTextWithoutKeysAlone) {
  const KeyRedactor redactor({"sk-proj-abcdefghijklmnop1234"});
  std::string body = "sk-proj-abcdefghijklmnop123 is one short; sk-proj-abc is a prefix";
  const std::string before = body;
  EXPECT_FALSE(redactor.redact(body));
  EXPECT_EQ(body, before);
  std::string empty;
  EXPECT_FALSE(redactor.redact(empty));
  EXPECT_FALSE(KeyRedactor().redact(body));
}

TEST(KeyRedactorTest, KeysAtTheEdgesAndBackToBack) {
  const KeyRedactor redactor({"KEY-0123456789ab"});
  std::string body = "KEY-0123456789abKEY-0123456789ab";
  EXPECT_TRUE(redactor.redact(body));
  EXPECT_EQ(body, "[redacted key KEY-...89ab][redacted key KEY-...89ab]");
}

TEST(KeyRedactorTest, TheLongerOfTwoKeysSharingAPrefixWins) {
  const KeyRedactor redactor({"sk-shared-prefix-0001", "sk-shared-prefix-0001-and-more"});
  std::string body = "a sk-shared-prefix-0001-and-more b sk-shared-prefix-0001 c";
  EXPECT_TRUE(redactor.redact(body));
  EXPECT_EQ(body, "a [redacted key sk-s...more] b [redacted key sk-s...0001] c");
}

TEST(KeyRedactorTest, ShortKeysAreRedactedToo) {
  const KeyRedactor redactor({"abc", "sk-longer-key-000000"});
  std::string body = "xabcx sk-longer-key-000000";
  EXPECT_TRUE(redactor.redact(body));
  EXPECT_EQ(body, "x" + KeyRedactor::replacement("abc") + "x [redacted key sk-l...0000]");
  EXPECT_TRUE(KeyRedactor::replacement("abc").starts_with("[redacted key key#"));
  EXPECT_EQ(body.find("abc"), std::string::npos);
}

TEST(KeyRedactorTest, ExtraKeyIsRedactedAlongside) {
  const KeyRedactor redactor({"sk-configured-000000000"});
  std::string body = "client sk-client-own-key-1111 and sk-configured-000000000";
  EXPECT_TRUE(redactor.redact(body, "sk-client-own-key-1111"));
  EXPECT_EQ(body, "client [redacted key sk-c...1111] and [redacted key sk-c...0000]");
}

// Thousands of keys (large key pools): every one embedded in the text is found in one pass.
TEST(KeyRedactorTest, FindsKeysAmongThousands) {
  SeededRandom random(7);
  std::vector<std::string> keys;
  const std::string alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  for (int i = 0; i < 5000; ++i) {
    std::string key = "sk-";
    const size_t length = 20 + random.next_u64() % 30;
    for (size_t j = 0; j < length; ++j) {
      key += alphabet[random.next_u64() % alphabet.size()];
    }
    keys.push_back(key);
  }
  const KeyRedactor redactor(keys);
  EXPECT_EQ(redactor.size(), keys.size());
  std::string body;
  for (int i = 0; i < 5000; i += 97) {
    body += "filler text " + keys[static_cast<size_t>(i)] + " ";
  }
  EXPECT_TRUE(redactor.redact(body));
  for (const std::string& key : keys) {
    EXPECT_EQ(body.find(key), std::string::npos) << key;
  }
  EXPECT_NE(body.find("[redacted key sk-"), std::string::npos);
}

}  // namespace
}  // namespace sheepdog
