import type { z } from 'zod';

/**
 * Reads a zod schema's definition (zod 4 keeps it on `_zod.def`) to say in words what a value
 * must be: "a whole number 0..65535", "a positive number or 'off'", "one of info, debug". Used
 * for config, env and flag errors so each names what was expected instead of zod's generic
 * "Invalid input". Returns undefined for a shape it cannot put in words (the caller then falls
 * back to zod's own message).
 */

interface Def {
  type: string;
  innerType?: unknown;
  checks?: { _zod: { def: CheckDef } }[];
  options?: unknown[];
  values?: unknown[];
  entries?: Record<string, unknown>;
}
interface CheckDef {
  check: string;
  value?: number;
  inclusive?: boolean;
  minimum?: number;
  format?: string;
}

const WRAPPERS = new Set(['default', 'optional', 'nullable', 'prefault', 'readonly', 'catch', 'nonoptional']);

function defOf(schema: unknown): Def | undefined {
  return (schema as { _zod?: { def?: Def } } | undefined)?._zod?.def;
}

/** The schema under .default()/.optional()/... wrappers. */
export function unwrapSchema(schema: z.ZodType): z.ZodType {
  let s: unknown = schema;
  for (let i = 0; i < 10; i++) {
    const def = defOf(s);
    if (def === undefined || !WRAPPERS.has(def.type) || def.innerType === undefined) break;
    s = def.innerType;
  }
  return s as z.ZodType;
}

/** The kind of value a config key holds, for converting text (env variables) before validation. */
export type ValueKind = 'number' | 'boolean' | 'string' | 'other';

/** The kinds a key accepts: one for a plain key, several for a union such as `number | 'off'`. */
export function valueKinds(schema: z.ZodType): { kinds: Set<ValueKind>; literals: Set<string> } {
  const kinds = new Set<ValueKind>();
  const literals = new Set<string>();
  const visit = (s: unknown) => {
    const inner = unwrapSchema(s as z.ZodType);
    const def = defOf(inner);
    if (def === undefined) return void kinds.add('other');
    switch (def.type) {
      case 'number':
      case 'int':
        kinds.add('number');
        break;
      case 'boolean':
        kinds.add('boolean');
        break;
      case 'string':
        kinds.add('string');
        break;
      case 'enum':
        for (const v of Object.values(def.entries ?? {})) literals.add(String(v));
        break;
      case 'literal':
        for (const v of def.values ?? []) literals.add(String(v));
        break;
      case 'union':
        for (const o of def.options ?? []) visit(o);
        break;
      default:
        kinds.add('other');
    }
  };
  visit(schema);
  return { kinds, literals };
}

const quote = (s: string) => `'${s}'`;

function describeNumber(def: Def): string {
  let int = def.type === 'int';
  let min: { value: number; inclusive: boolean } | undefined;
  let max: { value: number; inclusive: boolean } | undefined;
  for (const c of def.checks ?? []) {
    const d = c._zod.def;
    if (d.check === 'number_format' && d.format !== undefined && /int/.test(d.format)) int = true;
    else if (d.check === 'greater_than' && d.value !== undefined) min = { value: d.value, inclusive: d.inclusive === true };
    else if (d.check === 'less_than' && d.value !== undefined) max = { value: d.value, inclusive: d.inclusive === true };
  }
  const noun = int ? 'a whole number' : 'a number';
  if (min !== undefined && max !== undefined && min.inclusive && max.inclusive) return `${noun} ${min.value}..${max.value}`;
  if (min !== undefined && min.value === 0 && !min.inclusive && max === undefined) return int ? 'a whole number > 0' : 'a positive number';
  const parts: string[] = [];
  if (min !== undefined) parts.push(`${min.inclusive ? '>=' : '>'} ${min.value}`);
  if (max !== undefined) parts.push(`${max.inclusive ? '<=' : '<'} ${max.value}`);
  return parts.length === 0 ? noun : `${noun} ${parts.join(' and ')}`;
}

function describeString(def: Def): string | undefined {
  let min = 0;
  for (const c of def.checks ?? []) {
    const d = c._zod.def;
    if (d.check === 'min_length' && d.minimum !== undefined) min = d.minimum;
    else if (d.check === 'string_format') {
      if (d.format === 'url') return 'a URL';
      return undefined; // a pattern: only its own message (or a description) says what it wants
    }
  }
  if (min === 1) return 'a non-empty string';
  if (min > 1) return `a string of at least ${min} characters`;
  return 'a string';
}

/** What a value of `schema` must be, in words; undefined when it cannot say. */
export function describeExpected(schema: z.ZodType): string | undefined {
  const description = (schema as { description?: string }).description;
  if (description) return description;
  const inner = unwrapSchema(schema);
  const innerDescription = (inner as { description?: string }).description;
  if (innerDescription) return innerDescription;
  const def = defOf(inner);
  if (def === undefined) return undefined;
  switch (def.type) {
    case 'number':
    case 'int':
      return describeNumber(def);
    case 'string':
      return describeString(def);
    case 'boolean':
      return 'true or false';
    case 'enum':
      return `one of ${Object.values(def.entries ?? {}).map(String).join(', ')}`;
    case 'literal':
      return (def.values ?? []).map((v) => (typeof v === 'string' ? quote(v) : String(v))).join(' or ');
    case 'union': {
      const parts = (def.options ?? []).map((o) => describeExpected(o as z.ZodType));
      if (parts.some((p) => p === undefined)) return undefined;
      // numbers first reads better: "a positive number or 'off'"
      const sorted = [...(parts as string[])].sort((a, b) => Number(a.startsWith("'")) - Number(b.startsWith("'")));
      return sorted.join(' or ');
    }
    default:
      return undefined;
  }
}

/** A value as a user wrote it: strings quoted, the rest as JSON, cut short when long. */
export function showValue(v: unknown): string {
  if (typeof v === 'string') return quote(v.length > 60 ? `${v.slice(0, 57)}...` : v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  if (v === undefined) return 'nothing';
  let s: string;
  try {
    s = JSON.stringify(v);
  } catch {
    s = String(v);
  }
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
