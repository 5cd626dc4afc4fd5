import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SurgeError } from '../../errors.js';
import { kill, pgQuery, rewindAsReplicaOf, startPrimary, startReplica, type PgCluster } from '../../../test/support/pg-cluster.js';
import { freePort } from '../../../test/support/ports.js';
import { createFakeReplicationCluster, type FakeReplicationCluster } from './fake.js';
import type { ReplicationPort, ReplicationStatus } from './port.js';
import { createPostgresReplication, formatLsn, lsnDiff, parseLsn, replicaLagBytes } from './postgres-replication.js';

/** A primary with one streaming standby, reached through the port under test. */
interface Backend {
  primary: ReplicationPort;
  replica: ReplicationPort;
  /** Where the primary listens (the standby's walreceiver names it). */
  primaryPort: number;
  /** Where the standby listens (the old primary streams from it after the promotion). */
  replicaPort: number;
  /** The application_name the standby streams under. */
  replicaName: string;
  /** The primary, as a role that is not a superuser (and has no grants). */
  limited: ReplicationPort;
  /** A port whose URL carries a password and where nothing listens. */
  unreachable: ReplicationPort;
  /** One client write on that server (an INSERT); rejects with the server's answer. */
  write(on: 'primary' | 'replica'): Promise<void>;
  /** An idle client session on the primary. */
  openSession(): Promise<{ alive(): Promise<boolean>; close(): Promise<void> }>;
  /** Pauses or resumes WAL replay on the standby (pg_wal_replay_pause/resume). */
  holdReplay(held: boolean): Promise<void>;
  /** After the standby's promotion: the old primary rebuilt as its streaming replica. */
  rewindOldPrimary(): Promise<void>;
}

const PASSWORD = 's3cret-pw';

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

/** Polls `probe` every 50 ms until it returns a value (deadline `ms`); throws with the last value seen. */
async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    const v = await probe().catch((e: unknown) => ((last = e), undefined));
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} did not happen in ${ms} ms; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
}

/** The primary's status once its WAL end is replayed by the standby (a write has settled). */
async function settled(b: Backend): Promise<{ p: ReplicationStatus; r: ReplicationStatus }> {
  return until('the standby to replay the primary’s WAL end', async () => {
    const p = await b.primary.status();
    const r = await b.replica.status();
    const row = p.replicas.find((x) => x.applicationName === b.replicaName);
    if (!row || row.lagBytes !== 0 || !r.replayLsn || !p.currentLsn || lsnDiff(r.replayLsn, p.currentLsn) < 0) return undefined;
    return { p, r };
  });
}

function contract(name: string, setup: () => Promise<Backend>, teardown: () => Promise<void>) {
  describe(`ReplicationPort contract: ${name}`, () => {
    let b: Backend;
    beforeAll(async () => {
      b = await setup();
    }, 120_000);
    afterAll(teardown, 60_000);

    it('reads the role of each side', async () => {
      expect(await b.primary.role()).toBe('primary');
      expect(await b.replica.role()).toBe('standby');
    });

    it('shows the standby streaming on both sides with lag 0 once a write has settled', async () => {
      await b.write('primary');
      const { p, r } = await settled(b);
      expect(p).toMatchObject({ role: 'primary', readOnly: false });
      expect(p.replayLsn).toBeUndefined();
      expect(lsnDiff(p.flushLsn as string, p.currentLsn as string)).toBeLessThanOrEqual(0);
      const row = p.replicas.find((x) => x.applicationName === b.replicaName);
      expect(row).toMatchObject({ state: 'streaming', syncState: 'async', clientAddr: '127.0.0.1', lagBytes: 0 });
      expect(row?.replayLsn).toBe(p.currentLsn);
      expect(row?.replayLagSeconds === null || (row?.replayLagSeconds as number) < 5).toBe(true);
      expect(r.role).toBe('standby');
      expect(r.upstream).toMatchObject({ status: 'streaming', senderHost: '127.0.0.1', senderPort: b.primaryPort, applicationName: b.replicaName });
      expect(r.replicas).toEqual([]);
    });

    it('shows the lag in bytes while the standby does not replay, and waitForReplay gives up at its timeout', async () => {
      await b.holdReplay(true);
      try {
        await b.write('primary');
        await b.write('primary');
        const p = await b.primary.status();
        const row = await until('the held standby to show lag', async () => {
          const s = await b.primary.status();
          const x = s.replicas.find((y) => y.applicationName === b.replicaName);
          return x && x.lagBytes > 0 ? x : undefined;
        });
        expect(row.state).toBe('streaming');
        const t0 = Date.now();
        const w = await b.replica.waitForReplay(p.currentLsn as string, 300);
        expect(w.reached).toBe(false);
        expect(lsnDiff(p.currentLsn as string, w.replayLsn)).toBeGreaterThan(0);
        expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
        expect(Date.now() - t0).toBeLessThan(3_000);
      } finally {
        await b.holdReplay(false);
      }
    });

    it('waitForReplay returns once the standby has replayed the primary’s current LSN', async () => {
      await b.write('primary');
      const lsn = (await b.primary.status()).currentLsn as string;
      const w = await b.replica.waitForReplay(lsn, 15_000);
      expect(w.reached).toBe(true);
      expect(lsnDiff(w.replayLsn, lsn)).toBeGreaterThanOrEqual(0);
      // Already there: it answers at once.
      expect((await b.replica.waitForReplay(lsn, 1)).reached).toBe(true);
      // A primary replays nothing: waiting on it is refused rather than waiting forever.
      await expectCode(b.primary.waitForReplay('FF/0', 100), 'SRG_PG_REFUSED', 'is a primary', 'FF/0');
      await expectCode(b.replica.waitForReplay('nonsense', 100), 'SRG_CLI_USAGE', "'nonsense'");
    });

    it('fence makes writes fail, ends open client sessions but not streaming, and is idempotent', async () => {
      const session = await b.openSession();
      try {
        expect(await session.alive()).toBe(true);
        const f = await b.primary.fence();
        expect(f.wasReadOnly).toBe(false);
        expect(f.terminated).toBeGreaterThanOrEqual(1);
        expect(await session.alive()).toBe(false);
        await expect(b.write('primary')).rejects.toThrow(/read-only transaction/);
        const s = await b.primary.status();
        expect(s.readOnly).toBe(true);
        expect(s.replicas.find((x) => x.applicationName === b.replicaName)?.state).toBe('streaming');
        expect(await b.primary.fence()).toEqual({ wasReadOnly: true, terminated: 0 });
      } finally {
        await session.close();
      }
    });

    it('unfence restores writes', async () => {
      await b.primary.unfence();
      expect((await b.primary.status()).readOnly).toBe(false);
      await b.write('primary');
      await settled(b);
    });

    it('refuses fence and promote to a role without the rights, naming the statement and the grant (SRG_PG_REFUSED)', async () => {
      const e = await expectCode(b.limited.fence(), 'SRG_PG_REFUSED', 'ALTER SYSTEM SET default_transaction_read_only = on', 'permission denied', '42501');
      expect(e.hint).toContain('GRANT ALTER SYSTEM ON PARAMETER default_transaction_read_only');
      expect(e.exitCode).toBe(2);
      expect((await b.primary.status()).readOnly).toBe(false);
    });

    it('names the URL without its password when nothing answers (SRG_STACK_STORE_UNREACHABLE, exit 3)', async () => {
      for (const call of [() => b.unreachable.role(), () => b.unreachable.status(), () => b.unreachable.fence(), () => b.unreachable.promote(1_000), () => b.unreachable.waitForReplay('0/1', 100)]) {
        const e = await expectCode(call(), 'SRG_STACK_STORE_UNREACHABLE', b.unreachable.url, 'ECONNREFUSED');
        expect(e.exitCode).toBe(3);
        expect(e.message).not.toContain(PASSWORD);
        expect(e.hint).toContain('listen');
      }
      expect(b.unreachable.url).not.toContain(PASSWORD);
    });

    it('promote turns the standby into a primary that takes writes; a second promote says it already is one', async () => {
      // The failover order: fence, catch up, promote.
      await b.write('primary');
      await b.primary.fence();
      const lsn = (await b.primary.status()).flushLsn as string;
      expect((await b.replica.waitForReplay(lsn, 15_000)).reached).toBe(true);
      expect(await b.replica.promote(30_000)).toBe('promoted');
      expect(await b.replica.role()).toBe('primary');
      const s = await b.replica.status();
      expect(s).toMatchObject({ role: 'primary', readOnly: false, replicas: [] });
      expect(s.upstream).toBeUndefined();
      await b.write('replica');
      expect(await b.replica.promote(30_000)).toBe('already-primary');
    });

    it('after promote, the old primary rebuilt as a replica of the new one streams again', async () => {
      await b.rewindOldPrimary();
      expect(await b.primary.role()).toBe('standby');
      await b.write('replica');
      const lsn = (await b.replica.status()).currentLsn as string;
      expect((await b.primary.waitForReplay(lsn, 15_000)).reached).toBe(true);
      const p = await until('the old primary to stream from the new one', async () => {
        const st = await b.replica.status();
        return st.replicas.some((x) => x.state === 'streaming') ? st : undefined;
      });
      expect(p.replicas).toHaveLength(1);
      const old = await b.primary.status();
      expect(old.upstream).toMatchObject({ status: 'streaming', senderHost: '127.0.0.1', senderPort: b.replicaPort });
      // The fence went with the old data directory's settings: it is a plain standby now.
      expect(old.readOnly).toBe(false);
      await expect(b.write('primary')).rejects.toThrow(/read-only transaction/);
    });
  });
}

// --- the fake ---
let fake: FakeReplicationCluster;
const FAKE_A = 'postgres://postgres@127.0.0.1:15432/postgres';
const FAKE_B = 'postgres://postgres@127.0.0.1:15433/postgres';
contract(
  'fake',
  async () => {
    fake = createFakeReplicationCluster();
    fake.addPrimary(FAKE_A, { name: 'pg_a' });
    fake.addStandby(FAKE_B, FAKE_A, { name: 'pg_b' });
    return {
      primary: fake.port(FAKE_A),
      replica: fake.port(FAKE_B),
      primaryPort: 15432,
      replicaPort: 15433,
      replicaName: 'pg_b',
      limited: fake.port('postgres://app@127.0.0.1:15432/postgres'),
      unreachable: fake.port(`postgres://app:${PASSWORD}@127.0.0.1:1/postgres`),
      write: async (on) => void (await fake.write(on === 'primary' ? FAKE_A : FAKE_B)),
      openSession: async () => {
        const s = fake.openSession(FAKE_A);
        return { alive: async () => s.alive, close: async () => undefined };
      },
      holdReplay: async (held) => fake.holdReplay(FAKE_B, held),
      rewindOldPrimary: async () => fake.rewind(FAKE_A, FAKE_B),
    };
  },
  async () => undefined,
);

describe('the fake', () => {
  it('records every statement against its server', async () => {
    const f = createFakeReplicationCluster();
    f.addPrimary(FAKE_A);
    await f.port(FAKE_A).fence();
    await f.port(FAKE_A).status();
    expect(f.calls).toEqual(['127.0.0.1:15432 ALTER SYSTEM SET default_transaction_read_only = on', '127.0.0.1:15432 SELECT pg_is_in_recovery() AS standby']);
  });

  it('measures replay lag in seconds from the oldest write a held standby has not replayed', async () => {
    let clock = 1_000_000;
    const f = createFakeReplicationCluster({ now: () => clock });
    f.addPrimary(FAKE_A);
    f.addStandby(FAKE_B, FAKE_A, { name: 'b', sync: true });
    expect((await f.port(FAKE_A).status()).replicas[0]).toMatchObject({ syncState: 'sync', lagBytes: 0, replayLagSeconds: null });
    f.holdReplay(FAKE_B, true);
    await f.write(FAKE_A, 100);
    clock += 2_500;
    await f.write(FAKE_A, 50);
    expect((await f.port(FAKE_A).status()).replicas[0]).toMatchObject({ lagBytes: 150, replayLagSeconds: 2.5 });
    f.setDown(FAKE_A, true);
    expect((await f.port(FAKE_B).status()).upstream?.status).toBe('stopped');
  });
});

// --- REAL PostgreSQL: a primary and a streaming replica in temporary directories ---
let a: PgCluster | undefined;
let bReplica: PgCluster | undefined;
contract(
  'real PostgreSQL',
  async () => {
    a = await startPrimary({ name: 'pg_contract_a' });
    bReplica = await startReplica(a, { name: 'pg_contract_b' });
    await pgQuery(a.url, 'CREATE TABLE probe (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())');
    await pgQuery(a.url, 'CREATE ROLE app LOGIN');
    const primary = a;
    const replica = bReplica;
    const limitedUrl = `postgres://app:${PASSWORD}@127.0.0.1:${primary.port}/postgres`;
    return {
      primary: createPostgresReplication({ url: primary.url }),
      replica: createPostgresReplication({ url: replica.url }),
      primaryPort: primary.port,
      replicaPort: replica.port,
      replicaName: replica.name,
      limited: createPostgresReplication({ url: limitedUrl }),
      unreachable: createPostgresReplication({ url: `postgres://app:${PASSWORD}@127.0.0.1:${await freePort()}/postgres`, connectTimeoutMs: 2_000 }),
      write: async (on) => void (await pgQuery((on === 'primary' ? primary : replica).url, 'INSERT INTO probe DEFAULT VALUES')),
      openSession: async () => {
        const c = new pg.Client({ connectionString: primary.url });
        c.on('error', () => undefined);
        await c.connect();
        return {
          alive: () => c.query('SELECT 1').then(
            () => true,
            () => false,
          ),
          close: () => c.end().catch(() => undefined),
        };
      },
      holdReplay: async (held) => {
        await pgQuery(replica.url, held ? 'SELECT pg_wal_replay_pause()' : 'SELECT pg_wal_replay_resume()');
        if (held) await until('replay to pause', async () => ((await pgQuery<{ s: string }>(replica.url, 'SELECT pg_get_wal_replay_pause_state() AS s'))[0]?.s === 'paused' ? true : undefined));
      },
      rewindOldPrimary: async () => {
        const r = await rewindAsReplicaOf(primary, replica);
        console.log(`old primary rebuilt with ${r.method}${r.rewindFailure ? ` (pg_rewind: ${r.rewindFailure.split('\n')[0]})` : ''}`);
      },
    };
  },
  async () => {
    await a?.stop();
    await bReplica?.stop();
  },
);

describe('LSN arithmetic (pure)', () => {
  it('reads and writes PostgreSQL LSNs and counts the bytes between two', () => {
    expect(parseLsn('0/3000060')).toBe(0x3000060n);
    expect(parseLsn('16/B374D848')).toBe((0x16n << 32n) + 0xb374d848n);
    expect(formatLsn(parseLsn('16/B374D848'))).toBe('16/B374D848');
    expect(formatLsn(0n)).toBe('0/0');
    expect(lsnDiff('0/3000060', '0/3000000')).toBe(96);
    expect(lsnDiff('0/3000000', '0/3000060')).toBe(-96);
    // Across the 4 GiB boundary of the low word.
    expect(lsnDiff('1/0', '0/FFFFFFFF')).toBe(1);
    expect(lsnDiff('1/10', '0/FFFFFFF0')).toBe(32);
    for (const bad of ['', '3000060', '0/', '/1', '0/1/2', 'G/1', '0/123456789']) expect(() => parseLsn(bad), bad).toThrow(SurgeError);
  });

  it('measures a standby’s lag from the furthest position it reported, never below 0', () => {
    const nul = { sentLsn: null, writeLsn: null, flushLsn: null, replayLsn: null };
    expect(replicaLagBytes('0/3000100', { ...nul, replayLsn: '0/3000000' })).toBe(256);
    expect(replicaLagBytes('0/3000100', { ...nul, flushLsn: '0/3000080' })).toBe(128);
    expect(replicaLagBytes('0/3000100', { ...nul, replayLsn: '0/3000200' })).toBe(0);
    expect(replicaLagBytes('0/3000100', nul)).toBe(0x3000100);
  });
});

// The kill (SIGKILL) path the drill's chaos variant takes, on real clusters.
describe('real PostgreSQL: a killed primary', () => {
  it('stops answering at once (SRG_STACK_STORE_UNREACHABLE), its standby promotes, and it is rebuilt as the new primary’s replica', async () => {
    const p = await startPrimary({ name: 'pg_kill_a', slots: ['slot_b'] });
    const r = await startReplica(p, { name: 'pg_kill_b', slot: 'slot_b' });
    try {
      const pp = createPostgresReplication({ url: p.url, connectTimeoutMs: 2_000 });
      const rp = createPostgresReplication({ url: r.url });
      await pgQuery(p.url, 'CREATE TABLE t (v int)');
      await until('the slot standby to catch up', async () => ((await pp.status()).replicas[0]?.lagBytes === 0 ? true : undefined));
      expect((await rp.status()).upstream?.slotName).toBe('slot_b');
      await kill(p);
      await expectCode(pp.status(), 'SRG_STACK_STORE_UNREACHABLE', `127.0.0.1:${p.port}`);
      expect(await rp.promote(30_000)).toBe('promoted');
      await pgQuery(r.url, 'INSERT INTO t VALUES (1)');
      const rebuilt = await rewindAsReplicaOf(p, r);
      // wal_keep_size keeps the WAL pg_rewind reads back to the divergence, even after a crash.
      expect(rebuilt.method, rebuilt.rewindFailure).toBe('pg_rewind');
      expect(await pp.role()).toBe('standby');
      const lsn = (await rp.status()).currentLsn as string;
      expect((await pp.waitForReplay(lsn, 15_000)).reached).toBe(true);
      expect(await pgQuery(p.url, 'SELECT v FROM t')).toEqual([{ v: 1 }]);
    } finally {
      await p.stop();
      await r.stop();
    }
  }, 120_000);
});

describe('real PostgreSQL: the old primary rebuilt by pg_basebackup when pg_rewind is not an option', () => {
  it('copies the new primary afresh and streams from it', async () => {
    const p = await startPrimary({ name: 'pg_copy_a' });
    const r = await startReplica(p, { name: 'pg_copy_b' });
    try {
      await pgQuery(p.url, 'CREATE TABLE t (v int)');
      const rp = createPostgresReplication({ url: r.url });
      expect(await rp.promote(30_000)).toBe('promoted');
      await pgQuery(r.url, 'INSERT INTO t VALUES (2)');
      const rebuilt = await rewindAsReplicaOf(p, r, { method: 'pg_basebackup' });
      expect(rebuilt.method).toBe('pg_basebackup');
      const pp = createPostgresReplication({ url: p.url });
      expect((await pp.status()).upstream).toMatchObject({ status: 'streaming', senderPort: r.port, applicationName: 'pg_copy_a' });
      expect(await pgQuery(p.url, 'SELECT v FROM t')).toEqual([{ v: 2 }]);
    } finally {
      await p.stop();
      await r.stop();
    }
  }, 120_000);
});
