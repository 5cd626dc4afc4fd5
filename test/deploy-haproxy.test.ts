import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHaproxy } from '../src/adapters/haproxy/haproxy.js';
import type { HaproxyPort, HaproxyServer } from '../src/adapters/haproxy/port.js';
import { haproxyTestConfig, requireHaproxy, runHaproxy, startTestBackend, type TestBackendServer, type TestHaproxy } from './support/haproxy.js';
import { REPO_ROOT } from './support/stack.js';

const run = promisify(execFile);
const CFG = join(REPO_ROOT, 'deploy', 'haproxy', 'haproxy.cfg');
const TEXT = readFileSync(CFG, 'utf8');

/** The directive lines of a section (`backend orders`), comments and blank lines left out. */
function section(text: string, header: string): string[] {
  const out: string[] = [];
  let inside = false;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    if (!line) continue;
    if (!/^\s/.test(raw)) inside = line === header;
    else if (inside) out.push(line.replace(/\s+/g, ' '));
  }
  return out;
}

/** The directives that decide what happens to a request, which the test config must share with the bundled one. */
const TRAFFIC = /^(balance|option (httpchk|redispatch)|retries|retry-on|http-request disable-l7-retry|http-reuse)\b/;

/** One request on its own connection (no keep-alive), resolving the status HAProxy answered. */
function oneShot(url: string, method: 'GET' | 'POST', body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent: false, timeout: 10_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} in 10 s`)));
    req.on('error', reject);
    req.end(body);
  });
}

async function check(configText: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'surgectl-haproxy-check-'));
  try {
    await writeFile(join(dir, 'haproxy.cfg'), configText);
    // An invalid config makes haproxy -c exit non-zero: execFile rejects with its output.
    const { stdout, stderr } = await run(requireHaproxy(), ['-c', '-f', join(dir, 'haproxy.cfg')], { timeout: 30_000 });
    return stdout + stderr;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('deploy/haproxy/haproxy.cfg', () => {
  it('is valid for `haproxy -c` and puts blue (weight 100) and green (weight 0) in backend orders behind 127.0.0.1:8000', async () => {
    const { stdout, stderr } = await run(requireHaproxy(), ['-c', '-f', CFG], { timeout: 30_000 });
    expect(stdout + stderr).toContain('Configuration file is valid');
    // No warning either: haproxy -c passes configs it warns about.
    expect(stdout + stderr).not.toMatch(/\[WARNING\]|\[ALERT\]/);
    expect(section(TEXT, 'global')).toContain('stats socket ipv4@127.0.0.1:9999 level admin');
    expect(section(TEXT, 'frontend orders_in')).toEqual(['bind 127.0.0.1:8000', 'default_backend orders']);
    const backend = section(TEXT, 'backend orders');
    expect(backend).toContain('option httpchk GET /healthz');
    expect(backend.filter((l) => l.startsWith('server '))).toEqual([
      'server blue 127.0.0.1:8080 weight 100 check inter 1s fall 2 rise 2',
      'server green 127.0.0.1:8081 weight 0 check inter 1s fall 2 rise 2',
    ]);
  });

  it('the tests run HAProxy with the same traffic settings (haproxyTestConfig), also valid', async () => {
    const testConfig = haproxyTestConfig({ frontendPort: 18000, statsPort: 19999, servers: [{ name: 'blue', port: 18080, weight: 100 }, { name: 'green', port: 18081, weight: 0 }] });
    expect(await check(testConfig)).toContain('Configuration file is valid');
    const traffic = (t: string) => section(t, 'backend orders').filter((l) => TRAFFIC.test(l)).sort();
    expect(traffic(testConfig)).toEqual(traffic(TEXT));
    expect(traffic(TEXT)).toHaveLength(7);
  });
});

/**
 * The bundled file itself, run by a real HAProxy with only its four addresses moved to free
 * loopback ports (so the test cannot collide with a stack or HAProxy a person runs).
 */
describe('deploy/haproxy/haproxy.cfg running in front of two servers', () => {
  let blue: TestBackendServer;
  let green: TestBackendServer;
  let hp: TestHaproxy;
  let api: HaproxyPort;
  beforeAll(async () => {
    blue = await startTestBackend('blue');
    green = await startTestBackend('green');
    hp = await runHaproxy(({ frontendPort, statsPort }) => {
      let text = TEXT;
      for (const [from, to] of [
        ['bind 127.0.0.1:8000', `bind 127.0.0.1:${frontendPort}`],
        ['stats socket ipv4@127.0.0.1:9999 ', `stats socket ipv4@127.0.0.1:${statsPort} `],
        ['server blue 127.0.0.1:8080 ', `server blue 127.0.0.1:${blue.port} `],
        ['server green 127.0.0.1:8081 ', `server green 127.0.0.1:${green.port} `],
      ] as const) {
        const lines = text.split('\n');
        const at = lines.filter((l) => l.trim().startsWith(from));
        if (at.length !== 1) throw new Error(`expected one line starting '${from}' in ${CFG}, found ${at.length}`);
        text = lines.map((l) => (l.trim().startsWith(from) ? l.replace(from, to) : l)).join('\n');
      }
      return text;
    });
    api = createHaproxy({ endpoint: hp.statsEndpoint });
    // Checks every 1 s, rise 2: both servers are up within a few seconds.
    const deadline = Date.now() + 10_000;
    let servers: HaproxyServer[] = [];
    while (Date.now() < deadline && !(servers.length === 2 && servers.every((s) => s.up))) {
      servers = await api.servers('orders');
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(servers.every((s) => s.up), JSON.stringify(servers)).toBe(true);
  }, 30_000);
  afterAll(async () => {
    await hp?.stop();
    await blue?.close();
    await green?.close();
  });

  async function hits(n: number, init: RequestInit = {}): Promise<Record<string, number>> {
    const per: Record<string, number> = {};
    for (let i = 0; i < n; i++) {
      const res = await fetch(`${hp.url}/v1/orders`, init);
      expect(res.status).toBe(200);
      const by = res.headers.get('x-served-by') ?? 'none';
      per[by] = (per[by] ?? 0) + 1;
      await res.arrayBuffer();
    }
    return per;
  }

  it('sends everything to blue as shipped, and to green once the runtime API moves the weights', async () => {
    expect((await api.servers('orders')).map((s) => [s.name, s.weight, s.admin])).toEqual([
      ['blue', 100, 'ready'],
      ['green', 0, 'ready'],
    ]);
    expect(await hits(20, { method: 'POST', body: '{}' })).toEqual({ blue: 20 });
    await api.setWeight('orders', 'green', 100);
    await api.setWeight('orders', 'blue', 0);
    expect(await hits(20, { method: 'POST', body: '{}' })).toEqual({ green: 20 });
    await api.setWeight('orders', 'blue', 100);
    await api.setWeight('orders', 'green', 0);
  });

  it('never replays a POST that reached the server and got no answer, while a GET is retried', async () => {
    const greenBefore = green.hits.GET + green.hits.POST;
    blue.hangUp(true);
    try {
      // A fresh connection each: on a reused one HAProxy closes without a 502 (so a client may
      // retry as after a keep-alive close), which would hide the status.
      const post = await oneShot(`${hp.url}/v1/orders`, 'POST', '{"order":1}');
      expect(post.status).toBe(502);
      // Sent once: a second copy could have been redispatched to the other color's store.
      expect(blue.hungUp).toBe(1);
      const get = await oneShot(`${hp.url}/v1/orders/1`, 'GET');
      expect(get.status).toBe(502);
      // The first try plus `retries 3`.
      expect(blue.hungUp).toBe(1 + 4);
      expect(green.hits.GET + green.hits.POST).toBe(greenBefore);
    } finally {
      blue.hangUp(false);
    }
  });

  it('sends POSTs to the other server when blue stops taking connections before its check notices', async () => {
    // blue 100 : green 1, so nearly every request picks blue first and meets a refused connection.
    await api.setWeight('orders', 'green', 1);
    await blue.close();
    const before = green.hits.POST;
    const t0 = Date.now();
    const served: string[] = [];
    for (let i = 0; i < 5; i++) {
      // New client connections: a request on a kept-alive one may go out on HAProxy's idle
      // connection to blue that blue has just closed, which ends as an empty response (not
      // replayed for a POST) rather than a refused connection.
      const res = await oneShot(`${hp.url}/v1/orders`, 'POST', '{}');
      expect(res.status).toBe(200);
      served.push((JSON.parse(res.body) as { server: string }).server);
    }
    const ms = Date.now() - t0;
    // conn-failure retries, the last one redispatched: the client sees 200 from green, not 503.
    expect(served).toEqual(['green', 'green', 'green', 'green', 'green']);
    expect(green.hits.POST).toBe(before + 5);
    const blueState = (await api.servers('orders')).find((s) => s.name === 'blue');
    console.log(`blue stopped: 5 POSTs redispatched to green in ${ms} ms; HAProxy saw blue ${blueState?.up ? 'up' : 'down'} by then`);
  });
});
