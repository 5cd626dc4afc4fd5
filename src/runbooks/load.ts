import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { basename, extname, isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { SurgeError } from '../errors.js';
import { parseDuration, DURATION_EXAMPLES } from '../util/duration.js';
import { parseYamlText } from '../util/yaml.js';
import { shippedPath } from '../version.js';
import { checkAction, STEP_KINDS } from './kinds.js';
import { PARAM_TYPES, type ActionSpec, type ParamSpec, type ParamValue, type ResolvedStep, type Runbook, type RunbookSpec, type StepSpec } from './types.js';

const DEFAULT_TIMEOUT_MS = 5 * 60_000;
const NAME = /^[a-z0-9][a-z0-9-]*$/;
const REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

const ParamValueSchema = z.union([z.string(), z.number(), z.boolean(), z.array(z.union([z.string(), z.number()]))]);
const ActionSchema = z.looseObject({ kind: z.string().min(1) });
const StepSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9${}][a-z0-9${}_-]*$/i, { message: 'a step name is letters, digits and dashes (it may use ${item})' }),
  kind: z.string().min(1),
  action: z.record(z.string(), z.unknown()),
  precondition: ActionSchema.optional(),
  verify: ActionSchema.optional(),
  rollback: z.union([z.literal('auto'), z.literal('none'), ActionSchema]).optional(),
  timeout: z.string().optional(),
  each: z.union([z.string(), z.array(z.union([z.string(), z.number()])).min(1)]).optional(),
  when: z.union([z.string(), z.boolean()]).optional(),
});
const RunbookSchema = z.strictObject({
  apiVersion: z.literal('surgectl/v1'),
  kind: z.literal('Runbook'),
  name: z.string().regex(NAME, { message: 'a runbook name is lower-case letters, digits and dashes' }),
  version: z.number().int().min(1),
  description: z.string().optional(),
  autoRollback: z.boolean().optional(),
  params: z
    .record(
      z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: 'a parameter name is letters, digits and _' }),
      z.strictObject({ type: z.enum(PARAM_TYPES), description: z.string().optional(), default: ParamValueSchema.optional(), enum: z.array(z.union([z.string(), z.number()])).min(1).optional(), secret: z.boolean().optional(), env: z.string().optional() }),
    )
    .optional(),
  steps: z.array(StepSchema).min(1),
});

/** A stand-in value of each parameter type, to check a runbook's fields before any value is known. */
const PROBE: Record<ParamSpec['type'], ParamValue> = { string: 'x', number: 1, boolean: true, duration: '1s', url: 'http://probe.invalid', list: [1] };

/**
 * Validates a runbook definition (already parsed from YAML) and lists every problem at once:
 * the file's shape, each step's kind and fields (checked with stand-in parameter values, so a
 * field that will hold a number is checked as one), every `${name}` pointing at a declared
 * parameter, unique step names.
 * @throws SurgeError SRG_RUNBOOK_INVALID (exit 10) naming the source and each problem with its path.
 */
export function validateRunbook(raw: unknown, source: string): Runbook {
  const r = RunbookSchema.safeParse(raw);
  if (!r.success) {
    throw invalid(source, r.error.issues.map((i) => `${i.path.map(String).join('.') || '(top)'}: ${i.message}`));
  }
  const spec = r.data as RunbookSpec;
  const problems: string[] = [];
  const params = spec.params ?? {};
  for (const [name, p] of Object.entries(params)) {
    if (p.default !== undefined) {
      try {
        coerceParam(name, p, p.default);
      } catch (err) {
        problems.push(`params.${name}.default: ${(err as SurgeError).message}`);
      }
    }
  }
  const names = new Set<string>();
  spec.steps.forEach((step, i) => {
    const where = `steps[${i}]`;
    const declared = new Set([...Object.keys(params), ...(step.each === undefined ? [] : ['item'])]);
    for (const ref of refsIn(step)) if (!declared.has(ref)) problems.push(`${where}: \${${ref}} is not a declared parameter${ref === 'item' ? ' (${item} only exists in a step with each:)' : ''}`);
    if (typeof step.each === 'string' && !/^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/.test(step.each)) problems.push(`${where}.each: expected a list or \${param} naming a list parameter`);
    if (typeof step.each === 'string') {
      const ref = step.each.slice(2, -1);
      if (params[ref] && params[ref].type !== 'list') problems.push(`${where}.each: parameter ${ref} is a ${params[ref].type}, not a list`);
    }
    if (step.timeout !== undefined && !step.timeout.includes('${') && parseDuration(step.timeout) === undefined) problems.push(`${where}.timeout: '${step.timeout}' is not ${DURATION_EXAMPLES}`);
    if (step.each === undefined && names.has(step.name)) problems.push(`${where}.name: '${step.name}' is used by another step`);
    names.add(step.name);
    const probe = Object.fromEntries(Object.entries(params).map(([k, p]) => [k, p.default ?? PROBE[p.type]]));
    const item = step.each === undefined ? [] : Array.isArray(step.each) ? step.each : (probe[step.each.slice(2, -1)] as ParamValue);
    const values = { ...probe, item: Array.isArray(item) ? (item[0] ?? 1) : item };
    for (const [phase, action] of phaseActions(step)) {
      problems.push(...checkAction(substitute(action, values) as ActionSpec, `${where}.${phase}`).problems);
    }
  });
  if (problems.length > 0) throw invalid(source, problems);
  return { spec, source, digest: digestOf(spec) };
}

function invalid(source: string, problems: string[]): SurgeError {
  return new SurgeError('SRG_RUNBOOK_INVALID', `runbook ${source} is not valid: ${problems.length} problem(s)`, {
    details: problems,
    hint: 'Fix each line above; `surgectl runbook show <name>` checks a runbook without running it. docs/runbooks.md lists the step kinds and their fields.',
  });
}

function phaseActions(step: StepSpec): [string, ActionSpec][] {
  const out: [string, ActionSpec][] = [['action', { ...step.action, kind: step.kind }]];
  if (step.precondition) out.push(['precondition', step.precondition]);
  if (step.verify) out.push(['verify', step.verify]);
  if (step.rollback && typeof step.rollback === 'object') out.push(['rollback', step.rollback]);
  return out;
}

function refsIn(v: unknown, out = new Set<string>()): Set<string> {
  if (typeof v === 'string') for (const m of v.matchAll(REF)) out.add(m[1] as string);
  else if (Array.isArray(v)) for (const x of v) refsIn(x, out);
  else if (v && typeof v === 'object') for (const x of Object.values(v)) refsIn(x, out);
  return out;
}

/** Replaces `${name}`: a string that is exactly one reference takes the value's own type (a number stays a number). */
export function substitute(v: unknown, values: Readonly<Record<string, ParamValue>>): unknown {
  if (typeof v === 'string') {
    const whole = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(v);
    if (whole && whole[1] !== undefined && values[whole[1]] !== undefined) return values[whole[1]];
    return v.replace(REF, (m, name: string) => (values[name] === undefined ? m : Array.isArray(values[name]) ? (values[name] as unknown[]).join(',') : String(values[name])));
  }
  if (Array.isArray(v)) return v.map((x) => substitute(x, values));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [substitute(k, values) as string, substitute(x, values)]));
  return v;
}

/** sha256 of the definition with sorted keys: any change to the steps changes it. */
function digestOf(spec: RunbookSpec): string {
  const canon = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(canon) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)).map(([k, x]) => [k, canon(x)])) : v;
  return createHash('sha256').update(JSON.stringify(canon(spec))).digest('hex').slice(0, 16);
}

/** Converts a parameter value (from --param text, a default or a journal) to its declared type. */
export function coerceParam(name: string, p: ParamSpec, v: ParamValue): ParamValue {
  const bad = (expected: string) => new SurgeError('SRG_RUNBOOK_PARAM', `parameter ${name} must be ${expected}, got '${Array.isArray(v) ? v.join(',') : String(v)}'`);
  let out: ParamValue;
  switch (p.type) {
    case 'number': {
      const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
      if (!Number.isFinite(n)) throw bad('a number');
      out = n;
      break;
    }
    case 'boolean':
      if (typeof v === 'boolean') out = v;
      else if (typeof v === 'string' && /^(true|yes|1)$/i.test(v)) out = true;
      else if (typeof v === 'string' && /^(false|no|0)$/i.test(v)) out = false;
      else throw bad('true or false');
      break;
    case 'duration':
      if (typeof v !== 'string' || parseDuration(v) === undefined) throw bad(DURATION_EXAMPLES);
      out = v;
      break;
    case 'url': {
      if (typeof v !== 'string') throw bad('an http(s) URL');
      let u: URL;
      try {
        u = new URL(v);
      } catch {
        throw bad('an http(s) URL such as http://127.0.0.1:8081');
      }
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw bad('an http(s) URL such as http://127.0.0.1:8081');
      out = v.replace(/\/+$/, '');
      break;
    }
    case 'list': {
      const items = Array.isArray(v) ? v : String(v).split(',').map((s) => s.trim()).filter((s) => s !== '');
      if (items.length === 0) throw bad('a comma-separated list such as 10,50,100');
      out = items.map((x) => (typeof x === 'string' && /^-?\d+(\.\d+)?$/.test(x) ? Number(x) : x));
      break;
    }
    default:
      if (typeof v !== 'string' && typeof v !== 'number') throw bad('a string');
      out = String(v);
  }
  if (p.enum && !p.enum.some((e) => String(e) === String(out))) throw bad(`one of ${p.enum.join(', ')}`);
  return out;
}

/** What {@link resolveRunbook} returns: the values in use and the steps to run. */
export interface ResolvedRunbook {
  params: Record<string, ParamValue>;
  /** Names of the secret parameters (redacted everywhere). */
  secrets: string[];
  steps: ResolvedStep[];
}

/**
 * Resolves a runbook with the given parameters (`--param` text or journal values), env for
 * `env:` parameters: every missing, unknown or ill-typed parameter is listed at once
 * (SRG_RUNBOOK_PARAM); `each` steps are expanded and `${…}` substituted; each action is checked
 * against its kind with the real values (SRG_RUNBOOK_INVALID).
 */
export function resolveRunbook(rb: Runbook, given: Readonly<Record<string, ParamValue>>, env: Readonly<Record<string, string | undefined>>): ResolvedRunbook {
  const declared = rb.spec.params ?? {};
  const problems: string[] = [];
  for (const k of Object.keys(given)) if (!declared[k]) problems.push(`unknown parameter ${k}; ${rb.spec.name} takes ${Object.keys(declared).join(', ') || 'none'}`);
  const params: Record<string, ParamValue> = {};
  for (const [name, p] of Object.entries(declared)) {
    const fromEnv = p.env !== undefined ? env[p.env] : undefined;
    const raw = given[name] ?? (fromEnv !== undefined && fromEnv !== '' ? fromEnv : undefined) ?? p.default;
    if (raw === undefined) {
      problems.push(`parameter ${name} is required${p.description ? ` (${p.description})` : ''}: pass --param ${name}=<${p.type}>${p.env ? ` or set ${p.env}` : ''}`);
      continue;
    }
    try {
      params[name] = coerceParam(name, p, raw);
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  if (problems.length > 0) {
    throw new SurgeError('SRG_RUNBOOK_PARAM', `runbook ${rb.spec.name}: ${problems.length} parameter problem(s)`, { details: problems, hint: `surgectl runbook show ${rb.spec.name} lists its parameters.` });
  }
  const steps: ResolvedStep[] = [];
  const invalidProblems: string[] = [];
  rb.spec.steps.forEach((step, i) => {
    const items = step.each === undefined ? [undefined] : Array.isArray(step.each) ? step.each : (params[step.each.slice(2, -1)] as (string | number)[]);
    for (const item of items) {
      const values = item === undefined ? params : { ...params, item };
      const where = `steps[${i}]${item === undefined ? '' : `(item ${item})`}`;
      const action = substitute({ ...step.action, kind: step.kind }, values) as ActionSpec;
      const checked = checkAction(action, `${where}.action`);
      invalidProblems.push(...checked.problems);
      const pre = step.precondition ? (substitute(step.precondition, values) as ActionSpec) : undefined;
      const ver = step.verify ? (substitute(step.verify, values) as ActionSpec) : undefined;
      const rb2 = step.rollback === undefined ? 'auto' : typeof step.rollback === 'string' ? step.rollback : (substitute(step.rollback, values) as ActionSpec);
      for (const [ph, a] of [['precondition', pre], ['verify', ver], ['rollback', typeof rb2 === 'object' ? rb2 : undefined]] as const) {
        if (a) invalidProblems.push(...checkAction(a, `${where}.${ph}`).problems);
      }
      const timeoutText = step.timeout === undefined ? undefined : String(substitute(step.timeout, values));
      const timeoutMs = timeoutText === undefined ? DEFAULT_TIMEOUT_MS : parseDuration(timeoutText);
      if (timeoutMs === undefined) invalidProblems.push(`${where}.timeout: '${timeoutText}' is not ${DURATION_EXAMPLES}`);
      const kind = STEP_KINDS[step.kind];
      const when = step.when === undefined ? true : substitute(step.when, values);
      if (typeof when !== 'boolean' && !/^(true|false)$/.test(String(when))) invalidProblems.push(`${where}.when: expected true or false (e.g. \${a boolean parameter}), got '${String(when)}'`);
      steps.push({
        enabled: when === true || when === 'true',
        name: String(substitute(step.name, values)),
        kind: step.kind,
        action,
        ...(pre ? { precondition: pre } : {}),
        ...(ver ? { verify: ver } : {}),
        rollback: rb2,
        timeoutMs: timeoutMs ?? DEFAULT_TIMEOUT_MS,
        mutating: kind !== undefined && checked.spec !== undefined ? kind.mutating(checked.spec as never) : true,
      });
    }
  });
  const seen = new Set<string>();
  for (const s of steps) {
    if (seen.has(s.name)) invalidProblems.push(`step name '${s.name}' appears twice after expanding each: (use \${item} in the name)`);
    seen.add(s.name);
  }
  if (invalidProblems.length > 0) throw invalid(rb.source, invalidProblems);
  return { params, secrets: Object.entries(declared).filter(([, p]) => p.secret).map(([k]) => k), steps };
}

/** Where runbooks come from: the shipped ones and the user's `runbooks/` folder. */
export interface RunbookSources {
  /** Folder of the shipped runbooks. Default: scenarios/runbooks in the package. */
  builtinDir?: string;
  /** The user's folder. Default: `<cwd>/runbooks`. */
  userDir: string;
}

/** One entry of `runbook list`. */
export interface RunbookEntry {
  name: string;
  version: number;
  description: string;
  source: 'builtin' | string;
  path: string;
}

async function yamlFiles(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => join(dir, f));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new SurgeError('SRG_RUNBOOK_NOT_FOUND', `cannot read runbook ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { hint: 'Give a runbook name (surgectl runbook list) or the path of a runbook YAML file.' });
  }
}

async function loadFile(path: string, source: string): Promise<Runbook> {
  const rb = validateRunbook(await parseYamlText(await readText(path), path, 'SRG_RUNBOOK_INVALID'), source === 'builtin' ? `${basename(path)} (built-in)` : path);
  return { ...rb, source: source === 'builtin' ? 'builtin' : path };
}

/** A user runbook file, parsed but not yet validated: its declared name (or its file name when it does not parse). */
interface UserFile {
  path: string;
  name: string;
  raw?: unknown;
  error?: unknown;
}

async function userFiles(dir: string): Promise<UserFile[]> {
  return Promise.all(
    (await yamlFiles(dir)).map(async (path): Promise<UserFile> => {
      try {
        const raw = await parseYamlText(await readText(path), path, 'SRG_RUNBOOK_INVALID');
        const declared = raw !== null && typeof raw === 'object' ? (raw as { name?: unknown }).name : undefined;
        return { path, name: typeof declared === 'string' ? declared : basename(path).replace(/\.ya?ml$/, ''), raw };
      } catch (error) {
        return { path, name: basename(path).replace(/\.ya?ml$/, ''), error };
      }
    }),
  );
}

const builtinRunbooks = async (src: RunbookSources) => Promise.all((await yamlFiles(src.builtinDir ?? shippedPath('scenarios', 'runbooks'))).map((p) => loadFile(p, 'builtin')));

function validateUser(f: UserFile, builtins: readonly Runbook[]): Runbook {
  if (f.error !== undefined) throw f.error;
  if (builtins.some((b) => b.spec.name === f.name)) {
    throw new SurgeError('SRG_RUNBOOK_INVALID', `${f.path} is named ${f.name}, like a built-in runbook`, { hint: 'Give your runbook another name.' });
  }
  return { ...validateRunbook(f.raw, f.path), source: f.path };
}

/**
 * Every runbook, built-in first, and the problems of the user files that are not valid (each
 * a SurgeError naming its file): one broken file does not hide the others.
 */
export async function listRunbooks(src: RunbookSources): Promise<{ runbooks: Runbook[]; problems: SurgeError[] }> {
  const builtins = await builtinRunbooks(src);
  const runbooks = [...builtins];
  const problems: SurgeError[] = [];
  for (const f of await userFiles(src.userDir)) {
    try {
      const rb = validateUser(f, runbooks);
      runbooks.push(rb);
    } catch (err) {
      problems.push(err instanceof SurgeError ? err : new SurgeError('SRG_RUNBOOK_INVALID', `${f.path}: ${(err as Error).message}`));
    }
  }
  return { runbooks, problems };
}

/**
 * A runbook by name (built-in, or the user file that declares that name) or by path to a YAML
 * file. Only the file asked for is validated: a broken file about something else does not stop
 * a cutover.
 */
export async function findRunbook(nameOrPath: string, src: RunbookSources & { cwd: string }): Promise<Runbook> {
  if (nameOrPath.includes('/') || ['.yaml', '.yml'].includes(extname(nameOrPath))) {
    const path = isAbsolute(nameOrPath) ? nameOrPath : resolve(src.cwd, nameOrPath);
    return loadFile(path, path);
  }
  const builtins = await builtinRunbooks(src);
  const files = await userFiles(src.userDir);
  const mine = files.filter((f) => f.name === nameOrPath);
  if (mine.length > 1) throw new SurgeError('SRG_RUNBOOK_INVALID', `${mine.map((f) => f.path).join(' and ')} are both named ${nameOrPath}`, { hint: 'Give each runbook its own name.' });
  const user = mine[0];
  if (user) return validateUser(user, builtins);
  const rb = builtins.find((r) => r.spec.name === nameOrPath);
  if (!rb) {
    throw new SurgeError('SRG_RUNBOOK_NOT_FOUND', `no runbook named ${nameOrPath}`, { hint: `Runbooks: ${[...builtins.map((r) => r.spec.name), ...files.map((f) => f.name)].join(', ') || 'none'} (built-in, and *.yaml in ${src.userDir}).` });
  }
  return rb;
}

/** `runbook list` lists what it can, then fails (exit 10) naming every file that is not valid. */
export function listOutcome(problems: readonly SurgeError[]): SurgeError | undefined {
  if (problems.length === 0) return undefined;
  return new SurgeError('SRG_RUNBOOK_INVALID', `${problems.length} runbook file(s) are not valid`, {
    details: problems.flatMap((p) => [p.message, ...p.details.map((d) => `  ${d}`)]),
    hint: 'Fix or move each file; the valid runbooks above can still be run.',
  });
}
