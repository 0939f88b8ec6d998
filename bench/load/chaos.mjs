// Live chaos run: the simulator's `mixed-faults-10k` and `outage` scenarios (src/sim/
// builtin_scenarios.cc) replayed through the REAL gateway: two `sheepdog mock` processes as the
// primary and fallback providers, `sheepdog serve` configured like the simulator's
// `exponential-jitter-breaker` strategy (with and without `+budget`), and an open-loop Poisson
// load generator. Prints the simulator's columns for the live run, with the simulator's own row
// for comparison. Takes about 3 minutes at the default time scale (2 scenarios x 2 strategies).
//
// Time is compressed by --time-scale (default 0.25): every duration (service times, Retry-After,
// timeouts, backoff, breaker open time, brownout and outage windows, the client deadline) is
// multiplied by it and the arrival rate divided by it, so the same requests see the same
// dynamics in a quarter of the time. Latencies are reported back in scenario time (divided by
// the scale).
//
// node bench/load/chaos.mjs [--scenario mixed-faults-10k|outage|all] [--time-scale 0.25]
//     [--requests N] [--seed 1] [--bin build/release/bin/sheepdog] [--no-sim]
//     [--outage-mode blackhole|refused] [--strategies a,b]
//
// The outage: the simulator's primary black-holes connections (each attempt fails at a 5 s
// connect timeout). Live, the primary mock is stopped for the window and its port taken by a
// listener that never accepts, whose accept queue is kept full, so the kernel drops new SYNs
// and the gateway's connects time out (needs python3; --outage-mode refused just stops the
// mock, so connections are refused at once).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { Child, percentile, sleep, startGateway, startMock, waitForOutput } from
  '../../tests/e2e/harness.mjs';

const { values } = parseArgs({
  options: {
    scenario: { type: 'string', default: 'all' },
    'time-scale': { type: 'string', default: '0.25' },
    requests: { type: 'string' },
    seed: { type: 'string', default: '1' },
    bin: { type: 'string' },
    'no-sim': { type: 'boolean', default: false },
    'outage-mode': { type: 'string', default: 'blackhole' },
    strategies: { type: 'string',
                  default: 'exponential-jitter-breaker+budget,exponential-jitter-breaker' },
    verbose: { type: 'boolean', default: false },
  },
});
if (values.bin) {
  process.env.SHEEPDOG_BIN = path.resolve(values.bin);
}
const K = Number(values['time-scale']);
if (!(K > 0 && K <= 1)) {
  throw new Error('--time-scale must be in (0, 1]');
}
// Strategies the gateway config can reproduce: the simulator's breaker + fallback strategy,
// with or without the retry budget.
const STRATEGIES = values.strategies.split(',');
for (const name of STRATEGIES) {
  if (!['exponential-jitter-breaker', 'exponential-jitter-breaker+budget'].includes(name)) {
    throw new Error(`--strategies: ${name} is not reproducible as gateway config; use ` +
                    'exponential-jitter-breaker and/or exponential-jitter-breaker+budget');
  }
}

// Scenario parameters, copied from src/sim/builtin_scenarios.cc (seconds, fractions).
const PRIMARY = { median: 0.8, p99: 4, price: 0.005 };
const FALLBACK = { median: 1.0, p99: 5, price: 0.00675 };
const SCENARIOS = {
  'mixed-faults-10k': {
    requests: 10000,
    rate: 50,
    deadline: 30,
    primaryFaultRate: 0.10,
    fallbackFaultRate: 0.10,
    // 30% 429, 30% 500, 25% 503, 15% hang
    mix: { rate_limited: 0.30, server_error: 0.30, service_unavailable: 0.25, hang: 0.15 },
    brownouts: [[40, 50, 0.5], [100, 110, 0.5], [160, 170, 0.5]],
    outages: [],
  },
  outage: {
    requests: 10000,
    rate: 100,
    deadline: 30,
    primaryFaultRate: 0.01,
    fallbackFaultRate: 0.01,
    // the simulator's default mix: 500 40%, 503 40%, hang 20%
    mix: { server_error: 0.40, service_unavailable: 0.40, hang: 0.20 },
    brownouts: [],
    outages: [[30, 60]],
  },
};

const ms = (seconds) => `${Math.max(1, Math.round(seconds * 1000 * K))}ms`;

function profile(upstream, faultRate, mix) {
  const faults = {};
  for (const [name, share] of Object.entries(mix)) {
    faults[name] = +(faultRate * share).toFixed(6);
  }
  return {
    latency: { median: ms(upstream.median), p99: ms(upstream.p99) },
    retry_after: ms(1),
    faults,
  };
}

function mockYaml(p) {
  const faults = Object.entries(p.faults).map(([k, v]) => `${k}: ${v}`).join(', ');
  return `default:\n  latency: {median: ${p.latency.median}, p99: ${p.latency.p99}}\n` +
         `  retry_after: ${p.retry_after}\n  faults: {${faults}}\n`;
}

// The simulator's strategy (src/sim/strategy.cc) as gateway policy, time-scaled: 4 attempts,
// attempt timeout 10 s, total 30 s, exponential backoff 500 ms doubling to 8 s with full jitter,
// Retry-After honoured up to 30 s, the default breaker (open 5 s, x2 per re-trip, up to 60 s),
// with "+budget" the default retry budget (100 tokens, ratio 0.1). Primary first, fallback as
// failover only: a canary at 0% is never preferred, only failed over to (src/routing/router.h).
function gatewayYaml(port, primaryURL, fallbackURL, budget) {
  return `server:
  host: 127.0.0.1
  port: ${port}
  threads: 2
providers:
  primary: {kind: openai, base_url: ${primaryURL}, api_keys: [sk-chaos-primary-0000], connect_timeout: ${ms(5)}}
  fallback: {kind: openai, base_url: ${fallbackURL}, api_keys: [sk-chaos-fallback-000], connect_timeout: ${ms(5)}}
policies:
  default:
    max_attempts: 4
    timeouts: {attempt: ${ms(10)}, total: ${ms(30)}, first_token: 0s}
    backoff: {kind: exponential, base_delay: ${ms(0.5)}, max_delay: ${ms(8)}, multiplier: 2, jitter: full}
    pushback: {honor: true, max: ${ms(30)}}
    prefer_other_deployment: true
    circuit_breaker: {enabled: true, open_duration: ${ms(5)}, max_open_duration: ${ms(60)}}
    retry_budget: {enabled: ${budget}, max_tokens: 100, token_ratio: 0.1}
models:
  gpt-4o-mini:
    deployments:
      - {provider: primary, model: gpt-4o-mini}
      - {provider: fallback, model: gpt-4o-mini}
    routing:
      strategy: canary
      canary: {deployment: 1, percent: 0}
`;
}

// A loopback port that black-holes connections: a listener that never accepts, its accept queue
// filled at once, so the kernel drops further SYNs and connects time out.
const BLACKHOLE_PY = `
import socket, sys, time
port = int(sys.argv[1])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(0)
fillers = []
for _ in range(4):
    c = socket.socket()
    c.setblocking(False)
    c.connect_ex(("127.0.0.1", port))
    fillers.append(c)
time.sleep(0.2)
print("blackhole ready", flush=True)
time.sleep(86400)
`;
async function startBlackhole(port) {
  const child = new Child(`blackhole:${port}`, 'python3', ['-c', BLACKHOLE_PY, String(port)]);
  await waitForOutput(child, /blackhole ready/, 10000);
  return child;
}

// Poisson arrival times (seconds, scenario time) from a small seeded generator (mulberry32).
function arrivals(count, rate, seed) {
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const times = [];
  let t = 0;
  for (let i = 0; i < count; i++) {
    t += -Math.log(1 - uniform()) / rate;
    times.push(t);
  }
  return times;
}

// Counters from the gateway's Prometheus text: the sum of every sample whose name matches.
async function scrape(url) {
  try {
    const response = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) });
    return response.ok ? await response.text() : '';
  } catch {
    return '';
  }
}
function metricSum(text, pattern) {
  let sum = 0;
  let seen = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) {
      continue;
    }
    const match = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/);
    if (match && pattern.test(match[1] + (match[2] || ''))) {
      sum += Number(match[3]);
      seen = true;
    }
  }
  return seen ? sum : null;
}

// Total backoff wait (seconds) from the gateway's per-request JSON log lines ("event":
// "request", "backoff_ms"); null when there are none.
function backoffSeconds(log) {
  let total = 0;
  let seen = 0;
  for (const line of log.split('\n')) {
    if (!line.includes('"event":"request"')) {
      continue;
    }
    try {
      const entry = JSON.parse(line);
      total += Number(entry.backoff_ms || 0);
      seen += 1;
    } catch {
      // a line cut by the shutdown
    }
  }
  return seen ? total / 1000 : null;
}

// The simulator's recovery time (src/sim/metrics.h), on scenario time: from the outage end E,
// the first T >= E (100 ms steps) whose completions in [T, T + 1 s) are >= 1 and >= 95% good.
function recovery(records, outageEnd, horizon) {
  const done = records.map((r) => [r.end, r.ok]).sort((x, y) => x[0] - y[0]);
  for (let t = outageEnd; t <= horizon; t += 0.1) {
    let n = 0;
    let good = 0;
    for (const [end, ok] of done) {
      if (end >= t && end < t + 1) {
        n += 1;
        good += ok ? 1 : 0;
      }
    }
    if (n >= 1 && good / n >= 0.95) {
      return t - outageEnd;
    }
  }
  return null;
}

async function runScenario(name, strategy) {
  const sc = SCENARIOS[name];
  const requests = values.requests ? Number(values.requests) : sc.requests;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sheepdog-chaos-'));
  const primaryProfile = profile(PRIMARY, sc.primaryFaultRate, sc.mix);
  const fallbackProfile = profile(FALLBACK, sc.fallbackFaultRate, sc.mix);
  writeFileSync(path.join(dir, 'primary.yaml'), mockYaml(primaryProfile));
  writeFileSync(path.join(dir, 'fallback.yaml'), mockYaml(fallbackProfile));
  const mockArgs = (file, seed) => ['--threads', '1', '--seed', String(seed), '--faults',
                                    path.join(dir, file)];
  let primary = await startMock({ args: mockArgs('primary.yaml', 11), echo: values.verbose });
  const fallback = await startMock({ args: mockArgs('fallback.yaml', 12), echo: values.verbose });
  const primaryPort = primary.port;
  const logFile = path.join(dir, 'gateway.log');
  const gateway = await startGateway({
    config: (port) => gatewayYaml(port, primary.baseURL, fallback.baseURL,
                                  strategy.endsWith('+budget')),
    stderrFile: logFile,
  });
  const url = `${gateway.url}/v1/chat/completions`;
  const body = JSON.stringify({ model: 'gpt-4o-mini', max_tokens: 16,
                                messages: [{ role: 'user', content: 'chaos' }] });
  const times = arrivals(requests, sc.rate, Number(values.seed));
  const records = new Array(requests);
  const events = [];
  let primaryServed = 0;  // attempts the primary mock saw before it was taken down
  const t0 = performance.now() / 1000;
  const now = () => performance.now() / 1000 - t0;  // real seconds since start

  // Brownouts and outages, on their own timers.
  const timed = [];
  for (const [from, to, rate] of sc.brownouts) {
    timed.push(sleep(from * K * 1000).then(async () => {
      await primary.faults({ default: profile(PRIMARY, rate, sc.mix) });
      events.push(`brownout on at ${now().toFixed(2)} s`);
      await sleep(Math.max(0, (to * K - now()) * 1000));
      await primary.faults({ default: primaryProfile });
      events.push(`brownout off at ${now().toFixed(2)} s`);
    }));
  }
  for (const [from, to] of sc.outages) {
    timed.push(sleep(from * K * 1000).then(async () => {
      primaryServed += (await primary.stats()).total;
      await primary.child.stop(0);  // SIGKILL: down at once, in-flight requests cut
      const hole = values['outage-mode'] === 'blackhole' ? await startBlackhole(primaryPort)
                                                          : null;
      events.push(`primary ${hole ? 'black-holed' : 'refusing'} at ${now().toFixed(2)} s`);
      await sleep(Math.max(0, (to * K - now()) * 1000));
      await hole?.stop(0);
      primary = await startMock({ port: primaryPort, args: mockArgs('primary.yaml', 13) });
      events.push(`primary up at ${now().toFixed(2)} s`);
    }));
  }

  const clientDeadlineMs = (sc.deadline * K + 2) * 1000;
  const inflight = [];
  for (let i = 0; i < requests; i++) {
    const wait = times[i] * K - now();
    if (wait > 0.002) {
      await sleep(wait * 1000);
    }
    const start = now();
    inflight.push(fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      signal: AbortSignal.timeout(clientDeadlineMs),
    }).then(async (response) => {
      await response.arrayBuffer();
      records[i] = { start, end: now(), ok: response.status === 200, status: response.status,
                     attempts: Number(response.headers.get('x-sheepdog-attempts') || 0) };
    }, (e) => {
      records[i] = { start, end: now(), ok: false, status: e.name, attempts: 0 };
    }));
  }
  await Promise.all(inflight);
  await Promise.all(timed);
  const makespan = now();
  const metrics = await scrape(gateway.url);
  primaryServed += (await primary.stats()).total;
  const fallbackServed = (await fallback.stats()).total;
  await gateway.stop();
  await gateway.child.stderrClosed;
  await primary.stop();
  await fallback.stop();
  const backoff = backoffSeconds(readFileSync(logFile, 'utf8'));
  rmSync(dir, { recursive: true, force: true });

  const latencies = records.map((r) => (r.end - r.start) / K * 1000).sort((a, b) => a - b);
  const ok = records.filter((r) => r.ok).length;
  const statuses = {};
  for (const r of records) {
    statuses[r.status] = (statuses[r.status] || 0) + 1;
  }
  const headerAttempts = records.reduce((s, r) => s + r.attempts, 0);
  const metricAttempts = metricSum(metrics, /^sheepdog_(upstream_)?attempts_total/);
  const trips = metricSum(metrics,
                          /^sheepdog_breaker_transitions_total\{.*from="closed",to="open"/);
  const outage = sc.outages[0];
  return {
    name,
    strategy,
    requests,
    success: ok / requests,
    mean: latencies.reduce((s, x) => s + x, 0) / requests,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    attemptsMock: (primaryServed + fallbackServed) / requests,
    attemptsHeader: headerAttempts / requests,
    attemptsMetric: metricAttempts === null ? null : metricAttempts / requests,
    backoff: backoff === null ? null : backoff / K,
    cost: primaryServed * PRIMARY.price + fallbackServed * FALLBACK.price,
    trips,
    recovery: outage ? recovery(records.map((r) => ({ end: r.end / K, ok: r.ok })), outage[1],
                                makespan / K) : undefined,
    primaryServed,
    fallbackServed,
    statuses,
    events,
    realSeconds: makespan,
  };
}

function simulatorRow(name, strategy) {
  try {
    const out = execFileSync(process.env.SHEEPDOG_BIN, ['simulate', '--scenario', name,
                                                        '--strategies', strategy, '--format',
                                                        'json'], { encoding: 'utf8' });
    const s = JSON.parse(out).strategies.find((x) => x.name === strategy);
    return Object.fromEntries(Object.entries(s.metrics).map(([k, v]) => [k, v?.mean ?? null]));
  } catch (e) {
    return { error: e.message.split('\n')[0] };
  }
}

const fmt = (v, d) => (v === null || v === undefined || Number.isNaN(v) ? '-' : v.toFixed(d));

const names = values.scenario === 'all' ? Object.keys(SCENARIOS) : [values.scenario];
for (const name of names) {
  if (!SCENARIOS[name]) {
    throw new Error(`unknown scenario ${name}; use ${Object.keys(SCENARIOS).join(', ')} or all`);
  }
}
const { sheepdogBin } = await import('../../tests/e2e/harness.mjs');
process.env.SHEEPDOG_BIN = sheepdogBin();

const rows = [];
for (const name of names) {
  for (const strategy of STRATEGIES) {
    process.stderr.write(`chaos: ${name}, ${strategy}, time scale ${K} ...\n`);
    const live = await runScenario(name, strategy);
    process.stderr.write(`chaos: done in ${live.realSeconds.toFixed(1)} s real; statuses ` +
                         `${JSON.stringify(live.statuses)}; ${live.events.join(', ')}\n`);
    rows.push({ live, sim: values['no-sim'] ? null : simulatorRow(name, strategy) });
  }
}

console.log(`### Live chaos run through the real gateway (time scale ${K}; latencies in ` +
            'scenario time, i.e. measured / scale)\n');
console.log('Each strategy as gateway config. "live" = measured through `sheepdog serve` + two ' +
            '`sheepdog mock`s; "sim" = `sheepdog simulate` on the same scenario and strategy ' +
            '(seed 1, one run).\n');
console.log('| scenario | strategy | run | success % | mean ms | p50 ms | p99 ms | backoff s | ' +
            'attempts/req | cost $ | trips | recovery s |');
console.log('|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const { live, sim } of rows) {
  const attempts = live.attemptsMetric ?? live.attemptsMock;
  const recoveryCell = live.recovery === undefined ? 'n/a'
                                                    : live.recovery === null ? 'never'
                                                                             : fmt(live.recovery, 1);
  console.log(`| ${live.name} | ${live.strategy} | live | ${fmt(live.success * 100, 2)} | ${fmt(live.mean, 0)} | ` +
              `${fmt(live.p50, 0)} | ${fmt(live.p99, 0)} | ${fmt(live.backoff, 0)} | ` +
              `${fmt(attempts, 3)} | ` +
              `${fmt(live.cost, 2)} | ${live.trips === null ? '-' : fmt(live.trips, 0)} | ` +
              `${recoveryCell} |`);
  if (sim && !sim.error) {
    console.log(`| ${live.name} | ${live.strategy} | sim | ${fmt(sim.success_rate * 100, 2)} | ` +
                `${fmt(sim.latency_mean_ms, 0)} | ${fmt(sim.latency_p50_ms, 0)} | ` +
                `${fmt(sim.latency_p99_ms, 0)} | ${fmt(sim.backoff_total_s, 0)} | ` +
                `${fmt(sim.attempts_per_request, 3)} | ${fmt(sim.cost_usd, 2)} | ` +
                `${fmt(sim.breaker_trips, 0)} | ${live.recovery === undefined ? 'n/a'
                  : sim.recovery_s === null ? 'never' : fmt(sim.recovery_s, 1)} |`);
  } else if (sim?.error) {
    console.log(`| ${live.name} | ${live.strategy} | sim | (simulator failed: ${sim.error}) |||||||||`);
  }
}
console.log('\nNotes:');
for (const { live } of rows) {
  console.log(`- ${live.name}, ${live.strategy}: ${live.requests} requests in ${live.realSeconds.toFixed(1)} s ` +
              `real; attempts seen by the mocks: primary ${live.primaryServed}, fallback ` +
              `${live.fallbackServed} (${fmt(live.attemptsMock, 3)}/req; connection-refused ` +
              `attempts never reach a mock); from x-sheepdog-attempts: ` +
              `${fmt(live.attemptsHeader, 3)}/req (answered requests only); from /metrics: ` +
              `${live.attemptsMetric === null ? 'not found' : fmt(live.attemptsMetric, 3)}. ` +
              `Outcomes: ${JSON.stringify(live.statuses)}.`);
}
console.log('- backoff s: the backoff_ms of the gateway\'s per-request log lines, summed, in ' +
            'scenario time (measured / scale); not observable from the client side.');
console.log('- cost $: attempts each mock received x the scenario\'s price per attempt ' +
            '(primary $0.005, fallback $0.00675), as the simulator charges.');
