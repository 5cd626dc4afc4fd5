import { createServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { SurgeError } from '../../errors.js';
import { startTestStack, type TestStack } from '../../../test/support/stack.js';
import { createFakeStackAdmin } from './fake.js';
import type { StackAdminPort } from './port.js';
import { createStackAdmin } from './stack-admin.js';

/** One suite, two implementations: the fake the runner tests use and the real client against a real stack. */
function contract(name: string, setup: () => Promise<StackAdminPort>) {
  describe(`StackAdminPort contract: ${name}`, () => {
    it('reports status in the documented shape', async () => {
      const admin = await setup();
      const s = await admin.status();
      expect(s).toMatchObject({
        intake: { paused: false, draining: false },
        workers: { size: expect.any(Number), busy: expect.any(Number), paused: false },
        queue: { depth: expect.any(Number), oldestWaitingMs: expect.any(Number) },
        orders: { byStatus: expect.any(Object) },
        oversold: 0,
        breaker: 'closed',
        payment: { failureRate: 0, latencyMs: expect.any(Number) },
        faults: { dropRatio: 0 },
        // the stacks of this suite run without --color
        color: null,
      });
    });

    it('injects and clears faults', async () => {
      const admin = await setup();
      const configured = await admin.paymentFaults();
      expect(await admin.setPaymentFaults({ failureRate: 1 })).toEqual({ ...configured, failureRate: 1 });
      expect(await admin.setPaymentFaults({ latencyMs: 2000 })).toEqual({ failureRate: 1, latencyMs: 2000 });
      expect(await admin.setDropRatio(0.25)).toEqual({ dropRatio: 0.25 });
      expect(await admin.pauseConsumer()).toEqual({ paused: true });
      expect((await admin.status()).workers.paused).toBe(true);
      const cleared = await admin.clearFaults();
      expect(cleared.faults.dropRatio).toBe(0);
      expect(cleared.workers.paused).toBe(false);
      expect(await admin.paymentFaults()).toEqual(configured);
    });

    it('resizes the pool, kills a worker and restarts the store', async () => {
      const admin = await setup();
      expect(await admin.setWorkers(3)).toEqual({ size: 3 });
      expect((await admin.status()).workers.size).toBe(3);
      expect(await admin.killWorker()).toMatchObject({ killed: expect.any(Boolean) });
      expect(await admin.restartStore()).toMatchObject({ restarted: true, downtimeMs: expect.any(Number) });
      expect(await admin.resumeConsumer()).toEqual({ paused: false });
    });

    it('pauses and resumes the intake', async () => {
      const admin = await setup();
      expect(await admin.pauseIntake()).toEqual({ paused: true });
      expect((await admin.status()).intake.paused).toBe(true);
      expect(await admin.resumeIntake()).toEqual({ paused: false });
      expect((await admin.status()).intake.paused).toBe(false);
    });

    it('refuses bad values with SRG_STACK_ADMIN', async () => {
      const admin = await setup();
      await expect(admin.setDropRatio(2)).rejects.toMatchObject({ code: 'SRG_STACK_ADMIN' });
      await expect(admin.setWorkers(-1)).rejects.toMatchObject({ code: 'SRG_STACK_ADMIN' });
    });

    it('reads the stock per sku', async () => {
      const items = await (await setup()).inventory();
      expect(items.length).toBeGreaterThan(0);
      for (const i of items) {
        expect(i).toEqual({ sku: expect.stringMatching(/^SKU-\d{4}$/), available: expect.any(Number), reserved: expect.any(Number), sold: expect.any(Number) });
        expect(i.available + i.reserved + i.sold).toBe(10);
      }
    });

    it('lists, overrides and clears flags', async () => {
      const admin = await setup();
      const flags = await admin.flags();
      expect(flags.length).toBeGreaterThan(0);
      for (const f of flags) expect(f).toEqual({ name: expect.any(String), enabled: expect.any(Boolean), overridden: false, description: expect.any(String) });
      const first = flags[0]!;
      expect(await admin.setFlag(first.name, !first.enabled)).toEqual({ ...first, enabled: !first.enabled, overridden: true });
      expect((await admin.flags()).find((f) => f.name === first.name)).toEqual({ ...first, enabled: !first.enabled, overridden: true });
      // Overriding with the default value is still an override, until cleared.
      expect(await admin.setFlag(first.name, first.enabled)).toEqual({ ...first, overridden: true });
      expect(await admin.clearFlag(first.name)).toEqual(first);
      expect(await admin.flags()).toEqual(flags);
    });

    it('names an unknown flag with SRG_STACK_UNKNOWN_FLAG and lists the known ones', async () => {
      const admin = await setup();
      const known = (await admin.flags()).map((f) => f.name);
      for (const call of [() => admin.setFlag('no-such-flag', true), () => admin.clearFlag('no-such-flag')]) {
        const err = (await call().catch((e: unknown) => e)) as SurgeError;
        expect(err).toBeInstanceOf(SurgeError);
        expect(err.code).toBe('SRG_STACK_UNKNOWN_FLAG');
        expect(err.message).toContain(`no flag named 'no-such-flag'`);
        expect(err.hint).toBe(`known flags: ${known.join(', ')}`);
      }
    });

    it('treats a call its signal aborted as an interruption, not an unreachable stack', async () => {
      const admin = await setup();
      const ac = new AbortController();
      ac.abort();
      await expect(admin.status({ signal: ac.signal })).rejects.toMatchObject({ code: 'SRG_CLI_INTERRUPTED' });
    });
  });
}

contract('fake', async () => createFakeStackAdmin());

const stacks: TestStack[] = [];
afterAll(async () => {
  await Promise.all(stacks.map((s) => s.dispose()));
});

contract('real client against a real stack', async () => {
  const stack = await startTestStack({ workers: 2, seedInventory: 10 });
  stacks.push(stack);
  return createStackAdmin({ url: stack.url, token: stack.adminToken });
});

describe('the color of a blue-green stack', () => {
  it('is in the status of the fake and of a real stack started with one', async () => {
    expect((await createFakeStackAdmin({ color: 'green' }).status()).color).toBe('green');
    const stack = await startTestStack({ workers: 1, color: 'green' });
    stacks.push(stack);
    const admin = createStackAdmin({ url: stack.url, token: stack.adminToken });
    expect((await admin.status()).color).toBe('green');
    expect((await admin.clearFaults()).color).toBe('green');
  });

  it('is null for a stack from before colors, which sends none', async () => {
    const server = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      const old: Record<string, unknown> = { ...createFakeStackAdmin().state };
      delete old.color;
      res.end(JSON.stringify(old));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      expect((await createStackAdmin({ url, token: 'x'.repeat(20) }).status()).color).toBeNull();
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

describe('real client errors', () => {
  const servers: Server[] = [];
  afterAll(() => servers.forEach((s) => s.close()));
  /** A local HTTP server answering with `handler`; its base URL. */
  async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
    const srv = createServer(handler);
    servers.push(srv);
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    return `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  }
  /** A port nothing listens on: bound once, then closed. */
  async function closedPort(): Promise<number> {
    const srv = createNetServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const { port } = srv.address() as AddressInfo;
    await new Promise<void>((r) => srv.close(() => r()));
    return port;
  }
  const failure = (p: Promise<unknown>) => p.then(() => expect.fail('expected a rejection'), (e: unknown) => e as SurgeError);

  it('names a refused connection in words, with how to start a stack', async () => {
    const port = await closedPort();
    const err = await failure(createStackAdmin({ url: `http://127.0.0.1:${port}`, token: 'x'.repeat(16), timeoutMs: 2_000 }).status());
    expect(err).toBeInstanceOf(SurgeError);
    expect(err.code).toBe('SRG_STACK_UNREACHABLE');
    expect(err.message).toBe(`No stack answered GET /admin/status at http://127.0.0.1:${port} (connection refused: nothing listens on 127.0.0.1:${port})`);
    expect(err.hint).toContain('surgectl stack up');
    expect(err.hint).toContain('--url');
  });

  // fetch refused the Fetch standard's "bad ports" (1, 22, 6000, …) without connecting; undici's
  // request connects, so port 1 is simply a port where nothing listens.
  it('says what happened on port 1, without a bare TypeError', async () => {
    const err = await failure(createStackAdmin({ url: 'http://127.0.0.1:1' }).status());
    expect(err.code).toBe('SRG_STACK_UNREACHABLE');
    expect(err.message).not.toContain('TypeError');
    expect(err.message).toContain('connection refused: nothing listens on 127.0.0.1:1');
  });

  it('names an unknown host', async () => {
    const err = await failure(createStackAdmin({ url: 'http://no-such-host.invalid:8080' }).status());
    expect(err.code).toBe('SRG_STACK_UNREACHABLE');
    expect(err.message).toMatch(/host no-such-host\.invalid (not found|could not be resolved)/);
  });

  it('gives up on a stack that does not answer in time, and an abort mid-call is an interruption', async () => {
    const url = await serve(() => undefined); // accepts, never answers
    const slow = await failure(createStackAdmin({ url, timeoutMs: 100 }).status());
    expect(slow.code).toBe('SRG_STACK_UNREACHABLE');
    expect(slow.message).toContain('(no answer in 0.1 s)');

    const ac = new AbortController();
    const pending = failure(createStackAdmin({ url, timeoutMs: 10_000 }).status({ signal: ac.signal }));
    ac.abort();
    const interrupted = await pending;
    expect(interrupted.code).toBe('SRG_CLI_INTERRUPTED');
    expect(interrupted.message).toContain(`Interrupted while asking the stack at ${url}`);
  });

  it('refuses text that is not an http(s) URL before any request', () => {
    for (const url of ['localhost:8080', 'ftp://127.0.0.1', '']) {
      expect(() => createStackAdmin({ url })).toThrow(expect.objectContaining({ code: 'SRG_CLI_USAGE', message: `Not a URL: '${url}'` }));
    }
  });

  it('says when something other than a stack answers', async () => {
    const url = await serve((_req, res) => res.end('<html>hello</html>'));
    const err = await failure(createStackAdmin({ url }).status());
    expect(err.code).toBe('SRG_STACK_ADMIN');
    expect(err.message).toContain('not JSON');
    const notFound = await serve((_req, res) => {
      res.statusCode = 404;
      res.end('Not Found');
    });
    expect(await failure(createStackAdmin({ url: notFound }).status())).toMatchObject({ code: 'SRG_STACK_ADMIN', message: expect.stringContaining('HTTP 404 Not Found') });
  });

  it('names a wrong or missing token with a hint, and reads /metrics without one', async () => {
    const stack = await startTestStack({ workers: 1, seedInventory: 1 });
    stacks.push(stack);
    for (const token of ['wrong-token-0123456789', undefined]) {
      await expect(createStackAdmin({ url: stack.url, ...(token ? { token } : {}) }).status()).rejects.toMatchObject({
        code: 'SRG_STACK_ADMIN',
        message: expect.stringContaining('HTTP 401'),
        hint: expect.stringContaining('admin token'),
      });
    }
    expect(await createStackAdmin({ url: `${stack.url}/` }).metricsText()).toContain('surgectl_http_request_duration_seconds');
  });
});
