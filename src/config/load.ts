import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { z } from 'zod';
import { SurgeError } from '../errors.js';
import { parseYamlText } from '../util/yaml.js';
import { ConfigSchema, type Config } from './schema.js';

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
 * problem at once with its key path. Returns a frozen config.
 */
export async function loadConfig(opts: LoadConfigOptions): Promise<LoadedConfig> {
  const warnings: string[] = [];
  const file = resolveConfigFile(opts);
  let fromFile: Record<string, unknown> = {};
  if (file !== undefined) fromFile = await readConfigFile(file);

  const fromEnv = readEnv(opts.env);
  const merged = deepMerge(deepMerge(fromFile, fromEnv), (opts.flags ?? {}) as Record<string, unknown>);
  const parsed = ConfigSchema.safeParse(merged);
  if (!parsed.success) {
    throw new SurgeError('SRG_CONFIG_INVALID', `Invalid configuration${file ? ` in ${file}` : ''}: ${parsed.error.issues.length} problem(s)`, {
      details: formatIssues(parsed.error.issues, fromEnv, fromFile),
      hint: 'Fix the keys listed above; see README.md "Configuration" for every key and its unit.',
    });
  }
  return { config: deepFreeze(parsed.data), file, warnings };
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

/**
 * SURGECTL_<SECTION>_<KEY> in SCREAMING_SNAKE_CASE, e.g. SURGECTL_STACK_MAX_BACKLOG=5000.
 * Numbers and booleans are converted; the schema then checks the shape.
 */
function readEnv(env: Readonly<Record<string, string | undefined>>): Record<string, unknown> {
  const out: Record<string, Record<string, unknown>> = {};
  const shape = ConfigSchema.shape as Record<string, z.ZodType>;
  for (const section of Object.keys(shape)) {
    const keys = sectionKeys(shape[section]);
    for (const key of keys) {
      const name = `${ENV_PREFIX}${snake(section)}_${snake(key)}`;
      const raw = env[name];
      if (raw === undefined || raw === '') continue;
      (out[section] ??= {})[key] = coerce(raw);
    }
  }
  return out;
}

function sectionKeys(schema: z.ZodType | undefined): string[] {
  // Unwrap .default()/.optional() to reach the object's shape.
  let s: unknown = schema;
  for (let i = 0; i < 5 && s !== undefined; i++) {
    const def = (s as { def?: { innerType?: unknown; shape?: Record<string, unknown> } }).def;
    if (def?.shape) return Object.keys(def.shape);
    s = def?.innerType;
  }
  return [];
}

const snake = (s: string) => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();

function coerce(raw: string): unknown {
  if (/^-?\d+(\.\d+)?$/.test(raw)) return Number(raw);
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  return raw;
}

function formatIssues(issues: readonly z.core.$ZodIssue[], fromEnv: Record<string, unknown>, _fromFile: Record<string, unknown>): string[] {
  return issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    const [section, key] = issue.path.map(String);
    const viaEnv = section !== undefined && key !== undefined && (fromEnv[section] as Record<string, unknown> | undefined)?.[key] !== undefined;
    const where = viaEnv ? ` (from ${ENV_PREFIX}${snake(section!)}_${snake(key!)})` : '';
    if (issue.code === 'unrecognized_keys') {
      const keys = (issue as { keys: string[] }).keys;
      return `${path || '(top level)'}: unknown key${keys.length > 1 ? 's' : ''} ${keys.map((k) => `'${k}'`).join(', ')}`;
    }
    return `${path || '(top level)'}${where}: ${issue.message}`;
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
