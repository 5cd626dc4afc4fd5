import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { z } from 'zod';
import { SurgeError } from '../errors.js';
import { parseYamlText } from '../util/yaml.js';
import { describeExpected, showValue, unwrapSchema, valueKinds } from './describe.js';
import { ConfigSchema, stackColorDefaults, type Config } from './schema.js';

export interface LoadConfigOptions {
  cwd: string;
  env: Readonly<Record<string, string | undefined>>;
  /** --config; else SURGECTL_CONFIG; else ./surgectl.yaml when it exists. */
  file?: string | undefined;
  /** Values given as flags, by section; they win over file and env. */
  flags?: Partial<Record<keyof Config, Record<string, unknown>>>;
}

export interface LoadedConfig {
  config: Readonly<Config>;
  /** The file that was read, if any. */
  file: string | undefined;
  warnings: string[];
}

const ENV_PREFIX = 'SURGECTL_';

/**
 * Layers defaults < file < env < flags, validates with the strict schema and reports every
 * problem at once, named where it came from: a flag (usage error, exit 2), an environment
 * variable (SRG_CONFIG_ENV) or a key of the file (SRG_CONFIG_INVALID). Returns a frozen config.
 */
export async function loadConfig(opts: LoadConfigOptions): Promise<LoadedConfig> {
  const warnings: string[] = [];
  const file = resolveConfigFile(opts);
  let fromFile: Record<string, unknown> = {};
  if (file !== undefined) fromFile = await readConfigFile(file);

  const env = readEnv(opts.env);
  const flags = (opts.flags ?? {}) as Record<string, Record<string, unknown> | undefined>;
  const merged = deepMerge(deepMerge(fromFile, env.values), flags as Record<string, unknown>);
  const parsed = ConfigSchema.safeParse(stackColorDefaults(merged));
  if (!parsed.success) throw configError(parsed.error.issues, { file, env, flags, merged });
  return { config: deepFreeze(parsed.data), file, warnings };
}

/** The environment variable of a config key: SURGECTL_<SECTION>_<KEY>, e.g. SURGECTL_STACK_MAX_BACKLOG. */
export function envVarName(section: string, key: string): string {
  return `${ENV_PREFIX}${snake(section)}_${snake(key)}`;
}

/** The flag that sets a config key: its name in kebab case (maxBacklog -> --max-backlog). */
export function flagName(key: string): string {
  return `--${key.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase()}`;
}

function resolveConfigFile(opts: LoadConfigOptions): string | undefined {
  const explicit = opts.file ?? opts.env.SURGECTL_CONFIG;
  if (explicit !== undefined && explicit !== '') {
    const path = resolve(opts.cwd, explicit);
    if (!existsSync(path)) {
      throw new SurgeError('SRG_CONFIG_NOT_FOUND', `Config file not found: ${path}`, {
        hint: 'Check the --config path (or SURGECTL_CONFIG).',
      });
    }
    return path;
  }
  for (const name of ['surgectl.yaml', 'surgectl.yml']) {
    const path = resolve(opts.cwd, name);
    if (existsSync(path)) return path;
  }
  return undefined;
}

async function readConfigFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new SurgeError('SRG_CONFIG_NOT_FOUND', `Cannot read config file ${path}: ${(cause as Error).message}`, { cause });
  }
  const value = await parseYamlText(text, path, 'SRG_CONFIG_PARSE');
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new SurgeError('SRG_CONFIG_INVALID', `${path} must hold a mapping of sections (stack:, ...), not ${Array.isArray(value) ? 'a list' : typeof value}`);
  }
  return value as Record<string, unknown>;
}

interface EnvLayer {
  /** Converted values by section and key. */
  values: Record<string, Record<string, unknown>>;
  /** `section.key` -> the variable and its text as given. */
  raw: Map<string, { name: string; text: string }>;
}

/**
 * SURGECTL_<SECTION>_<KEY> in SCREAMING_SNAKE_CASE, e.g. SURGECTL_STACK_MAX_BACKLOG=5000. Each
 * value is converted by the type its key expects (strings stay strings, numbers are trimmed and
 * read like the flags read them, booleans are true/false); the schema then checks the value.
 */
function readEnv(env: Readonly<Record<string, string | undefined>>): EnvLayer {
  const values: Record<string, Record<string, unknown>> = {};
  const raw = new Map<string, { name: string; text: string }>();
  for (const section of Object.keys(ConfigSchema.shape)) {
    const shape = sectionShape(section);
    for (const [key, schema] of Object.entries(shape)) {
      const name = envVarName(section, key);
      const text = env[name];
      if (text === undefined || text === '') continue;
      (values[section] ??= {})[key] = fromEnvText(schema, text);
      raw.set(`${section}.${key}`, { name, text });
    }
  }
  return { values, raw };
}

/** The keys of a config section and their schemas. */
function sectionShape(section: string): Record<string, z.ZodType> {
  const schema = (ConfigSchema.shape as Record<string, z.ZodType>)[section];
  if (schema === undefined) return {};
  const inner = unwrapSchema(schema) as unknown as { shape?: Record<string, z.ZodType> };
  return inner.shape ?? {};
}

function fieldSchema(section: string, key: string): z.ZodType | undefined {
  return sectionShape(section)[key];
}

/** Reads a number as the flags do: surrounding blanks ignored, `.5`, `1e3`; undefined when it is not one. */
function readNumber(text: string): number | undefined {
  const t = text.trim();
  if (t === '') return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

function fromEnvText(schema: z.ZodType, text: string): unknown {
  const { kinds, literals } = valueKinds(schema);
  const t = text.trim();
  if (literals.has(t)) return t;
  if (kinds.has('number')) {
    const n = readNumber(text);
    if (n !== undefined) return n;
  }
  if (kinds.has('boolean')) {
    if (t.toLowerCase() === 'true') return true;
    if (t.toLowerCase() === 'false') return false;
  }
  if (kinds.has('string')) return text;
  // Not convertible to what the key takes: validation reports it with the variable's name.
  return text;
}

const snake = (s: string) => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();

/** Keys whose values are never echoed back in an error. */
// stack.store may be a PostgreSQL URL with a password in it.
const SECRET_KEYS = new Set(['adminToken', 'store']);

/**
 * One SurgeError for every problem of the merged config, blamed on the layer the offending value
 * came from: flags (a usage error naming the flag), then environment variables, then the file.
 */
function configError(
  issues: readonly z.core.$ZodIssue[],
  src: { file: string | undefined; env: EnvLayer; flags: Record<string, Record<string, unknown> | undefined>; merged: Record<string, unknown> },
): SurgeError {
  const flagProblems: string[] = [];
  const envProblems: string[] = [];
  const fileProblems: string[] = [];
  const seen = new Set<string>();
  for (const issue of issues) {
    const path = issue.path.map(String);
    const [section, key] = path;
    const dotted = path.join('.');
    if (issue.code === 'unrecognized_keys') {
      const keys = (issue as { keys: string[] }).keys;
      fileProblems.push(`${dotted || '(top level)'}: unknown key${keys.length > 1 ? 's' : ''} ${keys.map((k) => `'${k}'`).join(', ')}`);
      continue;
    }
    const onKey = section !== undefined && key !== undefined && path.length === 2;
    if (onKey) {
      // One line per key: zod may report a value twice (e.g. not whole and too small).
      if (seen.has(dotted)) continue;
      seen.add(dotted);
    }
    const field = onKey ? fieldSchema(section, key) : undefined;
    const expected = field ? describeExpected(field) : undefined;
    const secret = key !== undefined && SECRET_KEYS.has(key);
    if (onKey && src.flags[section]?.[key] !== undefined) {
      const value = src.flags[section]?.[key];
      const flag = flagName(key);
      flagProblems.push(expected ? `${flag} must be ${expected}${secret ? '' : `, got ${showValue(value)}`}` : `${flag}: ${issue.message}`);
      continue;
    }
    const fromEnv = onKey ? src.env.raw.get(dotted) : undefined;
    if (fromEnv !== undefined) {
      envProblems.push(expected ? `${fromEnv.name} must be ${expected}${secret ? '' : `, got ${showValue(fromEnv.text)}`}` : `${fromEnv.name}: ${issue.message}`);
      continue;
    }
    if (onKey && expected) {
      const value = (src.merged[section] as Record<string, unknown> | undefined)?.[key];
      fileProblems.push(`${dotted}: expected ${expected}${secret ? '' : `, got ${showValue(value)}`}`);
    } else {
      fileProblems.push(`${dotted || '(top level)'}: ${issue.message}`);
    }
  }

  if (flagProblems.length > 0) {
    const [first] = flagProblems;
    return new SurgeError('SRG_CLI_USAGE', flagProblems.length === 1 && first !== undefined ? first : `${flagProblems.length} flag values are not valid`, {
      details: flagProblems.length === 1 ? [] : flagProblems,
      hint: "Flags win over surgectl.yaml and SURGECTL_* variables; the command's --help says what each flag takes.",
    });
  }
  const fileLabel = src.file ?? 'the configuration';
  if (envProblems.length > 0) {
    const [first] = envProblems;
    const single = envProblems.length === 1 && fileProblems.length === 0 && first !== undefined;
    return new SurgeError(
      'SRG_CONFIG_ENV',
      single ? first : `Invalid configuration: ${envProblems.length} environment variable(s)${fileProblems.length > 0 ? ` and ${fileProblems.length} problem(s) in ${fileLabel}` : ''}`,
      {
        details: single ? [] : [...envProblems, ...fileProblems],
        hint: 'Fix or unset the variables named above; see README.md "Configuration" for every key, its variable and its unit.',
      },
    );
  }
  return new SurgeError('SRG_CONFIG_INVALID', `Invalid configuration${src.file ? ` in ${src.file}` : ''}: ${fileProblems.length} problem(s)`, {
    details: fileProblems,
    hint: 'Fix the keys listed above; see README.md "Configuration" for every key and its unit.',
  });
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    if (v === undefined) continue;
    const prev = out[k];
    out[k] = isPlainObject(prev) && isPlainObject(v) ? deepMerge(prev, v) : v;
  }
  return out;
}

function deepFreeze<T>(o: T): Readonly<T> {
  if (isPlainObject(o) || Array.isArray(o)) {
    for (const v of Object.values(o as object)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
