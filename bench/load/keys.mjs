// Key rotation under a per-key rate limit, live: `sheepdog serve` with two provider keys in
// front of one `sheepdog mock` that enforces per-key limits the way providers do (a token bucket
// holding a minute's allowance; beyond it a 429 with the exact Retry-After). Key A's limit is
// half the offered load; key B has room for all of it. An open-loop client offers --rate
// requests per second for --seconds, as Poisson arrivals (seeded), so key A sees bursts above
// its limit as real traffic does; every request must succeed.
//
// Three runs, each on a fresh mock and gateway:
//   rotation         the gateway is not told the limits: A's 429s rest it and the request
//                    moves to B at once
//   declared limits  the same keys with their rpm in the gateway's config: requests are spread
//                    before the provider has to refuse any
//   single key       key A alone, for comparison: what the client sees without a second key
//
// Before each run key A's bucket is drained with direct calls to the mock (as if it had been
// busy for the last minute); otherwise the bucket's one-minute burst would hide the limit for
// the first minute of the run.
//
// node bench/load/keys.mjs [--rate 20] [--seconds 30] [--bin build/release/bin/sheepdog]
import { parseArgs } from 'node:util';
import path from 'node:path';

import { percentile, sleep, startGateway, startMock } from '../../tests/e2e/harness.mjs';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '20' },
    seconds: { type: 'string', default: '30' },
    bin: { type: 'string' },
  },
});
if (values.bin) {
  process.env.SHEEPDOG_BIN = path.resolve(values.bin);
}
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const KEY_A = 'sk-load-key-a-aaaa';
const KEY_B = 'sk-load-key-b-bbbb';
const RPM_A = Math.round((RATE * 60) / 2);  // half the offered load
const RPM_B = Math.round(RATE * 60);        // room for all of it

function gatewayYaml(keys) {
  return `
server: {host: 127.0.0.1, port: 0, threads: 2}
providers:
  p:
    kind: openai
    base_url: \${MOCK}/v1
    api_keys: [${keys.join(', ')}]
policies:
  default:
    max_attempts: 3
    timeouts: {attempt: 5s, total: 10s}
    backoff: {kind: exponential, base_delay: 50ms, max_delay: 1s, jitter: full}
    pushback: {max: 5s}
models:
  m:
    deployments: [{provider: p, model: gpt-4o-mini}]
`;
}

// A small seeded PRNG (Mulberry32), so every run offers the same arrival times.
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function drain(mock, key, count) {
  const body = JSON.stringify({ model: 'gpt-4o-mini', max_tokens: 1,
                                messages: [{ role: 'user', content: 'drain' }] });
  for (let sent = 0; sent < count; sent += 50) {
    await Promise.all(Array.from({ length: Math.min(50, count - sent) }, () =>
      fetch(`${mock.baseURL}/chat/completions`, {
        method: 'POST', body,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      }).then((r) => r.arrayBuffer())));
  }
}

async function run(name, keys) {
  const mock = await startMock({ args: ['--seed', '3'] });
  await mock.faults({ keys: { [KEY_A]: { rpm: RPM_A }, [KEY_B]: { rpm: RPM_B } } });
  await drain(mock, KEY_A, RPM_A);
  const before = await mock.stats();  // the drain's calls, subtracted below
  const gateway = await startGateway({ config: gatewayYaml(keys),
                                       env: { MOCK: mock.url } });
  const results = [];
  const start = performance.now();
  const total = RATE * SECONDS;
  const pending = [];
  const random = mulberry32(7);
  let due = start;
  for (let i = 0; i < total; i += 1) {
    due += (-Math.log(1 - random()) * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 0) {
      await sleep(wait);
    }
    const t0 = performance.now();
    pending.push(fetch(`${gateway.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', max_tokens: 4,
                             messages: [{ role: 'user', content: `request ${i}` }] }),
    }).then(async (r) => {
      await r.arrayBuffer();
      results.push({ status: r.status, ms: performance.now() - t0,
                     attempts: Number(r.headers.get('x-sheepdog-attempts') || 0) });
    }).catch(() => results.push({ status: 0, ms: performance.now() - t0, attempts: 0 })));
  }
  await Promise.all(pending);
  const after = await mock.stats();
  const byKey = {};
  for (const [key, count] of Object.entries(after.by_key)) {
    byKey[key] = count - (before.by_key[key] ?? 0);
  }
  const mock429 = (after.by_outcome.rate_limited ?? 0) - (before.by_outcome.rate_limited ?? 0);
  await gateway.stop();
  await mock.stop();
  const ok = results.filter((r) => r.status === 200).length;
  const ms = results.map((r) => r.ms).sort((a, b) => a - b);
  const attempts = results.reduce((s, r) => s + r.attempts, 0) / results.length;
  return {
    name, requests: results.length, success: (100 * ok) / results.length,
    mock429, attempts, p50: percentile(ms, 0.5), p99: percentile(ms, 0.99), byKey,
  };
}

const rows = [];
rows.push(await run('rotation (limits unknown to the gateway)',
                    [JSON.stringify(KEY_A), JSON.stringify(KEY_B)]));
rows.push(await run('declared limits',
                    [`{key: ${KEY_A}, rpm: ${RPM_A}}`, `{key: ${KEY_B}, rpm: ${RPM_B}}`]));
rows.push(await run('single key (A only)', [JSON.stringify(KEY_A)]));

console.log(`\nOffered ${RATE} req/s for ${SECONDS} s; key A ${RPM_A} rpm (half), key B ` +
            `${RPM_B} rpm; A drained before each run.\n`);
console.log('| run | requests | success | mock 429s | attempts/request | p50 ms | p99 ms | calls per key |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
for (const r of rows) {
  const keys = Object.entries(r.byKey).map(([k, v]) => `${k}: ${v}`).join(', ');
  console.log(`| ${r.name} | ${r.requests} | ${r.success.toFixed(2)} % | ${r.mock429} | ` +
              `${r.attempts.toFixed(3)} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${keys} |`);
}
