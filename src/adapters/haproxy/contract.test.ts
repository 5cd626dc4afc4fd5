import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SurgeError } from '../../errors.js';
import { freePort } from '../../../test/support/ports.js';
import { startHaproxy, startTestBackend, type TestBackendServer, type TestHaproxy } from '../../../test/support/haproxy.js';
import { createFakeHaproxy, type FakeHaproxy } from './fake.js';
import { createHaproxy, parseHaproxyEndpoint } from './haproxy.js';
import type { HaproxyPort, HaproxyServer } from './port.js';

const BACKEND = 'orders';

interface Backend {
  port: HaproxyPort;
  /** The same kind of adapter pointed at a port nothing listens on (or a HAProxy that is stopped). */
  unreachable: HaproxyPort;
  /** Where blue and green listen. */
  ports: { blue: number; green: number };
  /** Commands sent so far, where the implementation can tell (the fake). */
  sent?: () => number;
}

async function expectCode(p: Promise<unknown>, code: string, ...contains: string[]): Promise<SurgeError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SurgeError);
  expect((err as SurgeError).code).toBe(code);
  for (const c of contains) expect((err as SurgeError).message).toContain(c);
  return err as SurgeError;
}

/** Polls `servers()` until `ok` holds (deadline 5 s: checks run every 200 ms); returns the last listing. */
async function until(port: HaproxyPort, ok: (s: HaproxyServer[]) => boolean, what: string): Promise<HaproxyServer[]> {
  const deadline = Date.now() + 5_000;
  let last: HaproxyServer[] = [];
  while (Date.now() < deadline) {
    last = await port.servers(BACKEND);
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} did not happen in 5 s; last listing: ${JSON.stringify(last)}`);
}

const byName = (servers: HaproxyServer[], name: string) => servers.find((s) => s.name === name);

function contract(name: string, setup: () => Promise<Backend>, teardown: () => Promise<void>) {
  describe(`HaproxyPort contract: ${name}`, () => {
    let b: Backend;
    beforeAll(async () => {
      b = await setup();
    }, 30_000);
    afterAll(teardown, 30_000);

    it('lists both servers with address, port, weight, admin state and health as configured', async () => {
      const servers = await b.port.servers(BACKEND);
      expect(servers).toEqual([
        { backend: BACKEND, name: 'blue', address: '127.0.0.1', port: b.ports.blue, weight: 100, admin: 'ready', up: true },
        { backend: BACKEND, name: 'green', address: '127.0.0.1', port: b.ports.green, weight: 0, admin: 'ready', up: true },
      ]);
    });

    it('sets a weight that servers() then shows, leaving the other server alone', async () => {
      await b.port.setWeight(BACKEND, 'green', 37);
      let servers = await b.port.servers(BACKEND);
      expect(byName(servers, 'green')?.weight).toBe(37);
      expect(byName(servers, 'blue')?.weight).toBe(100);
      await b.port.setWeight(BACKEND, 'green', 256);
      expect(byName(await b.port.servers(BACKEND), 'green')?.weight).toBe(256);
      await b.port.setWeight(BACKEND, 'green', 0);
      servers = await b.port.servers(BACKEND);
      expect(servers.map((s) => [s.name, s.weight])).toEqual([
        ['blue', 100],
        ['green', 0],
      ]);
    });

    it('round-trips drain, maint and ready; drain keeps the weight and the server up, maint takes it down', async () => {
      await b.port.setState(BACKEND, 'green', 'drain');
      expect(byName(await b.port.servers(BACKEND), 'green')).toMatchObject({ admin: 'drain', weight: 0, up: true });
      await b.port.setState(BACKEND, 'green', 'maint');
      expect(byName(await b.port.servers(BACKEND), 'green')).toMatchObject({ admin: 'maint', up: false });
      expect(byName(await b.port.servers(BACKEND), 'blue')).toMatchObject({ admin: 'ready', up: true });
      await b.port.setState(BACKEND, 'green', 'ready');
      expect(byName(await b.port.servers(BACKEND), 'green')?.admin).toBe('ready');
      // Out of maint, HAProxy checks the server again before it counts as up.
      const back = await until(b.port, (s) => byName(s, 'green')?.up === true, 'green up again after maint');
      expect(byName(back, 'green')).toMatchObject({ admin: 'ready', weight: 0 });
    });

    it("names an unknown backend or server with HAProxy's own answer (SRG_HAPROXY_COMMAND)", async () => {
      await expectCode(b.port.servers('shop'), 'SRG_HAPROXY_COMMAND', '`show servers state shop`', "Can't find backend.");
      await expectCode(b.port.setWeight('shop', 'blue', 10), 'SRG_HAPROXY_COMMAND', '`set server shop/blue weight 10`', 'No such backend.');
      const e = await expectCode(b.port.setWeight(BACKEND, 'purple', 10), 'SRG_HAPROXY_COMMAND', '`set server orders/purple weight 10`', 'No such server.');
      expect(e.hint).toContain(`socat stdio tcp:${b.port.endpoint}`);
      await expectCode(b.port.setState(BACKEND, 'purple', 'drain'), 'SRG_HAPROXY_COMMAND', 'No such server.');
      expect(e.message).toContain(b.port.endpoint);
    });

    it('refuses weights 257, -1, 1.5 and names that could carry a second command, without sending anything', async () => {
      const before = b.sent?.();
      for (const w of [257, -1, 1.5, Number.NaN]) {
        await expectCode(b.port.setWeight(BACKEND, 'green', w), 'SRG_HAPROXY_COMMAND', `weight ${w}`, '0..256');
        // Nothing is sent: the same call against a HAProxy that is not there still fails on the weight.
        await expectCode(b.unreachable.setWeight(BACKEND, 'green', w), 'SRG_HAPROXY_COMMAND', '0..256');
      }
      for (const bad of ['blue\nset server orders/green weight 100', 'blue; set server orders/green weight 100', 'blue green', '']) {
        await expectCode(b.port.setWeight(BACKEND, bad, 0), 'SRG_HAPROXY_COMMAND', 'server name');
        await expectCode(b.unreachable.setState(BACKEND, bad, 'maint'), 'SRG_HAPROXY_COMMAND', 'server name');
      }
      await expectCode(b.port.servers('orders\nshow info'), 'SRG_HAPROXY_COMMAND', 'backend name');
      await expectCode(b.port.setState(BACKEND, 'green', 'off' as never), 'SRG_HAPROXY_COMMAND', 'ready, drain, maint');
      if (before !== undefined) expect(b.sent?.()).toBe(before);
      // Nothing was injected: green still has weight 0.
      expect(byName(await b.port.servers(BACKEND), 'green')?.weight).toBe(0);
    });

    it('names the endpoint when nothing answers there (SRG_HAPROXY_UNREACHABLE)', async () => {
      const e = await expectCode(b.unreachable.servers(BACKEND), 'SRG_HAPROXY_UNREACHABLE', b.unreachable.endpoint, 'connection refused');
      expect(e.hint).toContain('stats socket');
      await expectCode(b.unreachable.setWeight(BACKEND, 'green', 10), 'SRG_HAPROXY_UNREACHABLE', b.unreachable.endpoint, '`set server orders/green weight 10`');
    });
  });
}

// --- the fake ---
let fake: FakeHaproxy;
contract(
  'fake',
  async () => {
    fake = createFakeHaproxy({
      [BACKEND]: [
        { name: 'blue', weight: 100 },
        { name: 'green', weight: 0 },
      ],
    });
    const down = createFakeHaproxy({ [BACKEND]: [{ name: 'blue' }, { name: 'green' }] }, { endpoint: '127.0.0.1:1' });
    down.fail('unreachable');
    return { port: fake, unreachable: down, ports: { blue: 8080, green: 8081 }, sent: () => fake.calls.length };
  },
  async () => undefined,
);

describe('the fake records what it would send', () => {
  it('lists every command in order, and nothing for refused arguments', async () => {
    const f = createFakeHaproxy({ [BACKEND]: [{ name: 'blue' }] });
    await f.setWeight(BACKEND, 'blue', 0);
    await f.setState(BACKEND, 'blue', 'drain');
    await f.servers(BACKEND);
    await f.setWeight(BACKEND, 'blue', 300).catch(() => undefined);
    expect(f.calls).toEqual(['set server orders/blue weight 0', 'set server orders/blue state drain', 'show servers state orders']);
  });

  it('reports a server whose check fails as down', async () => {
    const f = createFakeHaproxy({ [BACKEND]: [{ name: 'blue' }] });
    f.setUp(BACKEND, 'blue', false);
    expect(await f.servers(BACKEND)).toEqual([{ backend: BACKEND, name: 'blue', address: '127.0.0.1', port: 8080, weight: 1, admin: 'ready', up: false }]);
  });
});

// --- a REAL HAProxy 2.x in front of two tiny HTTP servers ---
let haproxy: TestHaproxy | undefined;
let blue: TestBackendServer;
let green: TestBackendServer;
contract(
  'real HAProxy',
  async () => {
    blue = await startTestBackend('blue');
    green = await startTestBackend('green');
    haproxy = await startHaproxy({
      servers: [
        { name: 'blue', port: blue.port, weight: 100 },
        { name: 'green', port: green.port, weight: 0 },
      ],
    });
    const port = createHaproxy({ endpoint: haproxy.statsEndpoint });
    // Both start DOWN until their first check passes (every 200 ms, rise 1).
    await until(port, (s) => s.length === 2 && s.every((x) => x.up), 'both servers up');
    return { port, unreachable: createHaproxy({ endpoint: `127.0.0.1:${await freePort()}` }), ports: { blue: blue.port, green: green.port } };
  },
  async () => {
    await haproxy?.stop();
    await blue?.close();
    await green?.close();
  },
);

/** Sends `count` requests through the frontend one after another (bounded: 10 s); returns hits per server. */
async function spread(url: string, count: number, init: RequestInit = {}): Promise<Record<string, number>> {
  const per: Record<string, number> = {};
  const deadline = Date.now() + 10_000;
  for (let i = 0; i < count && Date.now() < deadline; i++) {
    const res = await fetch(`${url}/v1/orders`, init);
    expect(res.status).toBe(200);
    const by = res.headers.get('x-served-by') ?? 'none';
    per[by] = (per[by] ?? 0) + 1;
    await res.arrayBuffer();
  }
  return per;
}

describe('real HAProxy: weights move traffic', () => {
  let hp: TestHaproxy;
  let b1: TestBackendServer;
  let g1: TestBackendServer;
  let port: HaproxyPort;
  beforeAll(async () => {
    b1 = await startTestBackend('blue');
    g1 = await startTestBackend('green');
    hp = await startHaproxy({
      servers: [
        { name: 'blue', port: b1.port, weight: 100 },
        { name: 'green', port: g1.port, weight: 0 },
      ],
    });
    port = createHaproxy({ endpoint: hp.statsEndpoint });
    await until(port, (s) => s.every((x) => x.up), 'both servers up');
  }, 30_000);
  afterAll(async () => {
    await hp?.stop();
    await b1?.close();
    await g1?.close();
  });

  it('sends every request to the server with weight 100 and none to the one with weight 0, both ways', async () => {
    await port.setWeight(BACKEND, 'blue', 0);
    await port.setWeight(BACKEND, 'green', 100);
    expect(await spread(hp.url, 50)).toEqual({ green: 50 });
    await port.setWeight(BACKEND, 'blue', 100);
    await port.setWeight(BACKEND, 'green', 0);
    expect(await spread(hp.url, 50)).toEqual({ blue: 50 });
  });

  it('splits traffic by weight in between (roundrobin: 50 requests at 3:1 give 38:12 or thereabouts)', async () => {
    await port.setWeight(BACKEND, 'blue', 75);
    await port.setWeight(BACKEND, 'green', 25);
    const per = await spread(hp.url, 50, { method: 'POST', body: '{}' });
    expect((per.blue ?? 0) + (per.green ?? 0)).toBe(50);
    expect(per.green).toBeGreaterThanOrEqual(10);
    expect(per.green).toBeLessThanOrEqual(15);
    await port.setWeight(BACKEND, 'blue', 100);
    await port.setWeight(BACKEND, 'green', 0);
  });

  it('lets a POST in flight on blue finish while the weights move to green, and sends the next ones to green', async () => {
    const held = b1.nextHeld();
    const inFlight = fetch(`${hp.url}/v1/orders`, { method: 'POST', body: '{"order":"in-flight"}', headers: { 'x-hold': '1', 'content-type': 'application/json' } });
    expect(await held).toBe('{"order":"in-flight"}');
    // The POST is now inside blue. Move all traffic away from blue, then let it answer.
    await port.setWeight(BACKEND, 'green', 100);
    await port.setWeight(BACKEND, 'blue', 0);
    expect(await spread(hp.url, 10, { method: 'POST', body: '{}' })).toEqual({ green: 10 });
    b1.release();
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ server: 'blue', method: 'POST', body: '{"order":"in-flight"}' });
    await port.setWeight(BACKEND, 'blue', 100);
    await port.setWeight(BACKEND, 'green', 0);
  });

  it('loses no POST while the weights step from blue to green under concurrent load', async () => {
    const before = { blue: b1.hits.POST, green: g1.hits.POST };
    const statuses: number[] = [];
    let stop = false;
    // 4 clients, at most 400 requests and 15 s in all, while the weights move in 5 steps.
    const deadline = Date.now() + 15_000;
    const client = async () => {
      while (!stop && statuses.length < 400 && Date.now() < deadline) {
        const res = await fetch(`${hp.url}/v1/orders`, { method: 'POST', body: '{}' });
        await res.arrayBuffer();
        statuses.push(res.status);
      }
    };
    const clients = [client(), client(), client(), client()];
    for (const [bw, gw] of [
      [75, 25],
      [50, 50],
      [25, 75],
      [0, 100],
    ] as const) {
      const at = statuses.length;
      while (statuses.length < at + 20 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      await port.setWeight(BACKEND, 'green', gw);
      await port.setWeight(BACKEND, 'blue', bw);
    }
    const blueAtEnd = b1.hits.POST;
    const at = statuses.length;
    while (statuses.length < at + 40 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    stop = true;
    await Promise.all(clients);
    expect(statuses.length).toBeGreaterThanOrEqual(120);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    const served = { blue: b1.hits.POST - before.blue, green: g1.hits.POST - before.green };
    expect(served.blue + served.green).toBe(statuses.length);
    expect(served.blue).toBeGreaterThan(0);
    expect(served.green).toBeGreaterThan(0);
    // After the last step, at most the requests already inside blue finished there.
    expect(b1.hits.POST - blueAtEnd).toBeLessThanOrEqual(4);
    console.log(`cutover under load: ${statuses.length} POSTs, all 200; blue ${served.blue}, green ${served.green}`);
  });
});

describe('real adapter: transports and refusals', () => {
  it('speaks to a unix socket as well, and names a missing one (SRG_HAPROXY_UNREACHABLE)', async () => {
    const b2 = await startTestBackend('blue');
    const hp = await startHaproxy({ servers: [{ name: 'blue', port: b2.port }], unixSocket: true });
    try {
      const port = createHaproxy({ endpoint: hp.statsSocketPath as string });
      expect((await port.servers(BACKEND)).map((s) => [s.name, s.port, s.weight])).toEqual([['blue', b2.port, 100]]);
      await port.setWeight(BACKEND, 'blue', 7);
      expect((await createHaproxy({ endpoint: hp.statsEndpoint }).servers(BACKEND))[0]?.weight).toBe(7);
      const missing = `${hp.statsSocketPath as string}.nope`;
      await expectCode(createHaproxy({ endpoint: missing }).servers(BACKEND), 'SRG_HAPROXY_UNREACHABLE', missing, 'no socket at');
    } finally {
      await hp.stop();
      await b2.close();
    }
  });

  it('maps "Permission denied" of a socket below level admin to SRG_HAPROXY_COMMAND with the level admin hint', async () => {
    const b3 = await startTestBackend('blue');
    const hp = await startHaproxy({ servers: [{ name: 'blue', port: b3.port }], statsLevel: 'user' });
    try {
      const e = await expectCode(createHaproxy({ endpoint: hp.statsEndpoint }).setWeight(BACKEND, 'blue', 0), 'SRG_HAPROXY_COMMAND', 'Permission denied');
      expect(e.hint).toContain('level admin');
    } finally {
      await hp.stop();
      await b3.close();
    }
  });

  it('gives up on a socket that accepts but never answers, within timeoutMs, and sends nothing for a refused argument', async () => {
    let connections = 0;
    const sockets: Socket[] = [];
    const silent: Server = createServer((s) => {
      connections++;
      sockets.push(s);
    });
    const p = await new Promise<number>((resolve) => silent.listen(0, '127.0.0.1', () => resolve((silent.address() as { port: number }).port)));
    try {
      const port = createHaproxy({ endpoint: `127.0.0.1:${p}`, timeoutMs: 300 });
      await expectCode(port.setWeight(BACKEND, 'blue', 257), 'SRG_HAPROXY_COMMAND');
      await expectCode(port.setWeight(BACKEND, 'blue green', 1), 'SRG_HAPROXY_COMMAND');
      expect(connections).toBe(0);
      const t0 = Date.now();
      await expectCode(port.servers(BACKEND), 'SRG_HAPROXY_UNREACHABLE', `127.0.0.1:${p}`, 'no answer in 0.3 s');
      expect(Date.now() - t0).toBeLessThan(2_000);
      expect(connections).toBe(1);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });

  it('reads host:port, [v6]:port and absolute paths, and refuses anything else before connecting', () => {
    expect(parseHaproxyEndpoint('127.0.0.1:9999')).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 9999 });
    expect(parseHaproxyEndpoint('[::1]:9999')).toEqual({ kind: 'tcp', host: '::1', port: 9999 });
    expect(parseHaproxyEndpoint('localhost:9999')).toEqual({ kind: 'tcp', host: 'localhost', port: 9999 });
    expect(parseHaproxyEndpoint('/run/haproxy/admin.sock')).toEqual({ kind: 'unix', path: '/run/haproxy/admin.sock' });
    for (const bad of ['127.0.0.1', '::1:9999', '127.0.0.1:0', '127.0.0.1:70000', 'run/admin.sock', 'http://127.0.0.1:9999', '']) {
      expect(() => createHaproxy({ endpoint: bad }), bad).toThrow(SurgeError);
    }
  });
});
