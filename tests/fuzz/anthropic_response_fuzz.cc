// Fuzz target: what an Anthropic upstream answers, through the Anthropic provider
// (providers/anthropic_provider.h, anthropic_messages.h, anthropic_stream.h): the body of a 2xx
// answer translated to a chat.completion, the same bytes as an error body (Anthropic's envelope
// or not) translated to OpenAI's, and as a Messages event stream translated to OpenAI chunks by
// the stream decoder (whole and in pieces, which must agree; with and without the usage chunk),
// then assembled into one completion as the answer validator would see it.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "fuzz/fuzz_support.h"
#include "fuzz/stream_check.h"
#include "providers/anthropic_messages.h"
#include "providers/anthropic_provider.h"
#include "providers/anthropic_stream.h"
#include "upstream/http_message.h"

namespace {

using sheepdog::providers::Operation;
using sheepdog::upstream::UpstreamResponse;

using sheepdog::fuzz::response_with;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body = sheepdog::fuzz::as_text(data, size);
  static const sheepdog::providers::AnthropicProvider provider;

  provider.decode(Operation::kChatCompletions, response_with(200, body));
  for (const int status : {400, 429, 529}) {
    provider.relay_error_body(response_with(status, body));
  }
  sheepdog::providers::to_openai_error_body(body);

  // A fixed `created`, so both runs stamp the same chunks.
  const bool include_usage = (sheepdog::fuzz::input_hash(body) & 1) != 0;
  const sheepdog::fuzz::StreamRun run = sheepdog::fuzz::check_stream(
      [include_usage] {
        return std::make_unique<sheepdog::providers::AnthropicStreamDecoder>(include_usage,
                                                                             1700000000);
      },
      body);
  sheepdog::fuzz::assemble(run.out);
  return 0;
}
