#include "mock/mock_content.h"

#include <algorithm>
#include <array>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <cmath>

#include "mock/mock_schema_args.h"
#include "mock/mock_tool_faults.h"

namespace sheepdog::mock {
namespace {

namespace json = boost::json;

constexpr std::array<std::string_view, 32> kWords = {
    "the",    "gateway", "retries", "request",  "model",   "answer",  "quickly", "with",
    "tokens", "stream",  "budget",  "upstream", "breaker", "latency", "cost",    "route",
    "and",    "a",       "second",  "fallback", "keeps",   "calls",   "safe",    "under",
    "load",   "when",    "errors",  "happen",   "every",   "client",  "waits",   "less"};

constexpr std::string_view kIdAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

// SplitMix64 (Steele, Lea, Flood 2014): a tiny, well-mixed generator for content that must
// depend on the request only, not on the server's random stream.
uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

constexpr size_t kCharsPerToken = 4;

}  // namespace

std::vector<std::string_view> ChatReply::pieces() const {
  const std::string_view all = tool_call ? std::string_view(tool_call->arguments) : text;
  std::vector<std::string_view> out;
  for (size_t i = 0; i < all.size(); i += kCharsPerToken) {
    out.push_back(all.substr(i, kCharsPerToken));
  }
  return out;
}

size_t approx_tokens(std::string_view text) {
  return (text.size() + kCharsPerToken - 1) / kCharsPerToken;
}

size_t approx_prompt_tokens(const ChatCall& call) {
  return approx_tokens(call.prompt_text) + 3 * call.message_count + 3;
}

uint64_t fnv1a(std::string_view data) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (unsigned char c : data) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

std::string generate_text(size_t tokens, uint64_t seed) {
  const size_t length = tokens * kCharsPerToken;
  std::string text;
  text.reserve(length + 16);
  uint64_t state = seed;
  bool sentence_start = true;
  while (text.size() < length) {
    std::string word(kWords[splitmix64(state) % kWords.size()]);
    if (sentence_start) {
      word[0] = static_cast<char>(word[0] - 'a' + 'A');
      sentence_start = false;
    }
    if (!text.empty()) {
      text += ' ';
    }
    text += word;
    if (splitmix64(state) % 8 == 0) {
      text += '.';
      sentence_start = true;
    }
  }
  text.resize(length);
  return text;
}

std::string random_id(std::string_view prefix, size_t length, RandomSource& random) {
  std::string id(prefix);
  for (size_t i = 0; i < length; ++i) {
    id += kIdAlphabet[random.next_u64() % kIdAlphabet.size()];
  }
  return id;
}

ChatReply make_chat_reply(const ChatCall& call, Outcome outcome, const MockConfig& config,
                          RandomSource& random, int64_t created) {
  ChatReply reply;
  reply.id = random_id("chatcmpl-", 29, random);
  reply.created = created;
  reply.model = call.model;
  reply.prompt_tokens = approx_prompt_tokens(call);
  if (!call.tools.empty()) {
    const ToolSpec* tool = &call.tools.front();
    if (call.forced_tool) {
      for (const ToolSpec& candidate : call.tools) {
        if (candidate.name == *call.forced_tool) {
          tool = &candidate;
        }
      }
    }
    const json::value arguments = arguments_from_schema(tool->parameters);
    std::string text = break_json(tool->parameters, arguments, outcome, random).text;
    std::string name = outcome == Outcome::kToolUnknownTool
                           ? unknown_tool_name(call.tools, tool->name)
                           : tool->name;
    reply.tool_call =
        ToolCallReply{random_id("call_", 24, random), std::move(name), std::move(text)};
    reply.finish_reason = "tool_calls";
    reply.completion_tokens =
        approx_tokens(reply.tool_call->name) + approx_tokens(reply.tool_call->arguments);
    return reply;
  }
  const size_t tokens = call.max_tokens ? std::min(*call.max_tokens, config.max_completion_tokens)
                                        : config.completion_tokens;
  reply.text = generate_text(tokens, fnv1a(call.model) ^ fnv1a(call.prompt_text));
  reply.finish_reason = "stop";
  reply.completion_tokens = tokens;
  if (call.response_format != ResponseFormat::kText) {
    const json::value content = call.response_format == ResponseFormat::kJsonSchema
                                    ? arguments_from_schema(call.response_schema)
                                    : json::value(json::object{{"answer", reply.text}});
    reply.text = break_json(call.response_schema, content, outcome, random).text;
    reply.completion_tokens = approx_tokens(reply.text);
  }
  return reply;
}

std::vector<float> embedding_vector(std::string_view input, size_t dimensions) {
  std::vector<float> vector(dimensions);
  uint64_t state = fnv1a(input);
  double norm = 0;
  for (float& x : vector) {
    // Uniform in [-1, 1) from the top 24 bits.
    x = static_cast<float>(static_cast<double>(splitmix64(state) >> 40) / (1 << 23) - 1.0);
    norm += static_cast<double>(x) * x;
  }
  norm = std::sqrt(norm);
  if (norm > 0) {
    for (float& x : vector) {
      x = static_cast<float>(x / norm);
    }
  }
  return vector;
}

}  // namespace sheepdog::mock
