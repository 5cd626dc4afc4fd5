import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFakeReplicationCluster, type FakeReplicationCluster } from '../adapters/postgres-replication/fake.js';
import type { ReplicationPort } from '../adapters/postgres-replication/port.js';
import { createPostgresReplication, lsnDiff } from '../adapters/postgres-replication/postgres-replication.js';
import { createRecordingReporter } from '../reporter.js';
import { pgQuery, rewindAsReplicaOf, startPrimary, startReplica, type PgCluster } from '../../test/support/pg-cluster.js';
import type { StepContext, StepKind } from './kinds.js';
import { POSTGRES_STEP_KINDS, type PostgresRunbookPorts } from './kinds-postgres.js';
import type { RunbookPorts } from './ports.js';

const A = 'postgres://postgres:pw-A-secret@127.0.0.1:15432/postgres';
const B = 'postgres://postgres:pw-B-secret@127.0.0.1:15433/postgres';

/** A kind with its fields checked by its own schema, as the engine's checkAction does. */
function kindOf(action: Record<string, unknown> & { kind: string }): { kind: StepKind<never>; spec: never } {
  const kind = POSTGRES_STEP_KINDS[action.kind];
  if (!kind) throw new Error(`no kind ${action.kind}`);
  const { kind: _k, ...fields } = action;
  const r = kind.schema.safeParse(fields);
  if (!r.success) throw new Error(r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  return { kind, spec: r.data };
}

function ctx(replication: (url: string) => Promise<ReplicationPort>, signal = new AbortController().signal): StepContext & { reporter: ReturnType<typeof createRecordingReporter> } {
  const ports: Partial<RunbookPorts> & PostgresRunbookPorts = { replication };
  return {
    ports: ports as unknown as RunbookPorts,
    signal,
    now: Date.now,
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    reporter: createRecordingReporter(true),
    env: {},
  };
}

/** A fake primary A with a standby B, and a context whose replication factory reaches them. */
function fakePair(opts: { now?: () => number } = {}): { fake: FakeReplicationCluster; c: ReturnType<typeof ctx>; urls: string[] } {
  const fake = createFakeReplicationCluster(opts);
  fake.addPrimary(A, { name: 'pg_a' });
  fake.addStandby(B, A, { name: 'pg_b' });
  const urls: string[] = [];
  return {
    fake,
    urls,
    c: ctx(async (url) => {
      urls.push(url);
      return fake.port(url);
    }),
  };
}

describe('pg-* step kinds on the fake', () => {
  it('validates their fields: PostgreSQL URLs, lag budgets, durations', () => {
    const schema = (k: string) => (POSTGRES_STEP_KINDS[k] as StepKind<never>).schema;
    expect(schema('pg-fence').safeParse({ url: 'http://127.0.0.1:5432' }).success).toBe(false);
    expect(schema('pg-fence').safeParse({ url: A, extra: 1 }).success).toBe(false);
    expect(schema('pg-fence').safeParse({ url: A }).success).toBe(true);
    expect(schema('pg-replication-check').safeParse({ primary: A, replica: B, maxLagBytes: -1 }).success).toBe(false);
    expect(schema('pg-replication-check').safeParse({ primary: A, replica: B, maxLagBytes: 1.5 }).success).toBe(false);
    expect(schema('pg-replication-check').safeParse({ primary: A, replica: B, maxLagBytes: 0, maxLagSeconds: 2.5, sync: true }).success).toBe(true);
    expect(schema('pg-promote').safeParse({ url: B, wait: 'soon' }).success).toBe(false);
    expect(schema('pg-wait-replay').safeParse({ primary: A }).success).toBe(false);
    expect(Object.keys(POSTGRES_STEP_KINDS)).toEqual(['pg-fence', 'pg-wait-replay', 'pg-promote', 'pg-replication-check']);
    expect(Object.values(POSTGRES_STEP_KINDS).map((k) => [k.name, k.mutating({} as never)])).toEqual([
      ['pg-fence', true],
      ['pg-wait-replay', false],
      ['pg-promote', true],
      ['pg-replication-check', false],
    ]);
  });

  it('pg-fence: records that the primary took writes, fences it (sessions ended, writes refused), and undo unfences', async () => {
    const { fake, c } = fakePair();
    const { kind, spec } = kindOf({ kind: 'pg-fence', url: A });
    const session = fake.openSession(A);
    const undo = await kind.before?.(spec, c);
    expect(undo).toEqual({ wasReadOnly: false });
    const r = await kind.run(spec, c);
    expect(r).toMatchObject({ passed: true, output: { wasReadOnly: false, terminated: 1, role: 'primary' } });
    expect(session.alive).toBe(false);
    await expect(fake.write(A)).rejects.toThrow(/read-only transaction/);
    expect(kind.describe(spec)).toBe('fence PostgreSQL postgres://127.0.0.1:15432/postgres: default_transaction_read_only = on, reload, terminate client sessions');
    expect(kind.describeUndo?.(spec, undo)).toBe('psql "postgres://127.0.0.1:15432/postgres" -c "ALTER SYSTEM RESET default_transaction_read_only" -c "SELECT pg_reload_conf()"');
    await kind.undo?.(spec, undo, c);
    await expect(fake.write(A)).resolves.toMatch(/\//);
  });

  it('pg-fence: a primary that was read-only before stays read-only after the undo', async () => {
    const { fake, c } = fakePair();
    await fake.port(A).fence();
    const { kind, spec } = kindOf({ kind: 'pg-fence', url: A });
    const undo = await kind.before?.(spec, c);
    expect(undo).toEqual({ wasReadOnly: true });
    await kind.run(spec, c);
    await kind.undo?.(spec, undo, c);
    await expect(fake.write(A)).rejects.toThrow(/read-only/);
    expect(kind.describeUndo?.(spec, undo)).toMatch(/^nothing: .* was already read-only/);
  });

  it('pg-fence with its standby named: the undo refuses to unfence once that standby was promoted (no two primaries)', async () => {
    const { fake, c } = fakePair();
    const { kind, spec } = kindOf({ kind: 'pg-fence', url: A, standby: B });
    const undo = await kind.before?.(spec, c);
    await kind.run(spec, c);
    await fake.port(B).promote(1_000);
    await expect(kind.undo?.(spec, undo, c)).rejects.toThrow(/not unfencing postgres:\/\/127\.0\.0\.1:15432\/postgres: postgres:\/\/127\.0\.0\.1:15433\/postgres is a primary now \(promoted\)/);
    await expect(fake.write(A)).rejects.toThrow(/read-only/);
    expect(kind.describeUndo?.(spec, undo)).toMatch(/^only if postgres:\/\/127\.0\.0\.1:15433\/postgres is still a standby .*pg_is_in_recovery.*ALTER SYSTEM RESET/);
    // The standby out of sight: it may have been promoted, so no unfencing either.
    fake.setDown(B, true);
    await expect(kind.undo?.(spec, undo, c)).rejects.toThrow(/is unknown \(PostgreSQL at .* did not answer/);
  });

  it('pg-fence: an unreachable primary fails before anything changes (SRG_STACK_STORE_UNREACHABLE, no password shown)', async () => {
    const { fake, c } = fakePair();
    fake.setDown(A, true);
    const { kind, spec } = kindOf({ kind: 'pg-fence', url: A });
    const err = await Promise.resolve(kind.before?.(spec, c)).then(
      () => undefined,
      (e: unknown) => e as { code: string; message: string },
    );
    expect(err?.code).toBe('SRG_STACK_STORE_UNREACHABLE');
    expect(err?.message).toContain('127.0.0.1:15432');
    expect(err?.message).not.toContain('pw-A-secret');
  });

  it('pg-wait-replay: passes once the standby replayed the flushed WAL, with the LSNs and lag in its output', async () => {
    const { fake, c } = fakePair();
    await fake.write(A);
    const { kind, spec } = kindOf({ kind: 'pg-wait-replay', primary: A, standby: B });
    const r = await kind.run(spec, c);
    const flush = (await fake.port(A).status()).flushLsn;
    expect(r).toMatchObject({ passed: true, output: { primaryFlushLsn: flush, standbyReplayLsn: flush, lagBytes: 0 } });
    expect(kind.describe(spec)).not.toContain('secret');
  });

  it("pg-wait-replay: a standby that does not replay fails when the step's time runs out, saying how far short it is", async () => {
    const { fake, c } = fakePair();
    fake.holdReplay(B, true);
    await fake.write(A, 200);
    const ac = new AbortController();
    const { kind, spec } = kindOf({ kind: 'pg-wait-replay', primary: A, standby: B });
    const timer = setTimeout(() => ac.abort(), 150);
    const t0 = Date.now();
    const r = await kind.run(spec, { ...c, signal: ac.signal });
    clearTimeout(timer);
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(r.passed).toBe(false);
    expect(r.output).toMatchObject({ lagBytes: 200, standbyReceiver: 'streaming' });
    expect(r.message).toMatch(/replayed up to 0\/3000060, 200 bytes short of 0\/3000128/);
  });

  it('pg-wait-replay: refuses to wait on a "primary" that is a standby', async () => {
    const { c } = fakePair();
    const { kind, spec } = kindOf({ kind: 'pg-wait-replay', primary: B, standby: A });
    expect(await kind.run(spec, c)).toMatchObject({ passed: false, message: expect.stringMatching(/is a standby, not the primary/) });
  });

  it('pg-promote: promotes the standby onto writes; a rerun passes as already-primary; its undo is only words', async () => {
    const { fake, c } = fakePair();
    const { kind, spec } = kindOf({ kind: 'pg-promote', url: B, wait: '30s' });
    const before = await kind.before?.(spec, c);
    expect(before).toEqual({ role: 'standby', replayLsn: '0/3000060', upstream: { host: '127.0.0.1', port: 15432 } });
    expect(await kind.run(spec, c)).toMatchObject({ passed: true, output: { outcome: 'promoted', role: 'primary', readOnly: false } });
    await expect(fake.write(B)).resolves.toBeTruthy();
    expect(await kind.run(spec, c)).toMatchObject({ passed: true, output: { outcome: 'already-primary' } });
    expect(c.reporter.messages.some((m) => m.level === 'warn' && m.message.includes('already a primary'))).toBe(true);
    expect(kind.undo).toBeUndefined();
    const words = kind.describeUndo?.(spec, before) ?? '';
    expect(words).toContain('no automatic undo');
    expect(words).toContain('the old primary (127.0.0.1:15432)');
    expect(words).toContain("pg_rewind --target-pgdata=<its data directory> --source-server='host=127.0.0.1 port=15433 user=postgres dbname=postgres' --write-recovery-conf");
    expect(words).not.toContain('secret');
    expect(kind.describe(spec)).toBe('promote PostgreSQL standby postgres://127.0.0.1:15433/postgres to primary (pg_promote, wait up to 30s)');
  });

  it('pg-replication-check: passes for a streaming replica within budget and says why otherwise', async () => {
    let clock = 1_000_000;
    const { fake, c } = fakePair({ now: () => clock });
    const check = (fields: Record<string, unknown>) => {
      const { kind, spec } = kindOf({ kind: 'pg-replication-check', primary: A, replica: B, ...fields });
      return kind.run(spec, c);
    };
    expect(await check({ maxLagBytes: 0, maxLagSeconds: 1 })).toMatchObject({ passed: true, output: { applicationName: 'pg_b', state: 'streaming', syncState: 'async', lagBytes: 0, replayLagSeconds: null } });

    fake.holdReplay(B, true);
    await fake.write(A, 1_000);
    clock += 3_000;
    expect(await check({ maxLagBytes: 4_096 })).toMatchObject({ passed: true, output: { lagBytes: 1_000 } });
    expect(await check({ maxLagBytes: 999 })).toMatchObject({ passed: false, message: expect.stringContaining('it is 1000 bytes behind, more than 999') });
    expect(await check({ maxLagSeconds: 2 })).toMatchObject({ passed: false, message: expect.stringContaining('its replay lag is 3.000 s, more than 2 s') });
    expect(await check({ maxLagSeconds: 5 })).toMatchObject({ passed: true, output: { replayLagSeconds: 3 } });
    expect(await check({ sync: true })).toMatchObject({ passed: false, message: expect.stringContaining('it is async, not a synchronous standby') });
    fake.holdReplay(B, false);

    // Wrong way round, or pointed at a server it does not stream from.
    expect(await check({ primary: B, replica: A })).toMatchObject({ passed: false, message: expect.stringMatching(/is a standby, not a primary/) });
    const other = 'postgres://postgres@127.0.0.1:15999/postgres';
    fake.addPrimary(other);
    expect(await check({ primary: other })).toMatchObject({ passed: false, message: expect.stringMatching(/streams from 127\.0\.0\.1:15432, not from postgres:\/\/127\.0\.0\.1:15999\/postgres/) });
    // The primary crashed: the replica's walreceiver stops.
    fake.setDown(A, true);
    const down = await Promise.resolve(check({})).catch((e: unknown) => e as { code: string });
    expect((down as { code?: string }).code).toBe('SRG_STACK_STORE_UNREACHABLE');
  });


});

// One failover and failback of real PostgreSQL driven by the kinds: run and undo as the engine calls them.
describe('pg-* step kinds on real PostgreSQL', () => {
  let a: PgCluster;
  let b: PgCluster;
  beforeAll(async () => {
    a = await startPrimary({ name: 'pg_kinds_a' });
    b = await startReplica(a, { name: 'pg_kinds_b', sync: true });
    await pgQuery(a.url, 'CREATE TABLE orders (id bigserial PRIMARY KEY, note text)');
  }, 120_000);
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
  }, 60_000);

  it('check → fence (undone, then again) → wait for replay → promote → the old primary rebuilt and checked', async () => {
    const c = ctx(async (url) => createPostgresReplication({ url }));
    const run = async (action: Record<string, unknown> & { kind: string }) => {
      const { kind, spec } = kindOf(action);
      const undo = await kind.before?.(spec, c);
      return { kind, spec, undo, result: await kind.run(spec, c) };
    };

    const pre = await run({ kind: 'pg-replication-check', primary: a.url, replica: b.url, maxLagBytes: 1_048_576, sync: true });
    expect(pre.result).toMatchObject({ passed: true, output: { applicationName: 'pg_kinds_b', state: 'streaming', syncState: 'sync' } });

    // Fence, and roll it back as the engine would after a later failure.
    const fence = await run({ kind: 'pg-fence', url: a.url, standby: b.url });
    expect(fence.undo).toEqual({ wasReadOnly: false });
    expect(fence.result).toMatchObject({ passed: true, output: { wasReadOnly: false } });
    await expect(pgQuery(a.url, "INSERT INTO orders (note) VALUES ('after fence')")).rejects.toThrow(/read-only transaction/);
    await fence.kind.undo?.(fence.spec, fence.undo, c);
    await pgQuery(a.url, "INSERT INTO orders (note) VALUES ('acknowledged before the cut')");

    // The failover for real.
    const fence2 = await run({ kind: 'pg-fence', url: a.url, standby: b.url });
    expect(fence2.result.passed).toBe(true);
    const wait = await run({ kind: 'pg-wait-replay', primary: a.url, standby: b.url });
    expect(wait.result).toMatchObject({ passed: true, output: { lagBytes: 0 } });
    const out = wait.result.output as { primaryFlushLsn: string; standbyReplayLsn: string };
    expect(lsnDiff(out.standbyReplayLsn, out.primaryFlushLsn)).toBeGreaterThanOrEqual(0);
    const promote = await run({ kind: 'pg-promote', url: b.url, wait: '30s' });
    expect(promote.result).toMatchObject({ passed: true, output: { outcome: 'promoted', role: 'primary', readOnly: false } });
    expect(promote.kind.describeUndo?.(promote.spec, promote.undo)).toContain(`the old primary (127.0.0.1:${a.port})`);
    // A rollback now must not unfence A: B takes writes.
    await expect(fence2.kind.undo?.(fence2.spec, fence2.undo, c)).rejects.toThrow(/is a primary now/);
    await expect(pgQuery(a.url, "INSERT INTO orders (note) VALUES ('split brain')")).rejects.toThrow(/read-only transaction/);
    // Nothing acknowledged on A is missing on B, and B takes writes.
    expect((await pgQuery<{ note: string }>(b.url, 'SELECT note FROM orders ORDER BY id')).map((r) => r.note)).toEqual(['acknowledged before the cut']);
    await pgQuery(b.url, "INSERT INTO orders (note) VALUES ('on b')");

    // A is no replica of anything yet: the check says so.
    const stale = await run({ kind: 'pg-replication-check', primary: b.url, replica: a.url });
    expect(stale.result).toMatchObject({ passed: false, message: expect.stringMatching(/is a primary, not a standby/) });

    await rewindAsReplicaOf(a, b);
    const post = await run({ kind: 'pg-replication-check', primary: b.url, replica: a.url, maxLagBytes: 1_048_576 });
    expect(post.result).toMatchObject({ passed: true, output: { applicationName: 'pg_kinds_a', state: 'streaming' } });
    const back = await run({ kind: 'pg-wait-replay', primary: b.url, standby: a.url });
    expect(back.result.passed).toBe(true);
    expect((await pgQuery<{ note: string }>(a.url, 'SELECT note FROM orders ORDER BY id')).map((r) => r.note)).toEqual(['acknowledged before the cut', 'on b']);
  }, 120_000);
});
