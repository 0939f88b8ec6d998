// End-to-end tests of the Anthropic side with the official SDKs, real processes on loopback:
// `sheepdog serve` in front of one `sheepdog mock` that speaks both the OpenAI API
// (/v1/chat/completions) and the Anthropic Messages API (/v1/messages).
//
//   - the `@anthropic-ai/sdk` package as a client of the gateway's POST /v1/messages, served by
//     an OpenAI-compatible deployment and by an Anthropic one, streamed or not, with tools and
//     with every error class;
//   - the `openai` package on the translated path: chat.completions served by Claude (the mock's
//     Messages API), and a fallback from an OpenAI alias to an Anthropic alias mid-request;
//   - key rotation under a per-key limit and idempotency keys, proved by the mock's counters.
//
// Clients use maxRetries: 0 so that every retry seen is the gateway's own.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';

import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';

import { sleep, startGateway, startMock } from './harness.mjs';

const CLIENT_KEY = 'sk-e2e-client-0123456789';
// Fingerprints (core/key_fingerprint.h) of the OpenAI provider's two keys in the mock's stats.
const KEY_A = 'sk-o...aaaa';
const KEY_B = 'sk-o...bbbb';
const WEATHER = {
  name: 'get_weather',
  description: 'Current weather for a city',
  input_schema: {
    type: 'object',
    properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['c', 'f'] } },
    required: ['city', 'unit'],
  },
};

let mock;
let gateway;
let claude;  // Anthropic SDK -> gateway
let openai;  // OpenAI SDK -> gateway

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
    api_keys: ["sk-openai-e2e-aaaa", "sk-openai-e2e-bbbb"]
  claude-mock:
    kind: anthropic
    base_url: ${mockURL}/v1
    api_keys: ["sk-ant-e2e-cccc-0000"]
policies:
  default:
    max_attempts: 3
    timeouts: {attempt: 5s, total: 15s}
    backoff: {kind: exponential, base_delay: 10ms, max_delay: 50ms, jitter: full}
    pushback: {max: 2s}
    circuit_breaker: {enabled: false}
  single:
    max_attempts: 1
models:
  gpt-4o-mini:
    deployments: [{provider: openai-mock, model: gpt-4o-mini}]
  gpt-single:
    policy: single
    deployments: [{provider: openai-mock, model: gpt-4o-mini}]
  claude-sonnet:
    deployments: [{provider: claude-mock, model: claude-sonnet-4}]
  gpt-then-claude:
    policy: single
    deployments: [{provider: openai-mock, model: gpt-4o}]
    fallbacks: [claude-sonnet]
`;
}

before(async () => {
  mock = await startMock({ args: ['--seed', '11'] });
  gateway = await startGateway({ config: config(mock.url) });
  claude = new Anthropic({ baseURL: gateway.url, apiKey: CLIENT_KEY, maxRetries: 0,
                           timeout: 15000 });
  openai = new OpenAI({ baseURL: gateway.baseURL, apiKey: CLIENT_KEY, maxRetries: 0,
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

async function byEndpoint() {
  return (await mock.stats()).by_endpoint;
}

describe('Anthropic SDK on /v1/messages', () => {
  for (const [model, endpoint] of [['gpt-4o-mini', 'chat.completions'],
                                   ['claude-sonnet', 'messages']]) {
    test(`messages.create served via ${endpoint}`, async () => {
      const { data, response } = await claude.messages
        .create({ model, max_tokens: 8, messages: [{ role: 'user', content: 'Say hello.' }] })
        .withResponse();
      assert.equal(data.type, 'message');
      assert.equal(data.role, 'assistant');
      assert.equal(data.model, model);
      assert.ok(['end_turn', 'max_tokens'].includes(data.stop_reason), data.stop_reason);
      assert.equal(data.content.length, 1);
      assert.equal(data.content[0].type, 'text');
      // The mock writes exactly 4 characters per token.
      assert.equal(data.content[0].text.length, 32);
      assert.equal(data.usage.output_tokens, 8);
      assert.ok(data.usage.input_tokens > 0);
      assert.match(data.id, /^msg_/);
      assert.ok(data._request_id, 'request-id header reaches the SDK');
      assert.equal(response.headers.get('x-sheepdog-attempts'), '1');
      assert.deepEqual(await byEndpoint(), { [endpoint]: 1 });
    });

    test(`messages.stream served via ${endpoint} assembles the same answer`, async () => {
      const request = { model, max_tokens: 12,
                        messages: [{ role: 'user', content: 'Tell me a story.' }] };
      const whole = await claude.messages.create(request);
      const stream = claude.messages.stream(request);
      const types = [];
      for await (const event of stream) {
        types.push(event.type);
      }
      const final = await stream.finalMessage();
      assert.equal(types[0], 'message_start');
      assert.equal(types.at(-1), 'message_stop');
      assert.ok(types.filter((t) => t === 'content_block_delta').length >= 12,
                `a delta per token: ${types.join(',')}`);
      assert.equal(final.content[0].text, whole.content[0].text);
      assert.equal(final.usage.output_tokens, 12);
      assert.deepEqual(await byEndpoint(), { [endpoint]: 2 });
    });

    test(`tools via ${endpoint}: a tool_use block whose input fits the schema`, async () => {
      for (const stream of [false, true]) {
        const request = {
          model, max_tokens: 64, tools: [WEATHER],
          tool_choice: { type: 'tool', name: 'get_weather' },
          messages: [{ role: 'user', content: 'Weather in Paris?' }],
        };
        const message = stream ? await claude.messages.stream(request).finalMessage()
                               : await claude.messages.create(request);
        assert.equal(message.stop_reason, 'tool_use');
        const use = message.content.find((b) => b.type === 'tool_use');
        assert.ok(use, JSON.stringify(message.content));
        assert.equal(use.name, 'get_weather');
        assert.equal(typeof use.input.city, 'string');
        assert.ok(['c', 'f'].includes(use.input.unit), `unit ${use.input.unit}`);
      }
    });
  }

  test('a tool result goes back to the model and it answers', async () => {
    const message = await claude.messages.create({
      model: 'gpt-4o-mini', max_tokens: 8, tools: [WEATHER],
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather',
                                         input: { city: 'Paris', unit: 'c' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1',
                                    content: '21 C and sunny' }] },
      ],
      tool_choice: { type: 'none' },
    });
    assert.equal(message.content[0].type, 'text');
  });

  test('errors raise the SDK classes', async () => {
    await assert.rejects(
      claude.messages.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }),
      (e) => e instanceof Anthropic.BadRequestError && /max_tokens/.test(e.message));
    await assert.rejects(
      claude.messages.create({ model: 'no-such-model', max_tokens: 4,
                               messages: [{ role: 'user', content: 'x' }] }),
      (e) => e instanceof Anthropic.NotFoundError && e.error?.error?.type === 'not_found_error');
    const stranger = new Anthropic({ baseURL: gateway.url, apiKey: 'sk-wrong', maxRetries: 0 });
    await assert.rejects(
      stranger.messages.create({ model: 'gpt-4o-mini', max_tokens: 4,
                                 messages: [{ role: 'user', content: 'x' }] }),
      (e) => e instanceof Anthropic.AuthenticationError);
    await mock.script({ outcomes: ['429'] });
    await assert.rejects(
      claude.messages.create({ model: 'gpt-single', max_tokens: 4,
                               messages: [{ role: 'user', content: 'x' }] }),
      (e) => e instanceof Anthropic.RateLimitError && e.headers.get('retry-after') !== null);
    await mock.script({ outcomes: ['service_unavailable', 'service_unavailable',
                                   'service_unavailable'] });
    await assert.rejects(
      claude.messages.create({ model: 'claude-sonnet', max_tokens: 4,
                               messages: [{ role: 'user', content: 'x' }] }),
      (e) => e instanceof Anthropic.InternalServerError &&
             e.error?.error?.type === 'overloaded_error');
  });
});

describe('OpenAI SDK on the translated path', () => {
  test('chat.completions served by Claude, whole and streamed', async () => {
    const request = { model: 'claude-sonnet', max_tokens: 10,
                      messages: [{ role: 'system', content: 'Be brief.' },
                                 { role: 'user', content: 'Say hello.' }] };
    const completion = await openai.chat.completions.create(request);
    assert.equal(completion.object, 'chat.completion');
    assert.equal(completion.choices[0].message.content.length, 40);
    assert.equal(completion.usage.completion_tokens, 10);
    let content = '';
    let usage = null;
    const stream = await openai.chat.completions.create({
      ...request, stream: true, stream_options: { include_usage: true } });
    for await (const chunk of stream) {
      content += chunk.choices[0]?.delta?.content ?? '';
      usage = chunk.usage ?? usage;
    }
    assert.equal(content, completion.choices[0].message.content);
    assert.equal(usage.completion_tokens, 10);
    assert.deepEqual(await byEndpoint(), { messages: 2 });
  });

  test('tools: Claude\'s tool_use comes back as an OpenAI tool call', async () => {
    const completion = await openai.chat.completions.create({
      model: 'claude-sonnet',
      messages: [{ role: 'user', content: 'Weather in Oslo?' }],
      tools: [{ type: 'function', function: { name: WEATHER.name,
                                              parameters: WEATHER.input_schema } }],
      tool_choice: 'required',
    });
    assert.equal(completion.choices[0].finish_reason, 'tool_calls');
    const call = completion.choices[0].message.tool_calls[0];
    assert.equal(call.function.name, 'get_weather');
    assert.equal(typeof JSON.parse(call.function.arguments).city, 'string');
  });

  for (const stream of [false, true]) {
    test(`fallback from an OpenAI alias to a Claude alias (${stream ? 'streamed' : 'whole'})`,
         async () => {
      await mock.script({ model: 'gpt-4o', outcomes: ['500'] });
      const request = { model: 'gpt-then-claude', max_tokens: 6,
                        messages: [{ role: 'user', content: 'Say hello.' }] };
      let content = '';
      let deployment;
      if (stream) {
        const { data, response } = await openai.chat.completions
          .create({ ...request, stream: true }).withResponse();
        deployment = response.headers.get('x-sheepdog-deployment');
        for await (const chunk of data) {
          assert.equal(chunk.object, 'chat.completion.chunk');
          content += chunk.choices[0]?.delta?.content ?? '';
        }
      } else {
        const { data, response } = await openai.chat.completions.create(request).withResponse();
        deployment = response.headers.get('x-sheepdog-deployment');
        assert.equal(data.object, 'chat.completion');
        content = data.choices[0].message.content;
      }
      assert.equal(deployment, 'claude-mock/claude-sonnet-4');
      assert.equal(content.length, 24);
      assert.deepEqual(await byEndpoint(), { 'chat.completions': 1, messages: 1 });
    });
  }

  test('the same fallback for an Anthropic SDK client', async () => {
    await mock.script({ model: 'gpt-4o', outcomes: ['500'] });
    const message = await claude.messages.stream({
      model: 'gpt-then-claude', max_tokens: 6, messages: [{ role: 'user', content: 'Hi.' }],
    }).finalMessage();
    assert.equal(message.content[0].text.length, 24);
    assert.deepEqual(await byEndpoint(), { 'chat.completions': 1, messages: 1 });
  });
});

describe('keys and idempotency', () => {
  test('a key at its provider limit is rotated out; every request succeeds', async () => {
    // The mock refuses key A past 2 requests a minute; the gateway does not know that limit.
    const keyState = async () => {
      const health = await (await fetch(`${gateway.url}/health/deployments`,
                                         { headers: { authorization: `Bearer ${CLIENT_KEY}` } })).json();
      const keys = health.deployments.find((d) => d.name === 'openai-mock/gpt-4o-mini').keys;
      return keys.find((k) => k.key === KEY_A);
    };
    // An earlier test's 429 may have left key A resting (for the mock's 1 s retry-after).
    let before = await keyState();
    for (let i = 0; i < 100 && before.cooling; i += 1) {
      await sleep(50);
      before = await keyState();
    }
    assert.equal(before.cooling, false);
    await mock.faults({ keys: { 'sk-openai-e2e-aaaa': { rpm: 2 } } });
    for (let i = 0; i < 8; i += 1) {
      const completion = await openai.chat.completions.create({
        model: 'gpt-4o-mini', max_tokens: 2, messages: [{ role: 'user', content: `n${i}` }] });
      assert.equal(completion.object, 'chat.completion');
    }
    const stats = await mock.stats();
    // Round robin until A is refused (its 3rd call), then A rests for the mock's retry-after.
    assert.equal(stats.by_key[KEY_A], 3);
    assert.equal(stats.by_key[KEY_B], 6);
    assert.equal(stats.by_outcome.rate_limited, 1);
    const a = await keyState();
    assert.equal(a.cooling, true);
    assert.equal(a.cool_downs, before.cool_downs + 1);
    await mock.faults({ keys: {} });
  });

  test('a repeated Idempotency-Key never reaches the upstream twice', async () => {
    const request = { model: 'claude-sonnet', max_tokens: 5,
                      messages: [{ role: 'user', content: 'Once only.' }] };
    const options = { headers: { 'Idempotency-Key': 'e2e-once-1' } };
    const first = await openai.chat.completions.create(request, options).withResponse();
    const [second, third] = await Promise.all([
      openai.chat.completions.create(request, options).withResponse(),
      claude.messages.create({ ...request }, options).withResponse().catch((e) => e),
    ]);
    assert.deepEqual(second.data, first.data);
    assert.equal(second.response.headers.get('x-sheepdog-idempotent-replay'), 'true');
    // The same key on /v1/messages is another request body: 422, as the Anthropic SDK sees it.
    assert.equal(third.status, 422);
    const streamed = await claude.messages.stream(
      { ...request, messages: [{ role: 'user', content: 'Stream once.' }] },
      { headers: { 'Idempotency-Key': 'e2e-once-2' } }).finalMessage();
    const replayed = await claude.messages.stream(
      { ...request, messages: [{ role: 'user', content: 'Stream once.' }] },
      { headers: { 'Idempotency-Key': 'e2e-once-2' } }).finalMessage();
    assert.deepEqual(replayed.content, streamed.content);
    assert.equal((await mock.stats()).total, 2);
  });
});
