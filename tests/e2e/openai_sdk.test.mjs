// End-to-end conformance with the official `openai` npm SDK: `sheepdog serve` in front of
// `sheepdog mock`, both real processes on loopback. Clients use maxRetries: 0 so that every
// retry seen is the gateway's own. The mock's stats prove what reached the upstream.
//
// Run: SHEEPDOG_BIN=build/release/bin/sheepdog node --test tests/e2e/   (or tests/cli/e2e.sh)
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';

import OpenAI from 'openai';

import { freePort, gatewayConfig, startGateway, startMock } from './harness.mjs';

const CLIENT_KEY = 'sk-e2e-client-0123456789';
const WEATHER_TOOL = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather for a city',
    parameters: {
      type: 'object',
      properties: {
        city: { type: 'string' },
        unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
      },
      required: ['city', 'unit'],
      additionalProperties: false,
    },
  },
};

let mock;
let gateway;
let client;

before(async () => {
  mock = await startMock({ args: ['--seed', '7'] });
  // Breaker off: the error-class tests below fail on purpose and must not trip it for the rest.
  gateway = await startGateway({
    config: (port) =>
      gatewayConfig({
        port,
        upstreams: [{ name: 'primary', baseURL: mock.baseURL }],
        apiKeys: [CLIENT_KEY],
        policy: { max_attempts: 2, breaker: false },
      }),
  });
  client = new OpenAI({ baseURL: gateway.baseURL, apiKey: CLIENT_KEY, maxRetries: 0,
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

async function upstreamTotal() {
  return (await mock.stats()).total;
}

describe('successful calls', () => {
  test('chat completion, non-streaming, with gateway headers', async () => {
    const { data, response } = await client.chat.completions
      .create(
        { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello.' }],
          max_tokens: 8 },
        { headers: { 'x-request-id': 'e2e-req-0001' } })
      .withResponse();
    assert.equal(data.object, 'chat.completion');
    assert.equal(data.choices.length, 1);
    assert.equal(data.choices[0].message.role, 'assistant');
    assert.equal(data.choices[0].finish_reason, 'stop');
    assert.equal(typeof data.choices[0].message.content, 'string');
    // The mock writes exactly 4 characters per token.
    assert.equal(data.choices[0].message.content.length, 32);
    assert.equal(data.usage.completion_tokens, 8);
    assert.ok(data.usage.prompt_tokens > 0);
    assert.equal(response.headers.get('x-request-id'), 'e2e-req-0001');
    assert.equal(response.headers.get('x-sheepdog-attempts'), '1');
    assert.ok(response.headers.get('x-sheepdog-deployment'), 'x-sheepdog-deployment is set');
    assert.equal(await upstreamTotal(), 1);
  });

  test('streaming: chunks arrive through the async iterator and assemble the answer',
       async () => {
    const request = { model: 'gpt-4o-mini', max_tokens: 12,
                      messages: [{ role: 'user', content: 'Tell me a story.' }] };
    const whole = await client.chat.completions.create(request);
    const stream = await client.chat.completions.create({ ...request, stream: true });
    let content = '';
    let chunks = 0;
    let finish = null;
    for await (const chunk of stream) {
      assert.equal(chunk.object, 'chat.completion.chunk');
      chunks += 1;
      const choice = chunk.choices[0];
      if (choice?.delta?.content) {
        content += choice.delta.content;
      }
      if (choice?.finish_reason) {
        finish = choice.finish_reason;
      }
    }
    assert.ok(chunks >= 12, `one chunk per token at least, got ${chunks}`);
    assert.equal(finish, 'stop');
    // The mock seeds its text by the prompt: streamed and whole answers are the same text.
    assert.equal(content, whole.choices[0].message.content);
    assert.equal(await upstreamTotal(), 2);
  });

  test('tools: a tool call with arguments that parse and fit the schema', async () => {
    const completion = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      tools: [WEATHER_TOOL],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
    });
    const choice = completion.choices[0];
    assert.equal(choice.finish_reason, 'tool_calls');
    assert.equal(choice.message.tool_calls.length, 1);
    const call = choice.message.tool_calls[0];
    assert.equal(call.type, 'function');
    assert.match(call.id, /^call_/);
    assert.equal(call.function.name, 'get_weather');
    const args = JSON.parse(call.function.arguments);
    assert.equal(typeof args.city, 'string');
    assert.ok(['celsius', 'fahrenheit'].includes(args.unit), `unit ${args.unit}`);
  });

  test('tools, streaming: argument deltas assemble to parseable JSON', async () => {
    const stream = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'Weather in Oslo?' }],
      tools: [WEATHER_TOOL],
      tool_choice: 'required',
      stream: true,
    });
    let name = '';
    let args = '';
    let finish = null;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      for (const delta of choice?.delta?.tool_calls ?? []) {
        name += delta.function?.name ?? '';
        args += delta.function?.arguments ?? '';
      }
      finish = choice?.finish_reason ?? finish;
    }
    assert.equal(name, 'get_weather');
    assert.equal(finish, 'tool_calls');
    assert.equal(typeof JSON.parse(args).city, 'string');
  });

  test('embeddings, float and the SDK default (base64)', async () => {
    const floats = await client.embeddings.create({
      model: 'text-embedding-3-small', input: ['alpha', 'beta'], encoding_format: 'float' });
    assert.equal(floats.object, 'list');
    assert.equal(floats.data.length, 2);
    assert.equal(floats.data[0].embedding.length, 1536);
    assert.deepEqual(floats.data.map((d) => d.index), [0, 1]);
    const norm = Math.hypot(...floats.data[0].embedding);
    assert.ok(Math.abs(norm - 1) < 1e-3, `unit vector, norm ${norm}`);
    // Without encoding_format the SDK asks for base64 and decodes it itself.
    const decoded = await client.embeddings.create({
      model: 'text-embedding-3-small', input: 'alpha', dimensions: 64 });
    assert.equal(decoded.data[0].embedding.length, 64);
    assert.ok(decoded.data[0].embedding.every((x) => Number.isFinite(x)));
  });

  test('models list: the configured aliases', async () => {
    const ids = [];
    for await (const model of client.models.list()) {
      ids.push(model.id);
    }
    for (const alias of ['gpt-4o-mini', 'gpt-4o', 'text-embedding-3-small']) {
      assert.ok(ids.includes(alias), `${alias} in ${ids}`);
    }
  });

  test('a transient upstream 500 is retried by the gateway, invisibly to the SDK', async () => {
    await mock.script(['500', 'ok']);
    const { data, response } = await client.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] })
      .withResponse();
    assert.equal(data.choices[0].finish_reason, 'stop');
    assert.equal(response.headers.get('x-sheepdog-attempts'), '2');
    assert.equal(await upstreamTotal(), 2);
  });
});

describe('error classes', () => {
  const chat = (c = client, extra = {}) =>
    c.chat.completions.create({ model: 'gpt-4o-mini',
                                messages: [{ role: 'user', content: 'hi' }], ...extra });

  test('RateLimitError when every attempt gets 429', async () => {
    await mock.script(Array(6).fill('429'));
    const err = await chat().then(() => null, (e) => e);
    assert.ok(err instanceof OpenAI.RateLimitError, `got ${err?.constructor?.name}: ${err}`);
    assert.equal(err.status, 429);
    assert.ok(err.headers.get('retry-after'), 'a 429 from the gateway carries retry-after');
    assert.equal(typeof err.error?.message, 'string');
    assert.equal(await upstreamTotal(), 2, 'exactly max_attempts reached the upstream');
  });

  // On its own gateway, so that a gateway failure here cannot take the other tests down with it.
  test('AuthenticationError for a wrong client key; nothing forwarded; the gateway stays up',
       async () => {
    const guarded = await startGateway({
      config: (port) => gatewayConfig({ port, apiKeys: [CLIENT_KEY],
                                        upstreams: [{ name: 'primary', baseURL: mock.baseURL }] }),
    });
    try {
      const wrong = new OpenAI({ baseURL: guarded.baseURL, apiKey: 'sk-wrong', maxRetries: 0 });
      const err = await chat(wrong).then(() => null, (e) => e);
      assert.ok(err instanceof OpenAI.AuthenticationError,
                `got ${err?.constructor?.name}: ${err}`);
      assert.equal(err.status, 401);
      assert.equal(err.error?.type, 'invalid_request_error');
      assert.equal(await upstreamTotal(), 0);
      const right = new OpenAI({ baseURL: guarded.baseURL, apiKey: CLIENT_KEY, maxRetries: 0 });
      const ok = await chat(right).then((v) => v, (e) => e);
      assert.equal(ok?.choices?.[0]?.finish_reason, 'stop',
                   `after the 401: ${ok}\n${guarded.child.describe()}`);
    } finally {
      await guarded.stop();
    }
  });

  test('BadRequestError for an invalid body; nothing is forwarded', async () => {
    const err = await chat(client, { messages: 'not a list' }).then(() => null, (e) => e);
    assert.ok(err instanceof OpenAI.BadRequestError, `got ${err?.constructor?.name}: ${err}`);
    assert.equal(err.status, 400);
    assert.equal(typeof err.error?.message, 'string');
    assert.ok(err.error.message.length > 0);
    assert.equal(await upstreamTotal(), 0);
  });

  test('NotFoundError (404) for an unknown model alias', async () => {
    const err = await chat(client, { model: 'no-such-model' }).then(() => null, (e) => e);
    assert.ok(err instanceof OpenAI.APIError, `got ${err?.constructor?.name}: ${err}`);
    assert.ok([400, 404].includes(err.status), `status ${err.status}`);
    assert.equal(await upstreamTotal(), 0);
  });

  test('InternalServerError when the upstream fails every attempt', async () => {
    await mock.script(Array(6).fill('500'));
    const err = await chat().then(() => null, (e) => e);
    assert.ok(err instanceof OpenAI.InternalServerError, `got ${err?.constructor?.name}: ${err}`);
    assert.ok(err.status >= 500, `status ${err.status}`);
    assert.equal(await upstreamTotal(), 2);
  });

  test('a mid-stream upstream failure raises in the iterator instead of ending cleanly',
       async () => {
    await mock.script(['truncated_stream']);
    const stream = await chat(client, { stream: true, max_tokens: 40 });
    let chunks = 0;
    const err = await (async () => {
      for await (const chunk of stream) {
        if (chunk.choices[0]?.delta?.content) {
          chunks += 1;
        }
      }
      return null;
    })().then((v) => v, (e) => e);
    assert.ok(err instanceof OpenAI.APIError, `stream ended with ${err} after ${chunks} chunks`);
    assert.ok(chunks > 0, 'chunks before the failure were relayed');
    assert.equal(await upstreamTotal(), 1, 'no retry once bytes reached the client');
  });

  test('APIConnectionError when nothing listens', async () => {
    const port = await freePort();
    const nowhere = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: CLIENT_KEY,
                                 maxRetries: 0 });
    const err = await chat(nowhere).then(() => null, (e) => e);
    assert.ok(err instanceof OpenAI.APIConnectionError, `got ${err?.constructor?.name}: ${err}`);
  });

  test('APIConnectionError after the gateway is stopped; SIGTERM exits cleanly', async () => {
    const second = await startGateway({
      config: (port) => gatewayConfig({ port, upstreams: [{ name: 'primary',
                                                             baseURL: mock.baseURL }] }),
    });
    const c = new OpenAI({ baseURL: second.baseURL, apiKey: 'unused', maxRetries: 0 });
    try {
      const ok = await chat(c);
      assert.equal(ok.choices[0].finish_reason, 'stop');
    } finally {
      const { code, signal } = await second.stop();
      assert.equal(code, 0, `exit code ${code} signal ${signal}\n${second.child.output}`);
    }
    const err = await chat(c).then(() => null, (e) => e);
    assert.ok(err instanceof OpenAI.APIConnectionError, `got ${err?.constructor?.name}: ${err}`);
  });
});
