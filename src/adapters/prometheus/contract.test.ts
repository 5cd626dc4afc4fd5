import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SurgeError } from '../../errors.js';
import { freePort } from '../../../test/support/ports.js';
import { startPrometheus, startScrapingPrometheus, toOpenMetrics, type TestPrometheus } from '../../../test/support/prometheus.js';
import { createFakePrometheus } from './fake.js';
import type { PromSample, PrometheusPort } from './port.js';
import { createPrometheus } from './prometheus.js';

/** What the /metrics endpoint the real Prometheus scrapes serves (and the fake answers from). */
const ORDERS = { blue: 3, green: 5 };
const BY_COLOR = 'sum by (color) (contract_orders_total)';
const NOTHING = 'contract_orders_total{color="red"}';
const BAD = 'sum(rate(contract_orders_total[1m])';

interface Backend {
  port(): PrometheusPort;
  /** A Prometheus at a port nothing listens on, its URL carrying a password. */
  unreachable(): Promise<PrometheusPort>;
}

async function rejection(p: Promise<unknown>, code: string): Promise<SurgeError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SurgeError);
  expect((err as SurgeError).code).toBe(code);
  return err as SurgeError;
}

const byColor = (s: readonly PromSample[]) => [...s].sort((a, b) => (a.metric.color ?? '').localeCompare(b.metric.color ?? ''));

function contract(name: string, setup: () => Promise<Backend>, teardown: () => Promise<void>) {
  describe(`PrometheusPort contract: ${name}`, () => {
    let b: Backend;
    beforeAll(async () => {
      b = await setup();
    }, 90_000);
    afterAll(teardown, 30_000);

    it('answers a vector query with one sample per series and its labels', async () => {
      expect(byColor(await b.port().query(BY_COLOR))).toEqual([
        { metric: { color: 'blue' }, value: 3 },
        { metric: { color: 'green' }, value: 5 },
      ]);
    });

    it('answers a scalar, and a vector without labels, as one sample with no labels', async () => {
      expect(await b.port().query('scalar(vector(2))')).toEqual([{ metric: {}, value: 2 }]);
      expect(await b.port().query('vector(1) + 1')).toEqual([{ metric: {}, value: 2 }]);
    });

    it('answers [] when no series matches', async () => {
      expect(await b.port().query(NOTHING)).toEqual([]);
    });

    it('keeps NaN and infinities as numbers', async () => {
      const [nan] = await b.port().query('vector(NaN)');
      expect(nan?.value).toBeNaN();
      expect(await b.port().query('vector(+Inf)')).toEqual([{ metric: {}, value: Infinity }]);
      expect(await b.port().query('scalar(vector(-Inf))')).toEqual([{ metric: {}, value: -Infinity }]);
    });

    it('a PromQL syntax error is SRG_DATA_SOURCE quoting the query and why', async () => {
      const e = await rejection(b.port().query(BAD), 'SRG_DATA_SOURCE');
      expect(e.message).toContain(JSON.stringify(BAD));
      expect(e.message).toMatch(/parse error/);
      expect(e.message).toContain(b.port().url);
    });

    it('an unreachable Prometheus is SRG_PROMETHEUS_UNREACHABLE naming the URL without its password', async () => {
      const p = await b.unreachable();
      const e = await rejection(p.query('vector(1)'), 'SRG_PROMETHEUS_UNREACHABLE');
      expect(e.message).toContain(p.url);
      expect(p.url).not.toContain('s3cret');
      expect(`${e.message} ${e.hint ?? ''}`).not.toContain('s3cret');
    });

    it('an aborted signal is SRG_CLI_INTERRUPTED', async () => {
      const ac = new AbortController();
      ac.abort();
      await rejection(b.port().query('vector(1)', { signal: ac.signal }), 'SRG_CLI_INTERRUPTED');
    });
  });
}

// --- the fake ---
contract(
  'fake',
  async () => {
    const answers: Record<string, PromSample[]> = {
      [BY_COLOR]: [
        { metric: { color: 'green' }, value: ORDERS.green },
        { metric: { color: 'blue' }, value: ORDERS.blue },
      ],
      'scalar(vector(2))': [{ metric: {}, value: 2 }],
      'vector(1) + 1': [{ metric: {}, value: 2 }],
      [NOTHING]: [],
      'vector(NaN)': [{ metric: {}, value: NaN }],
      'vector(+Inf)': [{ metric: {}, value: Infinity }],
      'scalar(vector(-Inf))': [{ metric: {}, value: -Infinity }],
    };
    const fake = createFakePrometheus((q) => answers[q] ?? new Error('bad_data: 1:37: parse error: unclosed left parenthesis'));
    return {
      port: () => fake,
      unreachable: async () => {
        const url = `http://127.0.0.1:${await freePort()}`;
        return createFakePrometheus(() => new SurgeError('SRG_PROMETHEUS_UNREACHABLE', `Prometheus at ${url} did not answer: connection refused`), { url });
      },
    };
  },
  async () => undefined,
);

// --- a REAL Prometheus scraping a /metrics endpoint ---
let metrics: Server | undefined;
let scraping: TestPrometheus | undefined;
/** The value the /metrics endpoint serves for the blue series; a test changes it. */
let blue = ORDERS.blue;

async function startMetricsEndpoint(): Promise<string> {
  metrics = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(`# TYPE contract_orders_total counter\ncontract_orders_total{color="blue"} ${blue}\ncontract_orders_total{color="green"} ${ORDERS.green}\n`);
  });
  await new Promise<void>((r) => metrics?.listen(0, '127.0.0.1', r));
  return `127.0.0.1:${(metrics.address() as AddressInfo).port}`;
}

let target = '';
contract(
  'real Prometheus',
  async () => {
    target = await startMetricsEndpoint();
    scraping = await startScrapingPrometheus({ targets: [target] });
    const url = scraping.url;
    return {
      port: () => createPrometheus({ url }),
      unreachable: async () => createPrometheus({ url: `http://surgectl:s3cret@127.0.0.1:${await freePort()}`, timeoutMs: 5_000 }),
    };
  },
  // Stopped at the end of the file: the test of startScrapingPrometheus below uses it too.
  async () => undefined,
);

afterAll(async () => {
  await scraping?.stop();
  await new Promise((r) => metrics?.close(r));
}, 30_000);

describe('createPrometheus: the real adapter only', () => {
  it('startScrapingPrometheus scrapes its targets under job "surgectl", again and again', async () => {
    const prom = createPrometheus({ url: scraping?.url ?? '' });
    expect(await prom.query('up')).toEqual([{ metric: { __name__: 'up', instance: target, job: 'surgectl' }, value: 1 }]);
    blue = 7;
    // The next scrapes (every second) pick the new value up; poll for it, 15 s at most.
    const deadline = Date.now() + 15_000;
    let seen: number | undefined;
    while (Date.now() < deadline) {
      seen = (await prom.query('contract_orders_total{color="blue"}'))[0]?.value;
      if (seen === 7) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(seen).toBe(7);
  }, 30_000);

  describe('behind basic auth', () => {
    let auth: TestPrometheus | undefined;
    // The example user of the Prometheus documentation: password "test" and its bcrypt hash.
    const user = { user: 'admin', password: 'test', bcryptHash: '$2b$12$hNf2lSsxfm0.i4a.1kVpSOVyBCfIB51VRjgBUyv6kdnyTlgWj81Ay' };
    beforeAll(async () => {
      auth = await startPrometheus(toOpenMetrics([{ metric: 'auth_gauge', value: 1, t: Date.now() - 60_000 }], { auth_gauge: 'gauge' }), { basicAuth: user });
    }, 90_000);
    afterAll(async () => {
      await auth?.stop();
    }, 30_000);

    it('sends user:password@ of the URL as Basic auth and never shows it', async () => {
      const u = new URL(auth?.url ?? '');
      u.username = user.user;
      u.password = user.password;
      const prom = createPrometheus({ url: u.href });
      expect(prom.url).toBe(auth?.url);
      expect(await prom.query('vector(1)')).toEqual([{ metric: {}, value: 1 }]);
    });

    it('sends the Authorization header it is given (--header, --bearer-token-file)', async () => {
      const authorization = `Basic ${Buffer.from(`${user.user}:${user.password}`).toString('base64')}`;
      expect(await createPrometheus({ url: auth?.url ?? '', headers: { Authorization: authorization } }).query('vector(3)')).toEqual([{ metric: {}, value: 3 }]);
    });

    it('without credentials, or with a wrong password, is SRG_DATA_SOURCE with a hint about the token flags', async () => {
      const e = await rejection(createPrometheus({ url: auth?.url ?? '' }).query('vector(1)'), 'SRG_DATA_SOURCE');
      expect(e.message).toContain('HTTP 401');
      expect(e.hint).toContain('--bearer-token-file');
      expect(e.hint).toContain('--header');
      const wrong = new URL(auth?.url ?? '');
      wrong.username = 'admin';
      wrong.password = 'not-the-password';
      const w = await rejection(createPrometheus({ url: wrong.href }).query('vector(1)'), 'SRG_DATA_SOURCE');
      expect(`${w.message} ${w.hint ?? ''}`).not.toContain('not-the-password');
    });
  });

  describe('servers that are not a healthy Prometheus', () => {
    let silent: NetServer;
    const sockets: Socket[] = [];
    let odd: Server;
    let oddUrl = '';
    beforeAll(async () => {
      // Accepts connections and never answers: a hung Prometheus.
      silent = createNetServer((socket) => sockets.push(socket));
      await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
      odd = createServer((req, res) => {
        if (req.url?.startsWith('/gateway/')) {
          res.writeHead(502, { 'content-type': 'text/html' });
          res.end('<html><body>502 Bad Gateway</body></html>');
        } else if (req.url?.startsWith('/range/')) {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ status: 'success', data: { resultType: 'matrix', result: [] } }));
        } else {
          res.writeHead(200, { 'content-type': 'text/html' });
          res.end('<html>Grafana</html>');
        }
      });
      await new Promise<void>((r) => odd.listen(0, '127.0.0.1', r));
      oddUrl = `http://127.0.0.1:${(odd.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((r) => silent.close(r));
      await new Promise((r) => odd.close(r));
    });

    it('no answer within timeoutMs is SRG_PROMETHEUS_UNREACHABLE saying how long it waited', async () => {
      const t0 = Date.now();
      const e = await rejection(createPrometheus({ url: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`, timeoutMs: 300 }).query('vector(1)'), 'SRG_PROMETHEUS_UNREACHABLE');
      expect(e.message).toContain('no answer in 0.3 s');
      expect(Date.now() - t0).toBeLessThan(5_000);
    });

    it('an unknown host is SRG_PROMETHEUS_UNREACHABLE', async () => {
      const e = await rejection(createPrometheus({ url: 'http://no-such-prometheus.invalid:9090', timeoutMs: 5_000 }).query('vector(1)'), 'SRG_PROMETHEUS_UNREACHABLE');
      expect(e.message).toContain('http://no-such-prometheus.invalid:9090');
    });

    it('a proxy answering 502 for it is SRG_PROMETHEUS_UNREACHABLE; an HTML page is SRG_DATA_SOURCE', async () => {
      const gw = await rejection(createPrometheus({ url: `${oddUrl}/gateway` }).query('vector(1)'), 'SRG_PROMETHEUS_UNREACHABLE');
      expect(gw.message).toContain('HTTP 502');
      const html = await rejection(createPrometheus({ url: oddUrl }).query('vector(1)'), 'SRG_DATA_SOURCE');
      expect(html.message).toContain('not JSON');
    });

    it('a range result is SRG_DATA_SOURCE naming the query', async () => {
      const e = await rejection(createPrometheus({ url: `${oddUrl}/range` }).query('up[5m]'), 'SRG_DATA_SOURCE');
      expect(e.message).toContain('"up[5m]"');
      expect(e.message).toContain('matrix');
    });

    it('refuses a URL that is not http(s) before any request, without showing its password', () => {
      expect(() => createPrometheus({ url: 'prometheus:9090' })).toThrow(expect.objectContaining({ code: 'SRG_CLI_USAGE' }));
      try {
        createPrometheus({ url: 'ftp://me:s3cret@host' });
        expect.unreachable();
      } catch (e) {
        expect((e as SurgeError).message).not.toContain('s3cret');
      }
    });
  });
});
