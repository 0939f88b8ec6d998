// Tool-call validation, live: `sheepdog serve` in front of one `sheepdog mock` whose answers
// carry a broken tool call at a given rate (the six tool faults of docs/mock.md, in equal
// shares). Every request offers one tool with a strict schema (required properties, an enum, an
// integer, additionalProperties: false) and forces it; the client checks every tool call it
// receives against that schema itself, so "valid %" is what an application would see, not what
// the gateway claims.
//
// Runs, each on a fresh mock and gateway, with the same seeds:
//   off        tool_validation disabled: what a gateway without validation hands the client
//   pass       validated and flagged, not retried
//   resample   the same request again, up to max_retries 2
//   repair     the request again with the faulty call and its errors, up to 2
//   repair, streamed   the same, stream: true (the tool-call part held back until valid)
//
// The mock draws each answer's fault independently, so a repair is no more likely to succeed
// than a fresh sample here (a real model does better when told its errors; the simulator's
// tool-calls scenario models that with repair_success_rate). What this measures is that the
// gateway catches every fault and what it costs in requests and latency.
//
// node bench/load/tool_calls.mjs [--requests 1000] [--concurrency 16] [--fault-rate 0.2]
//                                [--bin build/release/bin/sheepdog]
import { parseArgs } from 'node:util';
import path from 'node:path';

import { percentile, startGateway, startMock } from '../../tests/e2e/harness.mjs';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '16' },
    'fault-rate': { type: 'string', default: '0.2' },
    bin: { type: 'string' },
  },
});
if (values.bin) {
  process.env.SHEEPDOG_BIN = path.resolve(values.bin);
}
const REQUESTS = Number(values.requests);
const CONCURRENCY = Number(values.concurrency);
const FAULT_RATE = Number(values['fault-rate']);
const FAULTS = ['tool_truncated_json', 'tool_trailing_text', 'tool_wrong_type',
                'tool_missing_required', 'tool_unknown_tool', 'tool_extra_property'];

const TOOL = {
  type: 'function',
  function: {
    name: 'book_table',
    parameters: {
      type: 'object',
      properties: {
        restaurant: { type: 'string' },
        guests: { type: 'integer', minimum: 1 },
        time: { type: 'string', enum: ['18:00', '19:00', '20:00'] },
      },
      required: ['restaurant', 'guests', 'time'],
      additionalProperties: false,
    },
  },
};

// The client's own check of a tool call against TOOL's schema.
function validCall(call) {
  if (!call || call.function?.name !== 'book_table') {
    return false;
  }
  let args;
  try {
    args = JSON.parse(call.function.arguments);
  } catch {
    return false;
  }
  if (typeof args !== 'object' || args === null || Array.isArray(args)) {
    return false;
  }
  const keys = Object.keys(args);
  return keys.length === 3 && typeof args.restaurant === 'string' &&
         Number.isInteger(args.guests) && args.guests >= 1 &&
         ['18:00', '19:00', '20:00'].includes(args.time);
}

function gatewayYaml(validation) {
  return `
server: {host: 127.0.0.1, port: 0, threads: 2}
providers:
  p: {kind: openai, base_url: "\${MOCK}/v1", api_keys: ["sk-load"]}
policies:
  default:
    max_attempts: 2
    timeouts: {attempt: 5s, total: 10s}
    tool_validation: ${validation}
models:
  m:
    deployments: [{provider: p, model: gpt-4o-mini}]
`;
}

// The tool call a streamed answer amounts to.
function assemble(text) {
  const call = { function: { name: '', arguments: '' } };
  for (const line of text.split('\n')) {
    if (!line.startsWith('data: ') || line === 'data: [DONE]') {
      continue;
    }
    const chunk = JSON.parse(line.slice(6));
    if (chunk.error) {
      return null;
    }
    for (const delta of (chunk.choices ?? []).map((c) => c.delta ?? {})) {
      for (const d of delta.tool_calls ?? []) {
        call.function.name += d.function?.name ?? '';
        call.function.arguments += d.function?.arguments ?? '';
      }
    }
  }
  return call;
}

async function one(gateway, i, stream) {
  const t0 = performance.now();
  const r = await fetch(`${gateway.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'm', stream, tools: [TOOL],
      tool_choice: { type: 'function', function: { name: 'book_table' } },
      messages: [{ role: 'user', content: `Book a table, request ${i}` }],
    }),
  });
  const text = await r.text();
  const ms = performance.now() - t0;
  let call = null;
  if (r.status === 200) {
    call = stream ? assemble(text) : JSON.parse(text).choices[0].message.tool_calls?.[0];
  }
  return {
    status: r.status, ms, valid: r.status === 200 && validCall(call),
    attempts: Number(r.headers.get('x-sheepdog-attempts') || 0),
    flag: r.headers.get('x-sheepdog-validation') ?? '',
  };
}

async function run(name, validation, stream = false) {
  const mock = await startMock({ args: ['--seed', '5'] });
  const rates = Object.fromEntries(FAULTS.map((f) => [f, FAULT_RATE / FAULTS.length]));
  await mock.faults({ default: { faults: rates } });
  const gateway = await startGateway({ config: gatewayYaml(validation), env: { MOCK: mock.url } });
  const results = [];
  let next = 0;
  const worker = async () => {
    while (next < REQUESTS) {
      const i = next;
      next += 1;
      results.push(await one(gateway, i, stream));
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = (performance.now() - start) / 1000;
  const stats = await mock.stats();
  await gateway.stop();
  await mock.stop();
  const n = results.length;
  const count = (pred) => results.filter(pred).length;
  const ms = results.map((r) => r.ms).sort((a, b) => a - b);
  return {
    name, n,
    valid: (100 * count((r) => r.valid)) / n,
    invalid200: (100 * count((r) => r.status === 200 && !r.valid)) / n,
    flagged: count((r) => r.flag === 'failed' && r.status === 200),
    errors502: count((r) => r.status === 502),
    upstream: stats.total / n,
    p50: percentile(ms, 0.5), p99: percentile(ms, 0.99), rps: n / seconds,
  };
}

const rows = [];
rows.push(await run('off (no validation)', '{enabled: false}'));
rows.push(await run('pass', '{mode: pass}'));
rows.push(await run('resample', '{mode: resample, max_retries: 2}'));
rows.push(await run('repair', '{mode: repair, max_retries: 2}'));
rows.push(await run('repair, streamed', '{mode: repair, max_retries: 2, streams: true}', true));

console.log(`\n${REQUESTS} requests per run, ${CONCURRENCY} concurrent; the mock breaks ` +
            `${(FAULT_RATE * 100).toFixed(0)} % of answers (six tool faults, equal shares).\n`);
console.log('| run | valid tool calls (client-checked) | invalid calls returned 200 | ' +
            'of them flagged | 502 invalid_tool_call | upstream requests / request | ' +
            'p50 ms | p99 ms | req/s |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const r of rows) {
  console.log(`| ${r.name} | ${r.valid.toFixed(2)} % | ${r.invalid200.toFixed(2)} % | ` +
              `${r.flagged} | ${r.errors502} | ${r.upstream.toFixed(3)} | ${r.p50.toFixed(1)} | ` +
              `${r.p99.toFixed(1)} | ${r.rps.toFixed(0)} |`);
}
