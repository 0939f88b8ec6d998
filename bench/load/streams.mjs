// Opens N concurrent streaming chat completions against a gateway and reports the gateway
// process's memory (from /proc/PID/status) before, while all N streams are open, and after they
// have ended. The upstream should stream slowly (e.g. the mock at a few tokens per second) so
// that the streams overlap.
//
// node bench/load/streams.mjs --url http://127.0.0.1:PORT --pid PID [--streams 1000]
//     [--max-tokens 40] [--header 'Name: value']...
// Prints one JSON object on stdout.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    pid: { type: 'string' },
    streams: { type: 'string', default: '1000' },
    'max-tokens': { type: 'string', default: '40' },
    header: { type: 'string', multiple: true, default: [] },
    'open-timeout': { type: 'string', default: '30000' },
  },
});
if (!values.url || !values.pid) {
  console.error('usage: streams.mjs --url URL --pid PID [--streams N]');
  process.exit(2);
}

const target = new URL('/v1/chat/completions', values.url);
const count = Number(values.streams);
const headers = { 'content-type': 'application/json', authorization: 'Bearer sk-bench-streams' };
for (const h of values.header) {
  const i = h.indexOf(':');
  headers[h.slice(0, i).trim().toLowerCase()] = h.slice(i + 1).trim();
}
const body = JSON.stringify({
  model: 'gpt-4o-mini', stream: true, max_tokens: Number(values['max-tokens']),
  messages: [{ role: 'user', content: 'Stream me a long answer, slowly.' }],
});

function memory(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (name) => Number(status.match(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm'))?.[1]);
  return { rss_mib: kib('VmRSS') / 1024, hwm_mib: kib('VmHWM') / 1024 };
}

const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
let opened = 0;
let finished = 0;
let failed = 0;
let sawDone = 0;
let sawError = 0;
let resolveAllOpen;
const allOpen = new Promise((resolve) => (resolveAllOpen = resolve));
const ends = [];

const before = memory(values.pid);
const started = Date.now();
for (let i = 0; i < count; i++) {
  ends.push(new Promise((resolve) => {
    const req = http.request(target, { method: 'POST', headers, agent }, (res) => {
      let first = true;
      let tail = '';
      res.on('data', (chunk) => {
        if (first) {
          first = false;
          if (res.statusCode === 200 && ++opened === count) {
            resolveAllOpen();
          }
        }
        tail = (tail + chunk.toString()).slice(-4096);
      });
      res.on('end', () => {
        finished += 1;
        if (res.statusCode !== 200) {
          failed += 1;
        } else if (tail.includes('data: [DONE]')) {
          sawDone += 1;
        } else if (tail.includes('"error"')) {
          sawError += 1;
        }
        resolve();
      });
      res.on('error', () => {
        failed += 1;
        resolve();
      });
    });
    req.on('error', () => {
      failed += 1;
      resolve();
    });
    req.end(body);
  }));
}

const openTimeout = new Promise((resolve) => setTimeout(resolve, Number(values['open-timeout'])));
await Promise.race([allOpen, openTimeout]);
const openMs = Date.now() - started;
const during = memory(values.pid);
const openAtSample = opened;
await Promise.all(ends);
const totalMs = Date.now() - started;
const after = memory(values.pid);

console.log(JSON.stringify({
  streams: count,
  open_at_sample: openAtSample,
  ms_to_open_all: openMs,
  ms_total: totalMs,
  completed_with_done: sawDone,
  ended_with_error_event: sawError,
  failed,
  rss_mib_before: +before.rss_mib.toFixed(1),
  rss_mib_during: +during.rss_mib.toFixed(1),
  rss_mib_after: +after.rss_mib.toFixed(1),
  peak_rss_mib: +after.hwm_mib.toFixed(1),
}));
