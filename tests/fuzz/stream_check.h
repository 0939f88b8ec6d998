// For the provider targets: an upstream answer made of the input (response_with); runs a
// StreamDecoder over an upstream body fed whole and fed in
// pieces, requires both runs to agree (what the client is sent must not depend on how the
// upstream's bytes were split into reads), and assembles what was relayed into one
// chat.completion the way the answer validator sees a stream (llm/tool_call_assembler.h).
#pragma once

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_support.h"
#include "llm/tool_call_assembler.h"
#include "providers/provider.h"
#include "upstream/http_message.h"
#include "upstream/sse_parser.h"

namespace sheepdog::fuzz {

// A JSON answer with `status` and `body`, as the upstream client would hand it over.
inline upstream::UpstreamResponse response_with(int status, std::string_view body) {
  upstream::UpstreamResponse response;
  response.status = status;
  response.headers.add("content-type", "application/json");
  response.body = std::string(body);
  return response;
}

struct StreamRun {
  std::string out;  // everything relayed to the client
  bool failed = false;
  bool done = false;
  bool upstream_error = false;
  size_t events = 0;
  providers::TokenUsage usage;
};

// Feeds `pieces` in order as the relay does: stops at the first failed or done step.
inline StreamRun run_stream(providers::StreamDecoder& decoder,
                            const std::vector<std::string_view>& pieces) {
  StreamRun run;
  for (const std::string_view piece : pieces) {
    const providers::StreamDecoder::Step step = decoder.feed(piece, run.out);
    run.events += step.events;
    run.upstream_error = run.upstream_error || step.upstream_error;
    if (step.failed) {
      run.failed = true;
      break;
    }
    if (step.done) {
      run.done = true;
      break;
    }
  }
  run.usage = decoder.usage();
  return run;
}

// Runs two decoders from `make` over `body` (whole, then in pieces); aborts if they disagree.
// Returns the whole run.
inline StreamRun check_stream(const std::function<std::unique_ptr<providers::StreamDecoder>()>& make,
                              std::string_view body) {
  std::unique_ptr<providers::StreamDecoder> whole_decoder = make();
  std::unique_ptr<providers::StreamDecoder> split_decoder = make();
  StreamRun whole = run_stream(*whole_decoder, {body});
  StreamRun split = run_stream(*split_decoder, chunks_of(body));
  if (whole.out != split.out || whole.failed != split.failed || whole.done != split.done ||
      whole.upstream_error != split.upstream_error || whole.events != split.events ||
      whole.usage.reported != split.usage.reported ||
      whole.usage.prompt_tokens != split.usage.prompt_tokens ||
      whole.usage.completion_tokens != split.usage.completion_tokens) {
    invariant_failed("a stream decoder's output depends on how the upstream bytes were split");
  }
  return whole;
}

// The chat.completion the relayed OpenAI events amount to, serialized (as the gateway's stream
// gate assembles a held stream before validating it).
inline std::string assemble(std::string_view relayed) {
  upstream::SseParser parser;
  std::vector<upstream::SseEvent> events;
  parser.feed(relayed, events);
  llm::ToolCallAssembler assembler;
  for (const upstream::SseEvent& event : events) {
    if (event.is_done()) {
      break;
    }
    boost::system::error_code ec;
    const boost::json::value chunk = boost::json::parse(event.data, ec);
    if (!ec && chunk.is_object()) {
      assembler.add(chunk.get_object());
    }
  }
  return boost::json::serialize(assembler.completion());
}

}  // namespace sheepdog::fuzz
