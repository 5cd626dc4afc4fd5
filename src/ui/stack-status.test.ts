import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { createFakeStackAdmin } from '../adapters/stack-admin/fake.js';
import type { StackStatus } from '../adapters/stack-admin/port.js';
import type { StatusSample } from '../stack-status/watch.js';
import { createPaint, stripAnsi } from './color.js';
import { renderDeadLetters, renderMigration, renderStackStarted, renderStackStatus, renderWatchHeader, renderWatchRow, renderWatchSample } from './stack-status.js';

const plain = createPaint(false);
const colour = createPaint(true);
const STACK_URL = 'http://127.0.0.1:8080';

/** A stack at rest, as the fake reports it, with `change` applied. */
const statusWith = (change: (s: StackStatus) => void = () => undefined): StackStatus => {
  const s: StackStatus = structuredClone(createFakeStackAdmin().state);
  change(s);
  return s;
};
const sample = (s: StackStatus, rates: { acceptedPerSec: number | null; confirmedPerSec: number | null }): StatusSample => ({ at: '2025-11-28T09:15:42.123Z', ...rates, status: s });

describe('renderStackStatus', () => {
  it('shows an idle stack line by line', () => {
    expect(renderStackStatus(STACK_URL, statusWith(), plain)).toBe(
      [
        STACK_URL,
        '  intake    open',
        '  workers   0/8 busy',
        '  queue     0 waiting, oldest 0.0 s',
        '  orders    none yet',
        '  oversold  0',
        '  breaker   closed',
        '  payment   failure rate 0, latency 5 ms',
        '  faults    none',
        '',
      ].join('\n'),
    );
  });

  it('shows a stack under faults: only the statuses with orders, the paused consumer, the drop ratio, no gateway', () => {
    const s = statusWith((s) => {
      s.intake.draining = true;
      s.workers = { size: 4, busy: 4, paused: true };
      s.queue = { depth: 120, oldestWaitingMs: 2_345 };
      Object.assign(s.orders.byStatus, { accepted: 120, confirmed: 30 });
      s.oversold = 2;
      s.breaker = 'half_open';
      s.payment = null;
      s.faults.dropRatio = 0.25;
    });
    const text = renderStackStatus(STACK_URL, s, plain);
    expect(text).toContain('  intake    draining\n');
    expect(text).toContain('  workers   4/4 busy (consumer paused)\n');
    expect(text).toContain('  queue     120 waiting, oldest 2.3 s\n');
    expect(text).toContain('  orders    accepted=120 confirmed=30\n');
    expect(text).toContain('  oversold  2\n');
    expect(text).toContain('  breaker   half_open\n');
    expect(text).toContain('  payment   -\n');
    expect(text).toContain('  faults    dropping 25% of intake\n');
    // With colours on, the same words, with what needs a look coloured.
    const coloured = renderStackStatus(STACK_URL, s, colour);
    expect(stripAnsi(coloured)).toBe(text);
    expect(coloured).toContain(colour.red('2'));
    expect(coloured).toContain(colour.yellow('half_open'));
  });
});

describe('stack status --watch rendering', () => {
  it('prints the STACK_URL and the columns first in the table form only', () => {
    expect(renderWatchHeader('table', STACK_URL)).toBe(`${STACK_URL}\nTIME     INTAKE   QUEUE    OLDEST   WORKERS   ACCEPTED/S  CONFIRMED/S  BREAKER   OVERSOLD\n`);
    expect(renderWatchHeader('json', STACK_URL)).toBe('');
    expect(renderWatchHeader('yaml', STACK_URL)).toBe('');
  });

  it('prints a row under the columns, with - for a rate not known yet', () => {
    const header = renderWatchHeader('table', STACK_URL).split('\n')[1]!;
    const first = renderWatchRow(sample(statusWith(), { acceptedPerSec: null, confirmedPerSec: null }), plain);
    expect(first).toBe('09:15:42 open     0        0.0s     0/8       -           -            closed    0\n');
    // Each value starts under its column name.
    for (const name of ['INTAKE', 'QUEUE', 'OLDEST', 'WORKERS', 'ACCEPTED/S', 'CONFIRMED/S', 'BREAKER', 'OVERSOLD']) {
      expect(first[header.indexOf(name) - 1]).toBe(' ');
      expect(first[header.indexOf(name)]).not.toBe(' ');
    }
    const later = renderWatchRow(sample(statusWith((s) => (s.queue = { depth: 12, oldestWaitingMs: 1_500 })), { acceptedPerSec: 12.34, confirmedPerSec: 0 }), plain);
    expect(later).toBe('09:15:42 open     12       1.5s     0/8       12.3        0.0          closed    0\n');
  });

  it('colours a paused intake, a breaker not closed and oversold units without moving the columns', () => {
    const s = statusWith((s) => {
      s.intake.paused = true;
      s.breaker = 'open';
      s.oversold = 3;
    });
    const rates = { acceptedPerSec: 1, confirmedPerSec: 1 };
    const row = renderWatchRow(sample(s, rates), colour);
    expect(row).toContain(colour.yellow('paused'));
    expect(row).toContain(colour.yellow('open'));
    expect(row).toContain(colour.red('3'));
    expect(stripAnsi(row)).toBe(renderWatchRow(sample(s, rates), plain));
  });

  it('prints a sample as one JSON line, or as one YAML document', async () => {
    const one = sample(statusWith(), { acceptedPerSec: 1.5, confirmedPerSec: null });
    const json = await renderWatchSample('json', one, plain);
    expect(json.endsWith('\n')).toBe(true);
    expect(json.trimEnd()).not.toContain('\n');
    expect(JSON.parse(json)).toEqual(one);
    const yaml = (await renderWatchSample('yaml', one, plain)) + (await renderWatchSample('yaml', one, plain));
    expect(yaml.startsWith('---\n')).toBe(true);
    expect(parseAllDocuments(yaml).map((d) => d.toJS() as unknown)).toEqual([one, one]);
    expect(await renderWatchSample('table', one, plain)).toBe(renderWatchRow(one, plain));
  });
});

describe('renderStackStarted (stack up)', () => {
  it('lists every endpoint, the token and the files, and says stderr when there is no log file', () => {
    const info = {
      url: STACK_URL,
      intakeUrl: `${STACK_URL}/v1/orders`,
      adminUrl: `${STACK_URL}/admin`,
      metricsUrl: `${STACK_URL}/metrics`,
      paymentUrl: 'http://127.0.0.1:8089',
      adminToken: 'tok-123',
      workers: 8,
      dataDir: '/tmp/d',
      logFile: null,
    };
    const text = renderStackStarted(info, plain);
    expect(text.split('\n')[0]).toBe('✓ surgectl order stack is up (8 workers)');
    expect(text).toContain(`  intake    ${STACK_URL}/v1/orders\n`);
    expect(text).toContain('  payment   http://127.0.0.1:8089\n');
    expect(text).toContain('  token     tok-123\n');
    expect(text).toContain('  logs      stderr\n');
    expect(renderStackStarted({ ...info, logFile: '/tmp/d/stack.log' }, plain)).toContain('  logs      /tmp/d/stack.log\n');
    expect(stripAnsi(renderStackStarted(info, colour))).toBe(text);
  });
});

describe('renderMigration', () => {
  const base = { database: 'postgres://app@db:5432/orders', from: 1, current: 2, latest: 2, applied: [2], sql: ['ALTER TABLE orders ADD COLUMN trace_parent text', 'CREATE TABLE loyalty_ledger (order_id text PRIMARY KEY)'] };
  it('a dry run shows the SQL that would run, each statement ended', () => {
    expect(renderMigration({ ...base, dryRun: true, current: 1 })).toBe(
      '-- dry run: postgres://app@db:5432/orders is at schema version 1; applying 2 would run:\nALTER TABLE orders ADD COLUMN trace_parent text;\n\nCREATE TABLE loyalty_ledger (order_id text PRIMARY KEY);\n',
    );
  });
  it('says what was applied, or that nothing was', () => {
    expect(renderMigration({ ...base, dryRun: false })).toBe('postgres://app@db:5432/orders: applied schema version 2; now at version 2\n');
    expect(renderMigration({ ...base, dryRun: false, applied: [], sql: [] })).toBe('postgres://app@db:5432/orders is at schema version 2 (the latest): nothing to apply\n');
  });
});

describe('renderStackStatus: the cache (stack up --cache)', () => {
  const withCache = (cache: StackStatus['cache']): StackStatus => {
    const s: StackStatus = structuredClone(createFakeStackAdmin().state);
    if (cache === undefined) delete s.cache;
    else s.cache = cache;
    return s;
  };
  it('shows where the rate limit and the inventory copy live; nothing for a stack without a cache or one too old to say', () => {
    expect(renderStackStatus(STACK_URL, withCache('redis'), plain)).toContain('  cache     redis (rate limit shared, inventory copy)\n');
    const local = renderStackStatus(STACK_URL, withCache('local'), colour);
    expect(local).not.toBe(stripAnsi(local));
    expect(stripAnsi(local)).toContain('  cache     local (Redis unreachable: rate limit per process, inventory from the store)\n');
    for (const c of ['off', undefined] as const) expect(renderStackStatus(STACK_URL, withCache(c), plain)).not.toContain('cache');
  });
});

describe('renderStackStatus: a replicated stack (--intake-replicas, --worker-processes)', () => {
  it('adds a row per process, a process being restarted in yellow; a one-process stack shows no table', () => {
    const s: StackStatus = structuredClone(createFakeStackAdmin().state);
    expect(renderStackStatus(STACK_URL, s, plain)).not.toContain('processes');
    s.processes = [
      { role: 'intake', name: 'intake-1', pid: 4101, state: 'running', restarts: 0, since: '2026-12-05T01:00:00.000Z' },
      { role: 'worker', name: 'worker-1', pid: null, state: 'restarting', restarts: 2, since: '2026-12-05T01:02:00.000Z' },
    ];
    const text = renderStackStatus(STACK_URL, s, plain);
    expect(text).toContain('  processes (workers and intake above: the replica that answered)\n');
    expect(text).toMatch(/^ {4}PROCESS +ROLE +PID +STATE +RESTARTS +SINCE$/im);
    expect(text).toMatch(/^ {4}intake-1 +intake +4101 +running +0 +2026-12-05T01:00:00\.000Z$/m);
    expect(text).toMatch(/^ {4}worker-1 +worker +- +restarting +2 +2026-12-05T01:02:00\.000Z$/m);
    const coloured = renderStackStatus(STACK_URL, s, colour);
    expect(stripAnsi(coloured)).toBe(text);
    expect(coloured).not.toBe(text);
  });
});

describe('renderDeadLetters (stack dlq list)', () => {
  it('a row per dead-lettered order, how many were left out, and a sentence for an empty queue', () => {
    const letter = { orderId: 'ord_1', reason: 'delivery_limit', queue: 'surgectl.orders', deadAt: '2026-12-05T01:00:00.000Z', deaths: 1, redrives: 0 };
    const text = renderDeadLetters({ total: 3, letters: [letter] });
    expect(text).toMatch(/^ord_1 +delivery_limit +2026-12-05T01:00:00\.000Z +1 +0$/m);
    expect(text).toContain('(1 of 3 shown)');
    expect(renderDeadLetters({ total: 0, letters: [] })).toBe('the dead-letter queue is empty\n');
  });
});
