/**
 * Chaos Toolkit's `configuration` and `secrets` blocks and its `${name}` substitution, read the
 * way Chaos Toolkit reads them: a value is a literal or `{type: env, key, default?, env_var_type?}`;
 * secrets group such values by scope; `${name}` in activity fields is replaced by the configuration
 * or secret value of that name (a string that is only `${name}` takes the value with its type).
 * Pure: the environment is passed in.
 */

/** The resolved configuration and secrets of an experiment. */
export interface ResolvedValues {
  /** Configuration key -> value. */
  configuration: Record<string, unknown>;
  /** Secret scope -> key -> value. */
  secrets: Record<string, Record<string, unknown>>;
  /** Every secret value that is a string of 3+ characters, longest first: redacted from the journal and messages. */
  secretValues: string[];
  /** One line per problem, with its key path. */
  problems: string[];
}

type Env = Readonly<Record<string, string | undefined>>;

/** Resolves `configuration` and `secrets` against `env`; never throws, problems are listed. */
export function resolveValues(configuration: unknown, secrets: unknown, env: Env): ResolvedValues {
  const problems: string[] = [];
  const out: ResolvedValues = { configuration: {}, secrets: {}, secretValues: [], problems };
  if (configuration !== undefined) {
    if (!isRecord(configuration)) problems.push('configuration: must be a mapping of names to values');
    else for (const [k, v] of Object.entries(configuration)) out.configuration[k] = resolveEntry(v, `configuration.${k}`, env, problems);
  }
  if (secrets !== undefined) {
    if (!isRecord(secrets)) problems.push('secrets: must be a mapping of scopes, each a mapping of names to values');
    else {
      for (const [scope, entries] of Object.entries(secrets)) {
        if (!isRecord(entries)) {
          problems.push(`secrets.${scope}: must be a mapping of names to values (e.g. {token: {type: env, key: API_TOKEN}})`);
          continue;
        }
        const resolved: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(entries)) resolved[k] = resolveEntry(v, `secrets.${scope}.${k}`, env, problems);
        out.secrets[scope] = resolved;
      }
    }
  }
  const strings = new Set<string>();
  const collect = (v: unknown): void => {
    if (typeof v === 'string' && v.length >= 3) strings.add(v);
    else if (Array.isArray(v)) v.forEach(collect);
    else if (isRecord(v)) Object.values(v).forEach(collect);
  };
  Object.values(out.secrets).forEach(collect);
  out.secretValues = [...strings].sort((a, b) => b.length - a.length);
  return out;
}

function resolveEntry(v: unknown, where: string, env: Env, problems: string[]): unknown {
  if (!isRecord(v) || typeof v.type !== 'string') return v;
  if (v.type === 'env') {
    if (typeof v.key !== 'string' || v.key === '') {
      problems.push(`${where}.key: an env entry needs the name of an environment variable, e.g. {type: env, key: SERVICE_URL}`);
      return undefined;
    }
    const raw = env[v.key];
    if (raw === undefined) {
      if ('default' in v) return v.default;
      problems.push(`${where}: environment variable ${v.key} is not set and the entry has no default; export ${v.key} or add default: <value>`);
      return undefined;
    }
    return convert(raw, v.env_var_type, where, problems);
  }
  problems.push(
    `${where}: value type "${v.type}" is not supported (Chaos Toolkit reads it through an extension); use {type: env, key: NAME} and export the value, e.g. from your vault's CLI`,
  );
  return undefined;
}

/** Chaos Toolkit's `env_var_type`: str (default), int, float, bool, json. */
function convert(raw: string, type: unknown, where: string, problems: string[]): unknown {
  switch (type) {
    case undefined:
    case 'str':
      return raw;
    case 'int':
    case 'float': {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n) || (type === 'int' && !Number.isInteger(n))) {
        problems.push(`${where}: the environment value ${JSON.stringify(raw)} is not ${type === 'int' ? 'an integer' : 'a number'}`);
        return undefined;
      }
      return n;
    }
    case 'bool':
      return ['1', 'true', 'yes', 'on'].includes(raw.trim().toLowerCase());
    case 'json':
      try {
        return JSON.parse(raw) as unknown;
      } catch {
        problems.push(`${where}: the environment value is not JSON`);
        return undefined;
      }
    default:
      problems.push(`${where}.env_var_type: expected str, int, float, bool or json, got ${JSON.stringify(type)}`);
      return undefined;
  }
}

const PLACEHOLDER = /\$\{([^}]+)\}/g;

/**
 * Replaces `${name}` throughout `value` (strings inside lists and mappings too) with the
 * configuration value, else the secret value (any scope) of that name. A name defined nowhere is
 * reported with where it was used, so the message names the real cause rather than the field's
 * own check failing on the unreplaced text.
 */
export function substitute(value: unknown, values: Pick<ResolvedValues, 'configuration' | 'secrets'>, where: string, problems: string[]): unknown {
  const lookup = (name: string): { found: boolean; value?: unknown } => {
    if (Object.prototype.hasOwnProperty.call(values.configuration, name)) return { found: true, value: values.configuration[name] };
    for (const scope of Object.values(values.secrets)) if (Object.prototype.hasOwnProperty.call(scope, name)) return { found: true, value: scope[name] };
    return { found: false };
  };
  const walk = (v: unknown, at: string): unknown => {
    if (typeof v === 'string') {
      const whole = /^\$\{([^}]+)\}$/.exec(v);
      if (whole) {
        const r = lookup((whole[1] ?? '').trim());
        if (r.found) return r.value;
      }
      return v.replace(PLACEHOLDER, (text, name: string) => {
        const r = lookup(name.trim());
        if (!r.found) {
          problems.push(`${at}: ${text} is not defined in the experiment's configuration or secrets; add configuration: {${name.trim()}: ...} (or {type: env, key: ...})`);
          return text;
        }
        return typeof r.value === 'string' ? r.value : JSON.stringify(r.value);
      });
    }
    if (Array.isArray(v)) return v.map((x, i) => walk(x, `${at}[${i}]`));
    if (isRecord(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, `${at}.${k}`)]));
    return v;
  };
  return walk(value, where);
}

/** A deep copy of `value` with every secret value replaced by `***` (inside longer strings too). */
export function redact<T>(value: T, secretValues: readonly string[]): T {
  if (secretValues.length === 0) return value;
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return secretValues.reduce((s, secret) => s.split(secret).join('***'), v);
    if (Array.isArray(v)) return v.map(walk);
    if (isRecord(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value) as T;
}

/** The experiment's `secrets` block with every value shown as `***` (the journal keeps the experiment as written). */
export function maskSecretsBlock(doc: unknown): unknown {
  if (!isRecord(doc) || !isRecord(doc.secrets)) return doc;
  const masked = Object.fromEntries(
    Object.entries(doc.secrets).map(([scope, entries]) => [
      scope,
      isRecord(entries) ? Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, isRecord(v) && v.type === 'env' ? v : '***'])) : entries,
    ]),
  );
  return { ...doc, secrets: masked };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
