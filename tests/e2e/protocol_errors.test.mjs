// End-to-end: the HTTP server's protocol errors as the official SDKs see them (issue 10).
//   - a chat request over the 4 MiB body limit gets a 413 the openai SDK raises as an APIError
//     with status 413, every time (it used to be "Connection error." when the connection closed
//     with unread body bytes);
//   - on /v1/messages the same 413, the 405 and the 404 for unknown /v1/messages/* paths come in
//     Anthropic's envelope, so @anthropic-ai/sdk raises its own error classes with their types.
// Clients use maxRetries: 0 so that every answer seen is the gateway's own.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';

import net from 'node:net';

import { startGateway, startMock } from './harness.mjs';

// Writes `raw` on a new connection and resolves with everything read until the server closes.
function rawExchange(port, raw) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(raw));
    let data = '';
    socket.setTimeout(5000, () => socket.destroy(new Error('timed out')));
    socket.on('data', (chunk) => { data += chunk.toString(); });
    socket.on('end', () => resolve(data));
    socket.on('error', reject);
  });
}

let mock;
let gateway;

before(async () => {
  mock = await startMock();
  gateway = await startGateway({ config: null, args: ['--upstream', mock.baseURL] });
});

after(async () => {
  await gateway?.stop();
  await mock?.stop();
});

describe('bodies over the limit', () => {
  test('openai SDK: a 5 MB message is a 413 APIError every time, never a connection error',
       async () => {
    const client = new OpenAI({ baseURL: gateway.baseURL, apiKey: 'unused', maxRetries: 0 });
    const content = 'x'.repeat(5 * 1000 * 1000);
    for (let i = 0; i < 8; i++) {
      await assert.rejects(
        client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }] }),
        (e) => {
          assert.ok(e instanceof OpenAI.APIError, `try ${i}: ${e}`);
          assert.equal(e.status, 413, `try ${i}: ${e.message}`);
          assert.equal(e.code, 'request_too_large');
          return true;
        });
    }
    const stats = await mock.stats();
    assert.equal(stats.total, 0, 'nothing reached the upstream');
  });

  test('anthropic SDK: the 413 is Anthropic-shaped (request_too_large)', async () => {
    const client = new Anthropic({ baseURL: gateway.url, apiKey: 'unused', maxRetries: 0 });
    const content = 'x'.repeat(5 * 1000 * 1000);
    await assert.rejects(
      client.messages.create({ model: 'gpt-4o-mini', max_tokens: 16,
                               messages: [{ role: 'user', content }] }),
      (e) => {
        assert.ok(e instanceof Anthropic.APIError, String(e));
        assert.equal(e.status, 413);
        assert.equal(e.error?.type, 'error');
        assert.equal(e.error?.error?.type, 'request_too_large');
        return true;
      });
  });
});

describe('Anthropic paths get Anthropic envelopes', () => {
  test('405 on GET /v1/messages and 404 on an unknown /v1/messages/* path', async () => {
    const wrongMethod = await fetch(`${gateway.url}/v1/messages`);
    assert.equal(wrongMethod.status, 405);
    assert.equal(wrongMethod.headers.get('allow'), 'POST');
    const body405 = await wrongMethod.json();
    assert.equal(body405.type, 'error');
    assert.equal(body405.error.type, 'invalid_request_error');

    const unknown = await fetch(`${gateway.url}/v1/messages/batches`, { method: 'POST', body: '{}' });
    assert.equal(unknown.status, 404);
    const body404 = await unknown.json();
    assert.equal(body404.type, 'error');
    assert.equal(body404.error.type, 'not_found_error');
    assert.match(body404.error.message, /\/v1\/messages\/batches/);

    const openaiPath = await fetch(`${gateway.url}/v1/nope`);
    assert.equal(openaiPath.status, 404);
    assert.equal((await openaiPath.json()).error.code, 'unknown_url');  // OpenAI's shape
  });

  test('protocol errors on /v1/messages (413, 501, 400) are Anthropic-shaped', async () => {
    const cases = [
      ['POST /v1/messages HTTP/1.1\r\nHost: x\r\nContent-Length: 9999999\r\n\r\n', 413,
       'request_too_large'],
      ['POST /v1/messages HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n', 501,
       'api_error'],
      ['POST /v1/messages HTTP/1.1\r\nX: a\r\n folded\r\n\r\n', 400, 'invalid_request_error'],
      ['POST /v1/chat/completions HTTP/1.1\r\nContent-Length: 9999999\r\n\r\n', 413, null],
    ];
    for (const [raw, status, type] of cases) {
      const reply = await rawExchange(gateway.port, raw);
      assert.match(reply, new RegExp(`^HTTP/1\\.1 ${status} `), raw);
      const body = JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4));
      if (type) {
        assert.equal(body.type, 'error', raw);
        assert.equal(body.error.type, type, raw);
      } else {
        assert.equal(body.error.code, 'request_too_large', raw);  // OpenAI's shape
      }
    }
  });
});
