import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import { SurgeError } from '../../errors.js';
import { createFakeUnleash } from './fake.js';
import type { UnleashPort } from './port.js';
import { createUnleash } from './unleash.js';
import { createUnleashFlags, startUnleash, type TestUnleash } from '../../../test/support/unleash-server.js';

/** The flags every backend starts with. */
const SEED = [
  { name: 'recommendations', description: 'product recommendations on the order page', on: ['development'] },
  { name: 'loyalty-points', description: 'loyalty points accrual' },
];

interface Backend {
  port(): UnleashPort;
  /** The same server, reached with a client token (no admin rights). */
  withClientToken(): UnleashPort;
}

async function expectCode(p: Promise<unknown>, code: string, contains?: string): Promise<SurgeError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SurgeError);
  expect((err as SurgeError).code).toBe(code);
  if (contains) expect((err as SurgeError).message).toContain(contains);
  return err as SurgeError;
}

function contract(name: string, setup: () => Promise<Backend>, teardown: () => Promise<void>) {
  describe(`UnleashPort contract: ${name}`, () => {
    let b: Backend;
    beforeAll(async () => {
      b = await setup();
    }, 90_000);
    afterAll(teardown, 30_000);

    it('lists the project flags with their state per environment', async () => {
      const features = await b.port().listFeatures('default');
      const recs = features.find((f) => f.name === 'recommendations');
      expect(recs?.description).toBe('product recommendations on the order page');
      expect(recs?.environments.find((e) => e.name === 'development')).toMatchObject({ enabled: true, hasStrategies: true });
      expect(recs?.environments.find((e) => e.name === 'production')).toMatchObject({ enabled: false, hasStrategies: false });
      expect(features.map((f) => f.name).sort()).toEqual(['loyalty-points', 'recommendations']);
    });

    it('names the environments and projects it has', async () => {
      expect(await b.port().environments()).toEqual(expect.arrayContaining(['development', 'production']));
      expect(await b.port().projects()).toContain('default');
    });

    it('switches a flag per environment, idempotently, leaving the others alone', async () => {
      const p = b.port();
      await p.toggle('default', 'loyalty-points', 'production', true);
      await p.toggle('default', 'loyalty-points', 'production', true);
      let f = (await p.listFeatures('default')).find((x) => x.name === 'loyalty-points');
      expect(f?.environments.find((e) => e.name === 'production')?.enabled).toBe(true);
      expect(f?.environments.find((e) => e.name === 'development')?.enabled).toBe(false);
      await p.toggle('default', 'loyalty-points', 'production', false);
      f = (await p.listFeatures('default')).find((x) => x.name === 'loyalty-points');
      expect(f?.environments.find((e) => e.name === 'production')?.enabled).toBe(false);
    });

    it('reads strategies; switching off keeps them', async () => {
      const p = b.port();
      const before = await p.strategies('default', 'recommendations', 'development');
      expect(before.map((s) => s.name)).toEqual(['flexibleRollout']);
      await p.toggle('default', 'recommendations', 'development', false);
      expect((await p.strategies('default', 'recommendations', 'development')).map((s) => s.id)).toEqual(before.map((s) => s.id));
      await p.toggle('default', 'recommendations', 'development', true);
    });

    it('names an unknown flag, environment or project (SRG_FLAGS_UNKNOWN)', async () => {
      const p = b.port();
      await expectCode(p.toggle('default', 'no-such-flag', 'development', false), 'SRG_FLAGS_UNKNOWN', "'no-such-flag'");
      await expectCode(p.toggle('default', 'recommendations', 'staging', false), 'SRG_FLAGS_UNKNOWN', "'staging'");
      const e = await expectCode(p.listFeatures('shop'), 'SRG_FLAGS_UNKNOWN', "project 'shop'");
      expect(e.hint).toContain('default');
    });

    it('refuses a token without admin rights with SRG_FLAGS_AUTH naming the status', async () => {
      const e = await expectCode(b.withClientToken().listFeatures('default'), 'SRG_FLAGS_AUTH');
      expect(e.message).toMatch(/40[13]/);
      expect(e.hint).toContain('admin');
    });
  });
}

// --- the fake ---
contract(
  'fake',
  async () => {
    const fake = createFakeUnleash();
    for (const f of SEED) {
      fake.createFeature(f);
      for (const env of f.on ?? []) await fake.toggle('default', f.name, env, true);
    }
    const refusing = createFakeUnleash();
    refusing.fail('auth');
    return { port: () => fake, withClientToken: () => refusing };
  },
  async () => undefined,
);

// --- a REAL unleash-server 6.10 on PostgreSQL ---
let server: TestUnleash | undefined;
contract(
  'real unleash-server',
  async () => {
    server = await startUnleash();
    await createUnleashFlags(server, SEED);
    const s = server;
    return { port: () => createUnleash({ url: s.url, token: s.adminToken }), withClientToken: () => createUnleash({ url: s.url, token: s.clientToken }) };
  },
  async () => {
    await server?.stop();
  },
);

describe('the real adapter without a server', () => {
  it('maps a closed port to SRG_FLAGS_UNREACHABLE naming the URL, and never shows the token', async () => {
    const port = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const a = srv.address();
        srv.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
      });
    });
    const token = '*:*.secret-token-never-shown';
    const e = await expectCode(createUnleash({ url: `http://127.0.0.1:${port}`, token }).listFeatures('default'), 'SRG_FLAGS_UNREACHABLE', `127.0.0.1:${port}`);
    expect(JSON.stringify({ m: e.message, h: e.hint })).not.toContain('secret-token');
  });

  it('refuses a URL that is not http(s) before any request', () => {
    expect(() => createUnleash({ url: 'ftp://x', token: 't' })).toThrow(SurgeError);
  });
});
