// Fuzz target: the inbound Anthropic Messages translation (providers/anthropic_inbound.h and
// anthropic_inbound_stream.h), both directions on the same bytes:
//   - as what a /v1/messages client sends: to_openai_request(), and what it becomes on an
//     Anthropic deployment again (to_anthropic_request, the outbound translation);
//   - as the chat.completion the engine answers: to_anthropic_message(), usage, error bodies;
//   - as the OpenAI chunk stream the engine writes: AnthropicStreamEncoder, fed whole and in
//     pieces, which must write the same Anthropic events and end the same way.
#include <boost/json/parse.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>

#include "fuzz/fuzz_support.h"
#include "providers/anthropic_inbound.h"
#include "providers/anthropic_inbound_stream.h"
#include "providers/anthropic_messages.h"

namespace {

namespace json = boost::json;
using sheepdog::providers::AnthropicStreamEncoder;

struct Encoded {
  std::string out;
  bool finished = false;
  bool failed = false;
};

Encoded encode_stream(const std::vector<std::string_view>& pieces) {
  AnthropicStreamEncoder encoder("claude-fuzz");
  Encoded result;
  for (const std::string_view piece : pieces) {
    encoder.feed(piece, result.out);
  }
  encoder.finish(result.out);
  result.finished = encoder.finished();
  result.failed = encoder.failed();
  return result;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = sheepdog::fuzz::as_text(data, size);

  boost::system::error_code ec;
  const json::value parsed = json::parse(text, ec);
  if (!ec && parsed.is_object()) {
    const json::object& object = parsed.get_object();
    auto request = sheepdog::providers::to_openai_request(object);
    if (const json::object* openai = std::get_if<json::object>(&request)) {
      sheepdog::providers::to_anthropic_request(*openai, "claude-upstream");
    }
    sheepdog::providers::to_anthropic_message(object, "claude-fuzz");
    if (const json::value* usage = object.if_contains("usage"); usage && usage->is_object()) {
      sheepdog::providers::to_anthropic_usage(usage->get_object());
    }
  }
  for (const int status : {0, 400, 401, 404, 413, 429, 500, 503, 504}) {
    sheepdog::providers::to_anthropic_error_body(status, text);
  }
  sheepdog::providers::anthropic_message_id(text.substr(0, 64));
  sheepdog::providers::to_anthropic_stop_reason(text.substr(0, 32));

  const Encoded whole = encode_stream({text});
  const Encoded split = encode_stream(sheepdog::fuzz::chunks_of(text));
  if (whole.out != split.out || whole.finished != split.finished ||
      whole.failed != split.failed) {
    sheepdog::fuzz::invariant_failed(
        "the Anthropic stream encoder's output depends on how the chunks were split");
  }
  if (!whole.finished) {
    sheepdog::fuzz::invariant_failed("the Anthropic stream is not finished after finish()");
  }
  return 0;
}
