import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFakeStackAdmin, type FakeStackAdmin } from '../adapters/stack-admin/fake.js';
import { SurgeError } from '../errors.js';
import { createRecordingReporter, type Reporter } from '../reporter.js';
import { createPaint } from '../ui/color.js';
import { drillError, runDrill, targetsNeeded, type DrillConnections, type RunDrillOptions } from './drill.js';
import { parseExperiment } from './experiment.js';
import type { Journal } from './journal.js';
import { drillData, renderDrill } from './render.js';

const stackAction = { type: 'action', name: 'kill', provider: { type: 'stack', func: 'kill-worker' } };
const podAction = { type: 'action', name: 'kill-pod', provider: { type: 'kubernetes', func: 'delete-pods', arguments: { labelSelector: 'app=x' } } };
const meshRollback = { type: 'action', name: 'undo', provider: { type: 'chaos-mesh', func: 'delete', arguments: { kind: 'PodChaos', name: 'x' } } };
const httpProbe = { type: 'probe', name: 'up', tolerance: 200, provider: { type: 'http', url: 'http://127.0.0.1:1/health' } };
const oversold = { type: 'probe', name: 'not-oversold', tolerance: 0, provider: { type: 'stack', func: 'oversold' } };

describe('targetsNeeded', () => {
  it('asks for each system an activity (or the load) acts on, and nothing else', () => {
    const only = (method: unknown[], extra: Record<string, unknown> = {}) => targetsNeeded(parseExperiment({ title: 't', method, ...extra }));
    expect(only([stackAction])).toEqual({ stack: true, kubernetes: false });
    expect(only([podAction])).toEqual({ stack: false, kubernetes: true });
    expect(only([httpProbe], { rollbacks: [meshRollback] })).toEqual({ stack: false, kubernetes: true });
    expect(only([httpProbe])).toEqual({ stack: false, kubernetes: false });
    expect(only([httpProbe], { 'steady-state-hypothesis': { title: 'h', probes: [oversold] }, load: { rate: 1 } })).toEqual({ stack: true, kubernetes: false });
  });
});

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'surgectl-drill-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
/** A fresh workspace holding `doc` as exp.json. */
function workspace(doc: unknown): string {
  const w = join(dir, `w${++n}`);
  mkdirSync(w);
  writeFileSync(join(w, 'exp.json'), JSON.stringify(doc));
  return w;
}

/** Connections that record which systems were built; the stack is the fake. */
function connections(stack: FakeStackAdmin | Error): DrillConnections & { built: string[] } {
  const built: string[] = [];
  return {
    built,
    stack: async () => {
      built.push('stack');
      if (stack instanceof Error) throw stack;
      return stack;
    },
    kubernetes: async () => {
      built.push('kubernetes');
      throw new SurgeError('SRG_K8S_CONFIG', 'no kubeconfig in this test');
    },
    kubernetesContext: 'staging',
  };
}

function options(cwd: string, connect: DrillConnections, reporter: Reporter, extra: Partial<RunDrillOptions> = {}): RunDrillOptions {
  return { experiment: 'exp.json', journalPath: 'out/journal.json', cwd, connect, reporter, ...extra };
}

const noColor = createPaint(false);
const healthyDrill = { title: 'kill a worker', 'steady-state-hypothesis': { title: 'h', probes: [oversold] }, method: [stackAction] };

describe('runDrill', () => {
  it('with dryRun returns the plan, builds no target and asks nothing', async () => {
    const w = workspace(healthyDrill);
    const connect = connections(new Error('must not be built'));
    const reporter = createRecordingReporter(false);
    const r = await runDrill(options(w, connect, reporter, { dryRun: true, hypothesisStrategy: 'continuously' }));
    expect(r.kind).toBe('plan');
    expect(r.kind === 'plan' && r.plan.steps.map((s) => s.phase)).toEqual(['steady-state-before', 'steady-state-during', 'method', 'steady-state-after']);
    expect(connect.built).toEqual([]);
    expect(drillError(r)).toBeUndefined();
    expect(readdirSync(w)).toEqual(['exp.json']);
  });

  it('asks before touching the targets it needs, naming them; a "no" runs nothing', async () => {
    const w = workspace({ ...healthyDrill, rollbacks: [meshRollback] });
    const stack = createFakeStackAdmin();
    const connect = connections(stack);
    const questions: string[] = [];
    const reporter: Reporter = { notify: () => undefined, confirm: async (q) => (questions.push(q), false) };
    await expect(runDrill(options(w, connect, reporter))).rejects.toMatchObject({ code: 'SRG_CLI_ABORTED' });
    expect(questions).toEqual(['Run the drill "kill a worker" against the stack at http://127.0.0.1:8080 and Kubernetes context staging?']);
    // The Kubernetes client is a factory: building the targets loads nothing.
    expect(connect.built).toEqual(['stack']);
    expect(stack.calls).toEqual([]);
  });

  it('does not build the stack for an http-only drill (so a missing admin token cannot stop it)', async () => {
    const w = workspace({ title: 'http only', method: [{ type: 'action', name: 'ping', provider: { type: 'http', url: 'http://127.0.0.1:1/x', timeout: 1 } }] });
    const connect = connections(new SurgeError('SRG_STACK_ADMIN', 'No admin token'));
    const questions: string[] = [];
    const reporter: Reporter = { notify: () => undefined, confirm: async (q) => (questions.push(q), true) };
    const r = await runDrill(options(w, connect, reporter));
    expect(connect.built).toEqual([]);
    expect(questions).toEqual(['Run the drill "http only" against the http targets it names?']);
    expect(r.kind === 'journal' && r.journal.status).toBe('failed');
    expect(drillError(r)?.code).toBe('SRG_CHAOS_ACTION');
  });

  it('throws before the drill when the stack cannot be set up (e.g. no admin token)', async () => {
    const w = workspace(healthyDrill);
    await expect(runDrill(options(w, connections(new SurgeError('SRG_STACK_ADMIN', 'No admin token')), createRecordingReporter()))).rejects.toMatchObject({ code: 'SRG_STACK_ADMIN' });
    expect(readdirSync(w)).toEqual(['exp.json']);
  });

  it('runs the drill and writes the journal, creating its folder', async () => {
    const w = workspace(healthyDrill);
    const stack = createFakeStackAdmin();
    const r = await runDrill(options(w, connections(stack), createRecordingReporter(), { now: () => Date.parse('2026-05-01T10:00:00Z') }));
    if (r.kind !== 'journal') throw new Error('expected a journal');
    expect(r.writeError).toBeUndefined();
    expect(r.journalPath).toBe(join(w, 'out', 'journal.json'));
    expect(JSON.parse(readFileSync(r.journalPath, 'utf8'))).toEqual(r.journal);
    expect(r.journal).toMatchObject({ status: 'completed', start: '2026-05-01T10:00:00.000Z' });
    expect(stack.calls).toContain('killWorker()');
    expect(drillError(r)).toBeUndefined();
    expect(drillData(r)).toBe(r.journal);
    expect(renderDrill(r, noColor)).toContain(`journal: ${r.journalPath}\n`);
  });

  it('refuses a journal path that is a directory before touching anything', async () => {
    const w = workspace(healthyDrill);
    mkdirSync(join(w, 'journals'));
    const connect = connections(createFakeStackAdmin());
    await expect(runDrill(options(w, connect, createRecordingReporter(), { journalPath: 'journals' }))).rejects.toMatchObject({ code: 'SRG_CLI_USAGE' });
    expect(connect.built).toEqual([]);
  });
});

describe('drillError', () => {
  const journal = (over: Partial<Journal>): Journal => ({
    title: 'd',
    description: null,
    tags: [],
    experiment: {},
    status: 'completed',
    deviated: false,
    steady_states: { before: null, after: null, during: [] },
    run: [],
    rollbacks: [],
    rollback_failed: false,
    controls: [],
    rollbacks_skipped: null,
    load: null,
    options: { rollback_strategy: 'default', hypothesis_strategy: 'default', fail_fast: false },
    reason: null,
    error: null,
    start: '2026-01-01T00:00:00.000Z',
    end: '2026-01-01T00:00:01.000Z',
    duration: 1,
    ...over,
  });
  const writeError = new SurgeError('SRG_CLI_USAGE', '--journal-path /x/journal.json: ENOTDIR');

  it('a drill that passed ends with the write error itself', () => {
    expect(drillError({ kind: 'journal', journal: journal({}), journalPath: '/x/journal.json', writeError })).toBe(writeError);
  });

  it("a drill's own outcome keeps its code and gains a line about the journal, which it no longer points to", () => {
    const r = { kind: 'journal' as const, journal: journal({ status: 'failed', deviated: true }), journalPath: '/x/journal.json', writeError };
    const err = drillError(r);
    expect(err).toMatchObject({ code: 'SRG_CHAOS_DEVIATED', exitCode: 21 });
    expect(err?.details.at(-1)).toBe('the journal was not written: --journal-path /x/journal.json: ENOTDIR');
    expect(err?.hint).toContain('Re-run with --journal-path');
    expect(renderDrill(r, noColor)).toContain('journal: /x/journal.json (not written)');
    expect(drillError({ ...r, writeError: undefined })?.hint).toContain('Details are in the journal: /x/journal.json');
  });
});
