// Child-process harness shared by the end-to-end tests (tests/e2e) and the load scripts
// (bench/load): starts `sheepdog mock` and `sheepdog serve` on free loopback ports, waits until
// they answer, talks to the mock's control endpoints, and always stops what it started (an
// `exit` hook SIGKILLs any child still alive, so a crashed test never leaves one behind).
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

// The binary under test: $SHEEPDOG_BIN, else the release build.
export function sheepdogBin() {
  const bin = process.env.SHEEPDOG_BIN || path.join(repoRoot, 'build/release/bin/sheepdog');
  if (!existsSync(bin)) {
    throw new Error(`sheepdog binary not found at ${bin}; set SHEEPDOG_BIN`);
  }
  return bin;
}

const live = new Set();
function killAll() {
  for (const child of live) {
    try {
      child.proc.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}
process.on('exit', killAll);
// A signal would skip 'exit' handlers: kill the children, then die of the same signal.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(signal, () => {
    killAll();
    process.kill(process.pid, signal);
  });
}

// A port that was free a moment ago. Racy in principle (another process may take it before the
// child binds), harmless on a test machine; the children are told the port on their command line.
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// One child process with its output kept (the last 64 KiB) for failure messages.
export class Child {
  constructor(name, command, args, options = {}) {
    this.name = name;
    this.command = command;
    this.args = args;
    this.output = '';
    this.exitCode = undefined;
    this.signal = undefined;
    this.proc = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...(options.env || {}) },
      cwd: options.cwd || repoRoot,
    });
    live.add(this);
    const keep = (chunk) => {
      this.output += chunk.toString();
      if (this.output.length > 65536) {
        this.output = this.output.slice(-65536);
      }
      if (options.echo) {
        process.stderr.write(`[${name}] ${chunk}`);
      }
    };
    this.proc.stdout.on('data', keep);
    this.proc.stderr.on('data', keep);
    // Optionally all of stderr (the gateway's JSON log lines) to a file, unbounded.
    if (options.stderrFile) {
      const file = createWriteStream(options.stderrFile);
      this.proc.stderr.pipe(file);
      this.stderrClosed = new Promise((resolve) => file.on('close', resolve));
    }
    this.exited = new Promise((resolve) => {
      this.proc.on('exit', (code, signal) => {
        this.exitCode = code;
        this.signal = signal;
        live.delete(this);
        resolve({ code, signal });
      });
    });
  }

  get pid() {
    return this.proc.pid;
  }

  get running() {
    return this.exitCode === undefined && this.signal === undefined;
  }

  // SIGTERM, then SIGKILL after `graceMs`. Resolves with {code, signal}.
  async stop(graceMs = 5000) {
    if (!this.running) {
      return { code: this.exitCode, signal: this.signal };
    }
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.running && this.proc.kill('SIGKILL'), graceMs);
    const result = await this.exited;
    clearTimeout(timer);
    return result;
  }

  describe() {
    return `${this.name}: ${this.command} ${this.args.join(' ')}\n--- output ---\n${this.output}`;
  }
}

// Polls `url` until it answers with a status below 500 (or `ok(status)`), the child dies, or
// `timeoutMs` passes.
export async function waitForHttp(url, child, { timeoutMs = 15000, ok } = {}) {
  const accept = ok || ((status) => status < 500);
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (child && !child.running) {
      throw new Error(`${child.name} exited (${child.exitCode ?? child.signal}) before ready\n` +
                      child.describe());
    }
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await response.arrayBuffer();
      if (accept(response.status)) {
        return;
      }
      last = `status ${response.status}`;
    } catch (e) {
      last = e.cause?.code || e.message;
    }
    await sleep(50);
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms (${last})` +
                  (child ? `\n${child.describe()}` : ''));
}

// A running `sheepdog mock` with helpers for its control endpoints.
export class Mock {
  constructor(child, port) {
    this.child = child;
    this.port = port;
    this.url = `http://127.0.0.1:${port}`;
    this.baseURL = `${this.url}/v1`;
  }

  async control(method, pathname, body) {
    const response = await fetch(`${this.url}${pathname}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (response.status >= 300) {
      throw new Error(`${method} ${pathname} -> ${response.status}: ${text}`);
    }
    return text ? JSON.parse(text) : null;
  }

  // See src/mock/mock_config_decode.h for the body shapes.
  faults(body) {
    return this.control('POST', '/_mock/faults', body);
  }
  script(body) {
    return this.control('POST', '/_mock/script', body);
  }
  reset() {
    return this.control('POST', '/_mock/reset');
  }
  stats() {
    return this.control('GET', '/_mock/stats');
  }
  stop(graceMs) {
    return this.child.stop(graceMs);
  }
}

// Resolves with the first match of `pattern` in the child's output, or rejects when the child
// exits or `timeoutMs` passes.
export function waitForOutput(child, pattern, timeoutMs = 15000) {
  return new Promise((resolve, reject) => {
    const check = () => {
      const match = child.output.match(pattern);
      if (match) {
        finish();
        resolve(match);
      } else if (!child.running) {
        finish();
        reject(new Error(`${child.name} exited before printing ${pattern}\n${child.describe()}`));
      }
    };
    const timer = setTimeout(() => {
      finish();
      reject(new Error(`${child.name} did not print ${pattern} in ${timeoutMs} ms\n` +
                       child.describe()));
    }, timeoutMs);
    const finish = () => {
      clearTimeout(timer);
      child.proc.stdout.off('data', check);
      child.proc.stderr.off('data', check);
      child.proc.off('exit', check);
    };
    child.proc.stdout.on('data', check);
    child.proc.stderr.on('data', check);
    child.proc.on('exit', check);
    check();
  });
}

// `sheepdog mock` on `port` (default 0: the mock picks a free port and prints its URL).
export async function startMock({ args = [], port = 0, echo = false } = {}) {
  const child = new Child(`mock:${port}`, sheepdogBin(),
                          ['mock', '--host', '127.0.0.1', '--port', String(port), ...args],
                          { echo });
  const match = await waitForOutput(child, /listening on http:\/\/127\.0\.0\.1:(\d+)/);
  const mock = new Mock(child, Number(match[1]));
  child.name = `mock:${mock.port}`;
  await waitForHttp(`${mock.url}/_mock/health`, child);
  return mock;
}

// A running `sheepdog serve`; `config` is the YAML text (written to a temp file) or null to use
// quick-start `args` alone.
export class Gateway {
  constructor(child, port, dir) {
    this.child = child;
    this.port = port;
    this.dir = dir;
    this.url = `http://127.0.0.1:${port}`;
    this.baseURL = `${this.url}/v1`;
  }

  async stop(graceMs) {
    const result = await this.child.stop(graceMs);
    if (this.dir) {
      rmSync(this.dir, { recursive: true, force: true });
      this.dir = null;
    }
    return result;
  }
}

// `sheepdog serve` on a free port. `config`: YAML text, or a function of the port to put in it
// (called with 0: the gateway picks a free port and prints it), written to a temp file; null
// for the quick start with `args` alone (e.g. ['--upstream', URL]).
export async function startGateway({ config, args = [], echo = false, env, stderrFile } = {}) {
  let dir = null;
  const argv = ['serve'];
  if (config !== undefined && config !== null) {
    dir = mkdtempSync(path.join(os.tmpdir(), 'sheepdog-e2e-'));
    const file = path.join(dir, 'sheepdog.yaml');
    writeFileSync(file, typeof config === 'function' ? config(0) : config);
    argv.push('--config', file);
  } else {
    argv.push('--host', '127.0.0.1', '--port', '0');
  }
  argv.push(...args);
  const child = new Child('serve', sheepdogBin(), argv, { echo, env, stderrFile });
  const cleanup = () => dir && rmSync(dir, { recursive: true, force: true });
  try {
    const match = await waitForOutput(child, /listening on http:\/\/127\.0\.0\.1:(\d+)/);
    const gateway = new Gateway(child, Number(match[1]), dir);
    child.name = `serve:${gateway.port}`;
    await waitForHttp(`${gateway.url}/health`, child, { ok: (status) => status === 200 });
    return gateway;
  } catch (e) {
    await child.stop(1000);
    cleanup();
    throw e;
  }
}

// YAML for a gateway on `port` whose models route to OpenAI-compatible `upstreams`
// ([{name, baseURL, key}]) in order of preference. Policy values keep tests fast: small backoff,
// short pushback cap.
export function gatewayConfig({ port, upstreams, apiKeys, models = ['gpt-4o-mini', 'gpt-4o',
                                 'text-embedding-3-small'], policy = {} }) {
  const lines = [];
  lines.push('server:');
  lines.push('  host: 127.0.0.1');
  lines.push(`  port: ${port}`);
  lines.push('  threads: 2');
  if (apiKeys) {
    lines.push(`  api_keys: [${apiKeys.map((k) => JSON.stringify(k)).join(', ')}]`);
  }
  lines.push('providers:');
  for (const u of upstreams) {
    lines.push(`  ${u.name}:`);
    lines.push('    kind: openai');
    lines.push(`    base_url: ${u.baseURL}`);
    lines.push(`    api_keys: [${JSON.stringify(u.key || `sk-upstream-${u.name}-0000`)}]`);
    lines.push('    connect_timeout: 1s');
  }
  const p = {
    max_attempts: 3,
    attempt: '5s',
    total: '20s',
    first_token: '5s',
    base_delay: '10ms',
    max_delay: '100ms',
    pushback_max: '2s',
    breaker: true,
    ...policy,
  };
  lines.push('policies:');
  lines.push('  default:');
  lines.push(`    max_attempts: ${p.max_attempts}`);
  lines.push(`    timeouts: {attempt: ${p.attempt}, total: ${p.total}, first_token: ${p.first_token}}`);
  lines.push(`    backoff: {kind: exponential, base_delay: ${p.base_delay}, max_delay: ${p.max_delay}, jitter: full}`);
  lines.push(`    pushback: {honor: true, max: ${p.pushback_max}}`);
  lines.push(`    circuit_breaker: {enabled: ${p.breaker}}`);
  if (p.extra) {
    for (const line of p.extra) {
      lines.push(`    ${line}`);
    }
  }
  lines.push('models:');
  for (const model of models) {
    lines.push(`  ${model}:`);
    lines.push('    deployments:');
    for (const u of upstreams) {
      lines.push(`      - {provider: ${u.name}, model: ${model}}`);
    }
  }
  return lines.join('\n') + '\n';
}

// Percentile by nearest rank over a sorted array.
export function percentile(sorted, q) {
  if (sorted.length === 0) {
    return NaN;
  }
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1];
}
