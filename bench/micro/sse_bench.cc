// Throughput of the SSE parser on an OpenAI-style completion stream, fed in network-sized
// chunks and in tiny ones (the worst case for line reassembly).
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "upstream/sse_parser.h"

namespace {

std::string openai_stream(int events) {
  std::string out;
  for (int i = 0; i < events; ++i) {
    out +=
        "data: {\"id\":\"chatcmpl-9x\",\"object\":\"chat.completion.chunk\",\"created\":1732000000,"
        "\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"token" +
        std::to_string(i) + "\"},\"finish_reason\":null}]}\n\n";
  }
  out += "data: [DONE]\n\n";
  return out;
}

void BM_SseParse(benchmark::State& state) {
  const std::string stream = openai_stream(1000);
  const size_t chunk = static_cast<size_t>(state.range(0));
  std::vector<sheepdog::upstream::SseEvent> events;
  for (auto _ : state) {
    sheepdog::upstream::SseParser parser;
    events.clear();
    for (size_t at = 0; at < stream.size(); at += chunk) {
      parser.feed(std::string_view(stream).substr(at, chunk), events);
    }
    benchmark::DoNotOptimize(events.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * stream.size()));
  state.counters["events"] = static_cast<double>(events.size());
}
BENCHMARK(BM_SseParse)->Arg(7)->Arg(1460)->Arg(16384);

}  // namespace
