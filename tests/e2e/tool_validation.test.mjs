// End-to-end tests of the gateway's answer validation (policy tool_validation) with the official
// SDKs: `sheepdog serve` in front of `sheepdog mock`, real processes on loopback. The mock is
// scripted to break one answer (or every answer) with each of its tool faults; the tests prove
// what the client got (a tool call or structured output that fits its schema, the
// x-sheepdog-validation header, the 502 error type), how many requests reached the upstream
// (the mock's stats), and what the gateway counted (its /metrics).
//
// Clients use maxRetries: 0 so that every retry seen is the gateway's own.
//
// Run: SHEEPDOG_BIN=build/release/bin/sheepdog node --test tests/e2e/tool_validation.test.mjs
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';

import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';

import { startGateway, startMock } from './harness.mjs';

const CLIENT_KEY = 'sk-e2e-client-0123456789';
const UNITS = ['celsius', 'fahrenheit'];
// Required properties, an enum, an integer with bounds and additionalProperties: false, so
// that every one of the mock's tool faults breaks it in its own way.
const FORECAST_PARAMETERS = {
  type: 'object',
  properties: {
    city: { type: 'string' },
    unit: { type: 'string', enum: UNITS },
    days: { type: 'integer', minimum: 1, maximum: 14 },
  },
  required: ['city', 'unit', 'days'],
  additionalProperties: false,
};
const FORECAST_TOOL = {
  type: 'function',
  function: { name: 'get_forecast', description: 'Weather forecast for a city',
              parameters: FORECAST_PARAMETERS },
};
const PROFILE_SCHEMA = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    age: { type: 'integer', minimum: 0 },
    tier: { type: 'string', enum: ['free', 'pro'] },
  },
  required: ['name', 'age', 'tier'],
  additionalProperties: false,
};
const PROFILE_FORMAT = {
  type: 'json_schema',
  json_schema: { name: 'profile', strict: true, schema: PROFILE_SCHEMA },
};

// Each mock fault, scripted on the first answer, and the reason the gateway counts for it
// (llm/tool_validation.h's ValidationReason names). Under FORECAST_PARAMETERS: wrong_type
// quotes `days`, missing_required drops `city`, extra_property breaks additionalProperties.
const FAULTS = [
  ['tool_truncated_json', 'truncated_json'],
  ['tool_trailing_text', 'trailing_text'],
  ['tool_wrong_type', 'schema_violation'],
  ['tool_missing_required', 'schema_violation'],
  ['tool_unknown_tool', 'unknown_tool'],
  ['tool_extra_property', 'schema_violation'],
];
const REASONS = ['unknown_tool', 'invalid_json', 'truncated_json', 'trailing_text',
                 'schema_violation', 'missing_tool_call', 'forbidden_tool_call',
                 'too_many_tool_calls', 'malformed_answer'];

let mock;
let gateway;
let client;  // OpenAI SDK -> gateway
let claude;  // Anthropic SDK -> gateway

// One alias per policy; all on the same mock. Transport retries are off (max_attempts: 1) so
// that every extra upstream request is a validation retry.
function config(mockURL) {
  return `
server:
  host: 127.0.0.1
  port: 0
  threads: 2
  api_keys: ["${CLIENT_KEY}"]
providers:
  openai-mock:
    kind: openai
    base_url: ${mockURL}/v1
    api_keys: ["sk-openai-e2e-aaaa"]
  claude-mock:
    kind: anthropic
    base_url: ${mockURL}/v1
    api_keys: ["sk-ant-e2e-cccc-0000"]
policies:
  default:
    max_attempts: 1
    timeouts: {attempt: 5s, total: 15s}
    circuit_breaker: {enabled: false}
  repair:
    tool_validation: {enabled: true, mode: repair, max_retries: 2}
  resample:
    tool_validation: {mode: resample, max_retries: 1}
  pass:
    tool_validation: {mode: pass}
models:
  tv-repair:
    policy: repair
    deployments: [{provider: openai-mock, model: gpt-4o}]
  tv-resample:
    policy: resample
    deployments: [{provider: openai-mock, model: gpt-4o}]
  tv-pass:
    policy: pass
    deployments: [{provider: openai-mock, model: gpt-4o}]
  tv-claude:
    policy: repair
    deployments: [{provider: claude-mock, model: claude-sonnet-4}]
`;
}

before(async () => {
  mock = await startMock({ args: ['--seed', '5'] });
  gateway = await startGateway({ config: config(mock.url) });
  client = new OpenAI({ baseURL: gateway.baseURL, apiKey: CLIENT_KEY, maxRetries: 0,
                        timeout: 15000 });
  claude = new Anthropic({ baseURL: gateway.url, apiKey: CLIENT_KEY, maxRetries: 0,
                           timeout: 15000 });
});

after(async () => {
  try {
    await gateway?.stop();
  } finally {
    await mock?.stop();
  }
});

beforeEach(async () => {
  await mock.reset();
});

// ---- helpers ----

// The gateway's counters as {"name{sorted labels}": value}.
async function scrape() {
  const response = await fetch(`${gateway.url}/metrics`,
                               { headers: { authorization: `Bearer ${CLIENT_KEY}` } });
  assert.equal(response.status, 200);
  const counters = new Map();
  for (const line of (await response.text()).split('\n')) {
    const match = line.match(/^(sheepdog_validation_\w+)\{([^}]*)\}\s+(\S+)$/);
    if (!match) {
      continue;
    }
    const labels = [...match[2].matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)]
      .map(([, k, v]) => `${k}=${v}`).sort().join(',');
    counters.set(`${match[1]}{${labels}}`, Number(match[3]));
  }
  return counters;
}

function metricKey(name, labels) {
  const list = Object.entries(labels).map(([k, v]) => `${k}=${v}`).sort().join(',');
  return `${name}{${list}}`;
}

// How much each counter grew between two scrapes; a counter absent before counts from 0.
function delta(before, after, name, labels) {
  const key = metricKey(name, labels);
  return (after.get(key) ?? 0) - (before.get(key) ?? 0);
}

// Every validation_failures reason that grew for `model` and `kind`, as {reason: growth}.
function failureGrowth(before, after, model, kind) {
  const grown = {};
  for (const reason of REASONS) {
    const d = delta(before, after, 'sheepdog_validation_failures_total', { model, kind, reason });
    if (d !== 0) {
      grown[reason] = d;
    }
  }
  return grown;
}

// Checks by hand what FORECAST_PARAMETERS requires.
function assertForecast(args) {
  assert.equal(typeof args, 'object');
  assert.ok(args !== null && !Array.isArray(args), `an object: ${JSON.stringify(args)}`);
  assert.deepEqual(Object.keys(args).sort(), ['city', 'days', 'unit'],
                   `exactly the declared properties: ${JSON.stringify(args)}`);
  assert.equal(typeof args.city, 'string');
  assert.ok(UNITS.includes(args.unit), `unit ${JSON.stringify(args.unit)}`);
  assert.ok(Number.isInteger(args.days), `days ${JSON.stringify(args.days)}`);
  assert.ok(args.days >= 1 && args.days <= 14, `days ${args.days}`);
}

function assertProfile(value) {
  assert.ok(value !== null && typeof value === 'object' && !Array.isArray(value),
            JSON.stringify(value));
  assert.deepEqual(Object.keys(value).sort(), ['age', 'name', 'tier'], JSON.stringify(value));
  assert.equal(typeof value.name, 'string');
  assert.ok(Number.isInteger(value.age) && value.age >= 0, `age ${JSON.stringify(value.age)}`);
  assert.ok(['free', 'pro'].includes(value.tier), `tier ${JSON.stringify(value.tier)}`);
}

const forecastRequest = (extra = {}) => ({
  model: 'tv-repair',
  messages: [{ role: 'user', content: 'Forecast for Lisbon?' }],
  tools: [FORECAST_TOOL],
  tool_choice: 'required',
  ...extra,
});

// The one tool call of a chat.completion, with its arguments parsed.
function onlyCall(completion) {
  const choice = completion.choices[0];
  assert.equal(choice.finish_reason, 'tool_calls');
  assert.equal(choice.message.tool_calls.length, 1, JSON.stringify(choice.message));
  const call = choice.message.tool_calls[0];
  assert.equal(call.type, 'function');
  return { call, args: JSON.parse(call.function.arguments) };
}

// Reads a chat.completions stream to its end: every chunk, and the tool calls and content it
// assembles to.
async function drain(stream) {
  const chunks = [];
  const calls = new Map();
  let content = '';
  let finish = null;
  for await (const chunk of stream) {
    chunks.push(chunk);
    const choice = chunk.choices[0];
    content += choice?.delta?.content ?? '';
    for (const delta of choice?.delta?.tool_calls ?? []) {
      const call = calls.get(delta.index) ?? { ids: [], name: '', arguments: '' };
      if (delta.id) {
        call.ids.push(delta.id);
      }
      call.name += delta.function?.name ?? '';
      call.arguments += delta.function?.arguments ?? '';
      calls.set(delta.index, call);
    }
    finish = choice?.finish_reason ?? finish;
  }
  return { chunks, calls: [...calls.values()], content, finish };
}

// ---- tests ----

describe('tool calls, non-streamed (OpenAI SDK)', () => {
  test('a valid answer is sent at once, marked valid', async () => {
    const before = await scrape();
    const { data, response } =
      await client.chat.completions.create(forecastRequest()).withResponse();
    const { call, args } = onlyCall(data);
    assert.equal(call.function.name, 'get_forecast');
    assertForecast(args);
    assert.equal(response.headers.get('x-sheepdog-validation'), 'valid');
    assert.equal((await mock.stats()).total, 1);
    const after = await scrape();
    assert.equal(delta(before, after, 'sheepdog_validation_results_total',
                       { model: 'tv-repair', result: 'valid' }), 1);
    assert.deepEqual(failureGrowth(before, after, 'tv-repair', 'tool_call'), {});
  });

  for (const [fault, reason] of FAULTS) {
    test(`${fault} on the first answer is repaired (reason ${reason})`, async () => {
      await mock.script([fault]);
      const before = await scrape();
      const { data, response } =
        await client.chat.completions.create(forecastRequest()).withResponse();
      const { call, args } = onlyCall(data);
      assert.equal(call.function.name, 'get_forecast');
      assertForecast(args);
      assert.equal(response.headers.get('x-sheepdog-validation'), 'repaired');
      const stats = await mock.stats();
      assert.equal(stats.total, 2);
      assert.deepEqual(stats.by_outcome, { [fault]: 1, ok: 1 });
      const after = await scrape();
      assert.deepEqual(failureGrowth(before, after, 'tv-repair', 'tool_call'), { [reason]: 1 });
      assert.equal(delta(before, after, 'sheepdog_validation_retries_total',
                         { model: 'tv-repair', mode: 'repair' }), 1);
      assert.equal(delta(before, after, 'sheepdog_validation_results_total',
                         { model: 'tv-repair', result: 'repaired' }), 1);
    });
  }

  test('the same fault on every answer: 502 invalid_tool_call after max_retries + 1 answers',
       async () => {
    await mock.script(Array(6).fill('tool_wrong_type'));
    const before = await scrape();
    const err = await client.chat.completions.create(forecastRequest()).then(() => null,
                                                                              (e) => e);
    assert.ok(err instanceof OpenAI.APIError, `got ${err?.constructor?.name}: ${err}`);
    assert.equal(err.status, 502);
    assert.equal(err.error?.type, 'invalid_tool_call');
    assert.equal(err.type, 'invalid_tool_call');
    assert.match(err.error.message, /failed validation on all 3 answers/);
    assert.match(err.error.message, /\/days/);
    assert.equal(err.headers.get('x-sheepdog-validation'), 'failed');
    assert.equal((await mock.stats()).total, 3, 'max_retries (2) + 1 answers');
    const after = await scrape();
    assert.deepEqual(failureGrowth(before, after, 'tv-repair', 'tool_call'),
                     { schema_violation: 3 });
    assert.equal(delta(before, after, 'sheepdog_validation_retries_total',
                       { model: 'tv-repair', mode: 'repair' }), 2);
    assert.equal(delta(before, after, 'sheepdog_validation_results_total',
                       { model: 'tv-repair', result: 'failed' }), 1);
  });

  test('resample: the same request again, then 502 after its own max_retries (1)', async () => {
    await mock.script(Array(6).fill('tool_unknown_tool'));
    const before = await scrape();
    const err = await client.chat.completions.create(forecastRequest({ model: 'tv-resample' }))
      .then(() => null, (e) => e);
    assert.ok(err instanceof OpenAI.APIError, `got ${err?.constructor?.name}: ${err}`);
    assert.equal(err.status, 502);
    assert.equal(err.error?.type, 'invalid_tool_call');
    assert.match(err.error.message, /get_forecast_v2/);
    assert.equal((await mock.stats()).total, 2, 'max_retries (1) + 1 answers');
    const after = await scrape();
    assert.deepEqual(failureGrowth(before, after, 'tv-resample', 'tool_call'),
                     { unknown_tool: 2 });
    assert.equal(delta(before, after, 'sheepdog_validation_retries_total',
                       { model: 'tv-resample', mode: 'resample' }), 1);
    // A resample that is valid the second time is repaired too.
    await mock.reset();
    await mock.script(['tool_missing_required']);
    const { data, response } = await client.chat.completions
      .create(forecastRequest({ model: 'tv-resample' })).withResponse();
    assertForecast(onlyCall(data).args);
    assert.equal(response.headers.get('x-sheepdog-validation'), 'repaired');
    assert.equal((await mock.stats()).total, 2);
  });

  test('pass: the invalid answer is returned as it is, marked failed', async () => {
    await mock.script(['tool_wrong_type']);
    const before = await scrape();
    const { data, response } = await client.chat.completions
      .create(forecastRequest({ model: 'tv-pass' })).withResponse();
    const { call, args } = onlyCall(data);
    assert.equal(call.function.name, 'get_forecast');
    // The mock quotes the integer: what a model that gets types wrong sends.
    assert.equal(typeof args.days, 'string');
    assert.ok(Number.isInteger(Number(args.days)), `days ${args.days}`);
    assert.equal(response.headers.get('x-sheepdog-validation'), 'failed');
    assert.equal((await mock.stats()).total, 1);
    const after = await scrape();
    assert.deepEqual(failureGrowth(before, after, 'tv-pass', 'tool_call'),
                     { schema_violation: 1 });
    assert.equal(delta(before, after, 'sheepdog_validation_results_total',
                       { model: 'tv-pass', result: 'passed_invalid' }), 1);
    assert.equal(delta(before, after, 'sheepdog_validation_retries_total',
                       { model: 'tv-pass', mode: 'repair' }), 0);
  });
});

describe('tool calls, streamed (OpenAI SDK)', () => {
  for (const [fault, trace] of [['tool_truncated_json', null],
                                ['tool_trailing_text', 'Let me know'],
                                ['tool_unknown_tool', 'get_forecast_v2'],
                                ['tool_extra_property', 'unexpected_argument']]) {
    test(`${fault} on the first answer: the stream carries only the repaired call`,
         async () => {
      await mock.script([fault]);
      const { data, response } = await client.chat.completions
        .create(forecastRequest({ stream: true })).withResponse();
      const { chunks, calls, content, finish } = await drain(data);
      // The head waited for the validated answer.
      assert.equal(response.headers.get('x-sheepdog-validation'), 'repaired');
      assert.equal(finish, 'tool_calls');
      assert.equal(content, '');
      assert.equal(calls.length, 1, JSON.stringify(calls));
      assert.equal(calls[0].ids.length, 1, `one id for the call: ${calls[0].ids}`);
      assert.equal(calls[0].name, 'get_forecast');
      // The arguments of the broken first answer would make this text unparseable.
      assertForecast(JSON.parse(calls[0].arguments));
      // Every chunk is of the second answer: one completion id, one role chunk, one finish.
      assert.equal(new Set(chunks.map((c) => c.id)).size, 1);
      assert.equal(chunks.filter((c) => c.choices[0]?.delta?.role).length, 1);
      assert.equal(chunks.filter((c) => c.choices[0]?.finish_reason).length, 1);
      if (trace) {
        assert.ok(!JSON.stringify(chunks).includes(trace), `no ${trace} in the stream`);
      }
      assert.equal((await mock.stats()).total, 2);
    });
  }

  test('pass, streamed: the invalid call goes out, marked failed', async () => {
    await mock.script(['tool_missing_required']);
    const { data, response } = await client.chat.completions
      .create(forecastRequest({ model: 'tv-pass', stream: true })).withResponse();
    const { calls, finish } = await drain(data);
    assert.equal(response.headers.get('x-sheepdog-validation'), 'failed');
    assert.equal(finish, 'tool_calls');
    assert.equal(calls.length, 1);
    const args = JSON.parse(calls[0].arguments);
    assert.equal(args.city, undefined, 'the first required property is missing');
    assert.ok(UNITS.includes(args.unit));
    assert.equal((await mock.stats()).total, 1);
  });

  test('every answer broken, streamed: 502 invalid_tool_call before any byte', async () => {
    await mock.script(Array(6).fill('tool_truncated_json'));
    const err = await client.chat.completions.create(forecastRequest({ stream: true }))
      .then(() => null, (e) => e);
    assert.ok(err instanceof OpenAI.APIError, `got ${err?.constructor?.name}: ${err}`);
    assert.equal(err.status, 502);
    assert.equal(err.error?.type, 'invalid_tool_call');
    assert.equal((await mock.stats()).total, 3);
  });
});

describe('structured output (OpenAI SDK)', () => {
  const profileRequest = (extra = {}) => ({
    model: 'tv-repair',
    messages: [{ role: 'user', content: 'A user profile, please.' }],
    response_format: PROFILE_FORMAT,
    ...extra,
  });

  for (const [fault, reason] of [['tool_wrong_type', 'schema_violation'],
                                 ['tool_trailing_text', 'trailing_text'],
                                 ['tool_truncated_json', 'truncated_json']]) {
    test(`${fault} in the content is repaired (reason ${reason})`, async () => {
      await mock.script([fault]);
      const before = await scrape();
      const { data, response } =
        await client.chat.completions.create(profileRequest()).withResponse();
      assert.equal(data.choices[0].finish_reason, 'stop');
      assertProfile(JSON.parse(data.choices[0].message.content));
      assert.equal(response.headers.get('x-sheepdog-validation'), 'repaired');
      assert.equal((await mock.stats()).total, 2);
      const after = await scrape();
      assert.deepEqual(failureGrowth(before, after, 'tv-repair', 'structured_output'),
                       { [reason]: 1 });
      assert.deepEqual(failureGrowth(before, after, 'tv-repair', 'tool_call'), {});
    });
  }

  test('streamed: the whole content is held until valid', async () => {
    await mock.script(['tool_trailing_text']);
    const { data, response } = await client.chat.completions
      .create(profileRequest({ stream: true })).withResponse();
    const { chunks, content, finish } = await drain(data);
    assert.equal(response.headers.get('x-sheepdog-validation'), 'repaired');
    assert.equal(finish, 'stop');
    assertProfile(JSON.parse(content));
    assert.ok(!content.includes('Let me know'));
    assert.equal(new Set(chunks.map((c) => c.id)).size, 1);
    assert.equal((await mock.stats()).total, 2);
  });

  test('every answer broken: 502 invalid_structured_output', async () => {
    await mock.script(Array(6).fill('tool_missing_required'));
    const err = await client.chat.completions.create(profileRequest()).then(() => null,
                                                                            (e) => e);
    assert.ok(err instanceof OpenAI.APIError, `got ${err?.constructor?.name}: ${err}`);
    assert.equal(err.status, 502);
    assert.equal(err.error?.type, 'invalid_structured_output');
    assert.match(err.error.message, /structured output failed validation on all 3 answers/);
    assert.equal((await mock.stats()).total, 3);
  });

  test('pass: the invalid content is returned, marked failed', async () => {
    await mock.script(['tool_wrong_type']);
    const { data, response } = await client.chat.completions
      .create(profileRequest({ model: 'tv-pass' })).withResponse();
    const value = JSON.parse(data.choices[0].message.content);
    assert.equal(typeof value.age, 'string', `age quoted: ${JSON.stringify(value)}`);
    assert.equal(response.headers.get('x-sheepdog-validation'), 'failed');
    assert.equal((await mock.stats()).total, 1);
  });
});

describe('Anthropic SDK on /v1/messages', () => {
  const FORECAST = { name: 'get_forecast', description: 'Weather forecast for a city',
                     input_schema: FORECAST_PARAMETERS };
  const forecastMessage = (model) => ({
    model, max_tokens: 128, tools: [FORECAST], tool_choice: { type: 'any' },
    messages: [{ role: 'user', content: 'Forecast for Lisbon?' }],
  });

  // Whole Anthropic messages carry `input` as an object: the mock's JSON-text faults show
  // only in streams there, so the whole cases use schema faults.
  for (const [model, endpoint, stream, fault] of [
    ['tv-repair', 'chat.completions', false, 'tool_truncated_json'],
    ['tv-repair', 'chat.completions', true, 'tool_unknown_tool'],
    ['tv-claude', 'messages', false, 'tool_wrong_type'],
    ['tv-claude', 'messages', true, 'tool_truncated_json'],
  ]) {
    test(`${fault} via ${endpoint}${stream ? ', streamed' : ''}: a valid tool_use block`,
         async () => {
      await mock.script([fault]);
      const request = forecastMessage(model);
      let message;
      let header;
      if (stream) {
        const events = [];
        const s = claude.messages.stream(request);
        for await (const event of s) {
          events.push(event);
        }
        message = await s.finalMessage();
        header = (await s.withResponse()).response.headers.get('x-sheepdog-validation');
        assert.equal(events.filter((e) => e.type === 'message_start').length, 1);
        assert.equal(events.filter((e) => e.type === 'content_block_start').length, 1,
                     JSON.stringify(events));
        assert.ok(!JSON.stringify(events).includes('get_forecast_v2'));
      } else {
        const { data, response } = await claude.messages.create(request).withResponse();
        message = data;
        header = response.headers.get('x-sheepdog-validation');
      }
      assert.equal(message.stop_reason, 'tool_use');
      const uses = message.content.filter((b) => b.type === 'tool_use');
      assert.equal(uses.length, 1, JSON.stringify(message.content));
      assert.equal(uses[0].name, 'get_forecast');
      assertForecast(uses[0].input);
      assert.equal(header, 'repaired');
      const stats = await mock.stats();
      assert.deepEqual(stats.by_endpoint, { [endpoint]: 2 });
    });
  }

  test('every answer broken: the Anthropic SDK raises a 502', async () => {
    await mock.script(Array(6).fill('tool_missing_required'));
    const err = await claude.messages.create(forecastMessage('tv-claude')).then(() => null,
                                                                                (e) => e);
    assert.ok(err instanceof Anthropic.APIError, `got ${err?.constructor?.name}: ${err}`);
    assert.equal(err.status, 502);
    // Anthropic's envelope has a fixed set of error types: a 502 is an api_error there.
    assert.equal(err.error?.type, 'error');
    assert.equal(err.error?.error?.type, 'api_error');
    assert.match(err.error.error.message, new RegExp(
      "^The model's tool call failed validation on all 3 answers " +
      "\\(deployment 'claude-mock/claude-sonnet-4'\\)"));
    assert.match(err.error.error.message, /\/city: missing required property/);
    assert.equal(err.headers.get('x-sheepdog-validation'), 'failed');
    assert.deepEqual((await mock.stats()).by_endpoint, { messages: 3 });
  });
});
