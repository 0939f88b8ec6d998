// Fuzz target: what an OpenAI-compatible upstream answers, through the OpenAI provider
// (providers/openai_provider.h): the body of a 2xx answer decoded as a chat completion and as
// embeddings, the same bytes as an error body to relay (4xx and 5xx), as the body classify()
// scans for hints, and as an SSE stream relayed by the stream decoder (whole and in pieces,
// which must agree) and assembled into one completion as the answer validator would see it.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "fuzz/fuzz_support.h"
#include "fuzz/stream_check.h"
#include "providers/openai_provider.h"
#include "resilience/outcome.h"
#include "upstream/http_message.h"

namespace {

using sheepdog::providers::Operation;
using sheepdog::upstream::UpstreamResponse;

using sheepdog::fuzz::response_with;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body = sheepdog::fuzz::as_text(data, size);
  static const sheepdog::providers::OpenAIProvider provider;

  const UpstreamResponse ok = response_with(200, body);
  provider.decode(Operation::kChatCompletions, ok);
  provider.decode(Operation::kEmbeddings, ok);
  for (const int status : {400, 404, 429, 500, 503}) {
    const UpstreamResponse error = response_with(status, body);
    provider.relay_error_body(error);
    sheepdog::classify(sheepdog::upstream::attempt_response(error));
  }
  sheepdog::classify(sheepdog::upstream::attempt_response(ok));

  const sheepdog::fuzz::StreamRun run = sheepdog::fuzz::check_stream(
      [] {
        sheepdog::providers::EncodeInput input;
        return provider.stream_decoder(input);
      },
      body);
  sheepdog::fuzz::assemble(run.out);
  return 0;
}
