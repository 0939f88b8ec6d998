// Cost of the metrics hot path: one counter increment, one histogram observation, on a cell
// looked up once (as the gateway does), from one thread and from two threads sharing the cell
// (the worst case for the atomics: both io threads bumping the same series).
#include <benchmark/benchmark.h>

#include "telemetry/metrics.h"

namespace sheepdog {
namespace {

MetricsRegistry& registry() {
  static MetricsRegistry r;
  return r;
}

Counter& shared_counter() {
  static Counter& c =
      registry().counter("bench_requests_total", "Bench.", {"model"}).with({"gpt-4o"});
  return c;
}

Histogram& shared_histogram() {
  static Histogram& h = registry()
                            .histogram("bench_latency_seconds", "Bench.", {"model"},
                                       default_latency_buckets_seconds())
                            .with({"gpt-4o"});
  return h;
}

void BM_CounterInc(benchmark::State& state) {
  Counter& c = shared_counter();
  for (auto _ : state) {
    c.inc();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CounterInc)->Threads(1)->Threads(2)->UseRealTime();

void BM_CounterAddDouble(benchmark::State& state) {
  Counter& c = shared_counter();
  for (auto _ : state) {
    c.add(0.001);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CounterAddDouble)->Threads(1)->Threads(2)->UseRealTime();

void BM_HistogramObserve(benchmark::State& state) {
  Histogram& h = shared_histogram();
  double v = 0.0001;
  for (auto _ : state) {
    h.observe(v);
    v = v < 100 ? v * 1.7 : 0.0001;  // walk all buckets, +Inf included
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HistogramObserve)->Threads(1)->Threads(2)->UseRealTime();

// The per-request lookup a caller pays if it does not keep the reference.
void BM_CounterLookupAndInc(benchmark::State& state) {
  CounterFamily& family = registry().counter("bench_lookup_total", "Bench.", {"model", "outcome"});
  for (auto _ : state) {
    family.with({"gpt-4o", "ok"}).inc();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CounterLookupAndInc)->Threads(1)->Threads(2)->UseRealTime();

}  // namespace
}  // namespace sheepdog
