// What the mock says, independent of the provider's wire format: the decoded essentials of a
// chat request (ChatCall), the answer made for it (ChatReply: text or one tool call, token
// counts), generated text, and embedding vectors. Provider files (mock_openai.h,
// mock_anthropic.h) decode requests into ChatCall and encode ChatReply.
//
// Token counts are approximations: ceil(characters / 4), OpenAI's rule of thumb for English,
// not a tokenizer. Generated text is exactly 4 characters per token so the counts it reports
// for itself are exact, and it is streamed one 4-character piece (one "token") per chunk.
#pragma once

#include <boost/json/value.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/random.h"
#include "mock/mock_config.h"

namespace sheepdog::mock {

struct ToolSpec {
  std::string name;
  boost::json::value parameters;  // JSON Schema; null when the tool declared none
};

// OpenAI's response_format: free text, any JSON object, or JSON that follows a schema.
enum class ResponseFormat : unsigned char { kText, kJsonObject, kJsonSchema };

struct ChatCall {
  std::string model;
  bool stream = false;
  bool include_usage = false;        // stream_options.include_usage
  std::optional<size_t> max_tokens;  // max_tokens or max_completion_tokens
  std::string prompt_text;           // every message's text, concatenated
  size_t message_count = 0;
  std::vector<ToolSpec> tools;             // empty when tool_choice is "none"
  std::optional<std::string> forced_tool;  // tool_choice naming one function
  ResponseFormat response_format = ResponseFormat::kText;
  boost::json::value response_schema;  // json_schema.schema under kJsonSchema; else null
};

struct ToolCallReply {
  std::string id;  // "call_..." (Anthropic: "toolu_...")
  std::string name;
  std::string arguments;  // JSON text (or deliberately broken text)
};

struct ChatReply {
  std::string id;       // "chatcmpl-..." (Anthropic: "msg_...")
  int64_t created = 0;  // Unix seconds
  std::string model;
  std::string text;  // empty iff tool_call is set
  std::optional<ToolCallReply> tool_call;
  std::string finish_reason;  // "stop" or "tool_calls" (Anthropic: its stop_reason)
  size_t prompt_tokens = 0;
  size_t completion_tokens = 0;

  // What a stream carries one chunk at a time: the text, or the tool arguments, cut into
  // 4-character pieces (the last may be shorter). Views into this reply.
  std::vector<std::string_view> pieces() const;
};

// ceil(size / 4).
size_t approx_tokens(std::string_view text);
// Prompt tokens as OpenAI counts chat input: the text plus 3 per message and 3 for the reply's
// priming (its published counting recipe), here over approx_tokens().
size_t approx_prompt_tokens(const ChatCall& call);

// FNV-1a, 64-bit: stable seeds from request content.
uint64_t fnv1a(std::string_view data);

// Pseudo-English of exactly 4 * tokens characters, the same for the same (tokens, seed).
std::string generate_text(size_t tokens, uint64_t seed);

// "prefix" + `length` random alphanumerics, as OpenAI's ids look.
std::string random_id(std::string_view prefix, size_t length, RandomSource& random);

// The answer to `call` for an outcome that produces one (ok, slow_stream, truncated_stream and
// the tool faults of mock_tool_faults.h): a tool call when the call has tools (to the forced
// tool, else the first), with arguments from the tool's schema, broken as the outcome says.
// Otherwise, under a json_schema response_format, content made from that schema as tool
// arguments are, and under json_object {"answer": TEXT} with TEXT as below; either broken as
// the outcome says (tool_unknown_tool has nothing to rename there). Otherwise text of
// max_tokens (capped at config.max_completion_tokens) or config.completion_tokens tokens,
// seeded by the prompt so the same request reads the same. Draws the ids from `random`.
ChatReply make_chat_reply(const ChatCall& call, Outcome outcome, const MockConfig& config,
                          RandomSource& random, int64_t created);

// A unit-length vector of `dimensions` floats determined by `input` alone.
std::vector<float> embedding_vector(std::string_view input, size_t dimensions);

}  // namespace sheepdog::mock
