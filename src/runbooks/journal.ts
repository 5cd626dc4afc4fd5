import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { SurgeError } from '../errors.js';
import { writeOutputFiles } from '../util/output-files.js';
import type { ParamValue, RunbookJournal } from './types.js';

/** Writes the whole journal atomically (temp file, then rename): a reader never sees half of it. */
export async function writeJournal(path: string, journal: RunbookJournal): Promise<void> {
  await writeOutputFiles([{ flag: '--journal', path, text: `${JSON.stringify(journal, null, 2)}\n` }], { createParents: true });
}

const JournalSchema = z.looseObject({
  kind: z.literal('surgectl.runbook.journal'),
  schemaVersion: z.literal(1),
  runbook: z.looseObject({ name: z.string(), version: z.number(), digest: z.string(), source: z.string() }),
  params: z.record(z.string(), z.unknown()),
  user: z.string(),
  status: z.string(),
  startedAt: z.string(),
  resumes: z.array(z.unknown()),
  steps: z.array(z.looseObject({ step: z.string(), kind: z.string(), status: z.string() })),
});

/** Reads a journal back for `runbook resume`; anything else is SRG_RUNBOOK_JOURNAL naming the file. */
export async function readJournal(path: string): Promise<RunbookJournal> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new SurgeError('SRG_RUNBOOK_JOURNAL', `cannot read the journal ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { hint: 'Give the path `surgectl runbook run` printed (default under .surgectl/runbooks/).' });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new SurgeError('SRG_RUNBOOK_JOURNAL', `${path} is not JSON, so it is not a runbook journal`);
  }
  const r = JournalSchema.safeParse(raw);
  if (!r.success) {
    throw new SurgeError('SRG_RUNBOOK_JOURNAL', `${path} is not a surgectl runbook journal`, { details: r.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`) });
  }
  return r.data as unknown as RunbookJournal;
}

/** One line of the audit log. */
export interface AuditEntry {
  at: string;
  user: string;
  reason?: string | undefined;
  runbook: string;
  version: number;
  /** The journal this line belongs to. */
  journal: string;
  step: string;
  /** `run` for the start and end of a run, else the phase of the step. */
  phase: 'run' | 'precondition' | 'action' | 'verify' | 'rollback' | 'confirm';
  params: Record<string, ParamValue>;
  result: string;
  durationMs: number;
  error?: string | undefined;
}

/** Appends one JSON line; the log is only ever appended to. */
export async function appendAudit(path: string, entry: AuditEntry): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await appendFile(path, `${JSON.stringify(entry)}\n`, { mode: 0o600 });
}

/** Secret parameter values and anything equal to them, as `***`. */
export function redactor(params: Readonly<Record<string, ParamValue>>, secrets: readonly string[]): <T>(v: T) => T {
  const values = secrets.map((k) => params[k]).filter((v): v is string | number => (typeof v === 'string' && v.length >= 4) || typeof v === 'number').map(String);
  const hide = (v: unknown): unknown => {
    if (typeof v === 'string') return values.reduce((s, secret) => s.split(secret).join('***'), v);
    if (Array.isArray(v)) return v.map(hide);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, hide(x)]));
    return v;
  };
  return <T>(v: T) => hide(v) as T;
}

/** The parameters with secrets as `***`. */
export function redactParams(params: Readonly<Record<string, ParamValue>>, secrets: readonly string[]): Record<string, ParamValue> {
  return Object.fromEntries(Object.entries(params).map(([k, v]) => [k, secrets.includes(k) ? '***' : v]));
}
