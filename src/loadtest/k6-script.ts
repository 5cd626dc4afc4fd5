import type * as Acorn from 'acorn';
import { SurgeError } from '../errors.js';
import type { MetricType } from '../probes/index.js';

/**
 * Reads the `options` of a k6 script without running it: acorn (the JavaScript parser of the
 * field, loaded only when a script is given) finds `export const options = {...}` (or
 * `let`/`var`, or `export { options }` of a top-level declaration) and evaluates only literal
 * expressions. What a script computes is refused with a message naming the expression and its
 * line, rather than guessed.
 *
 * Read: objects, arrays, strings, numbers, booleans, null, template strings without substitutions,
 * `-n`, top-level `const`s of such values, `__ENV.X` / `__ENV['X']`, `a || b`, `a ?? b`, and
 * `parseInt(x)`, `parseFloat(x)`, `Number(x)` of those (so `parseInt(__ENV.VUS || '10')` and
 * `Number(__ENV.RATE) || 50` read the environment with a default).
 */

/** What a k6 script declares that surgectl uses. */
export interface K6ScriptOptions {
  /** The evaluated `options` object (`{}` when the script exports none: k6 then runs one iteration). */
  readonly options: Record<string, unknown>;
  /** Custom metrics declared with `new Trend|Rate|Counter|Gauge('name')`, by name. */
  readonly metrics: Readonly<Record<string, MetricType>>;
  /** Names of the script's exported functions (`exec` must name one; `default` for the default export). */
  readonly exports: readonly string[];
}

const METRIC_CLASSES: Readonly<Record<string, MetricType>> = { Trend: 'trend', Rate: 'rate', Counter: 'counter', Gauge: 'gauge' };

/** A string literal or a template without substitutions: its text; else undefined. */
function staticText(n: Acorn.Node | null | undefined): string | undefined {
  if (!n) return undefined;
  if (n.type === 'Literal' && typeof (n as Acorn.Literal).value === 'string') return (n as Acorn.Literal).value as string;
  if (n.type === 'TemplateLiteral') {
    const t = n as Acorn.TemplateLiteral;
    if (t.expressions.length === 0) return t.quasis[0]?.value.cooked ?? '';
  }
  return undefined;
}

/** Every node below `root`, depth first (a few lines instead of another dependency for a walker). */
function* nodesOf(root: Acorn.Node): Generator<Acorn.Node> {
  yield root;
  for (const value of Object.values(root)) {
    const children = Array.isArray(value) ? value : [value];
    for (const c of children) {
      if (c && typeof c === 'object' && typeof (c as { type?: unknown }).type === 'string') yield* nodesOf(c as Acorn.Node);
    }
  }
}

/**
 * Parses a k6 script and evaluates its options. `env` stands for k6's `__ENV` (k6 passes the
 * system environment plus `-e` values). Throws SRG_LOADTEST_SCENARIO for a syntax error or an
 * options expression it cannot read without running the script.
 */
export async function readK6Script(text: string, file: string, env: Readonly<Record<string, string | undefined>>): Promise<K6ScriptOptions> {
  const { parse } = await import('acorn');
  let program: Acorn.Program;
  try {
    program = parse(text, { ecmaVersion: 'latest', sourceType: 'module', locations: true });
  } catch (cause) {
    const e = cause as SyntaxError & { loc?: { line: number } };
    throw new SurgeError('SRG_LOADTEST_SCENARIO', `${file}:${e.loc?.line ?? 0}: not valid JavaScript: ${e.message.replace(/\s*\(\d+:\d+\)$/, '')}`, { cause });
  }

  const consts = new Map<string, Acorn.Expression>();
  const exported = new Set<string>();
  let optionsName: string | undefined;
  const declare = (decl: Acorn.VariableDeclaration, isExported: boolean) => {
    for (const d of decl.declarations) {
      if (d.id.type !== 'Identifier') continue;
      if (d.init) consts.set(d.id.name, d.init);
      if (isExported) {
        exported.add(d.id.name);
        if (d.id.name === 'options') optionsName = 'options';
      }
    }
  };
  for (const st of program.body) {
    if (st.type === 'VariableDeclaration') declare(st, false);
    else if (st.type === 'ExportNamedDeclaration') {
      if (st.declaration?.type === 'VariableDeclaration') declare(st.declaration, true);
      else if (st.declaration?.type === 'FunctionDeclaration') exported.add(st.declaration.id.name);
      for (const sp of st.specifiers) {
        const name = sp.exported.type === 'Identifier' ? sp.exported.name : String(sp.exported.value);
        exported.add(name);
        if (name === 'options' && sp.local.type === 'Identifier') optionsName = sp.local.name;
      }
    } else if (st.type === 'ExportDefaultDeclaration') exported.add('default');
  }

  const metrics: Record<string, MetricType> = {};
  for (const n of nodesOf(program)) {
    if (n.type !== 'NewExpression') continue;
    const call = n as Acorn.NewExpression;
    const cls = call.callee.type === 'Identifier' ? METRIC_CLASSES[call.callee.name] : undefined;
    const name = staticText(call.arguments[0]);
    if (cls && name !== undefined) metrics[name] = cls;
  }

  const evaluator = new OptionsEvaluator(text, file, consts, env);
  const init = optionsName === undefined ? undefined : consts.get(optionsName);
  if (optionsName !== undefined && init === undefined) {
    throw new SurgeError('SRG_LOADTEST_SCENARIO', `${file}: "options" is exported but not declared with a value at the top level`);
  }
  const value = init === undefined ? {} : evaluator.evaluate(init, 'options');
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new SurgeError('SRG_LOADTEST_SCENARIO', `${file}: options must be an object, got ${JSON.stringify(value)}`);
  }
  return { options: value as Record<string, unknown>, metrics, exports: [...exported] };
}

/** A JS value of the literal subset; `undefined` stands for an unset `__ENV` key. */
type Value = string | number | boolean | null | undefined | Value[] | { [k: string]: Value };

class OptionsEvaluator {
  private readonly resolving = new Set<string>();

  constructor(
    private readonly source: string,
    private readonly file: string,
    private readonly consts: ReadonlyMap<string, Acorn.Expression>,
    private readonly env: Readonly<Record<string, string | undefined>>,
  ) {}

  evaluate(node: Acorn.Expression | Acorn.SpreadElement, path: string): Value {
    const text = staticText(node);
    if (text !== undefined) return text;
    switch (node.type) {
      case 'Literal': {
        const v = node.value;
        if (typeof v === 'number' || typeof v === 'boolean' || v === null) return v;
        return this.refuse(node, path);
      }
      case 'Identifier': {
        if (node.name === 'undefined') return undefined;
        const init = this.consts.get(node.name);
        if (init !== undefined && !this.resolving.has(node.name)) {
          this.resolving.add(node.name);
          try {
            return this.evaluate(init, path);
          } finally {
            this.resolving.delete(node.name);
          }
        }
        return this.refuse(node, path);
      }
      case 'UnaryExpression': {
        const v = node.operator === '-' ? this.evaluate(node.argument, path) : undefined;
        if (typeof v === 'number') return -v;
        return this.refuse(node, path);
      }
      case 'ArrayExpression':
        return node.elements.map((e, i) => (e === null || e.type === 'SpreadElement' ? this.refuse(e ?? node, `${path}[${i}]`) : this.evaluate(e, `${path}[${i}]`)));
      case 'ObjectExpression': {
        const out: { [k: string]: Value } = {};
        for (const p of node.properties) {
          if (p.type !== 'Property' || p.kind !== 'init' || p.method) return this.refuse(p, path);
          const key = this.propertyName(p, path);
          const v = this.evaluate(p.value as Acorn.Expression, `${path}.${key}`);
          // An unset __ENV key without a default leaves the option unset, as in k6.
          if (v !== undefined) out[key] = v;
        }
        return out;
      }
      case 'MemberExpression': {
        const envKey = this.envRead(node);
        if (envKey !== undefined) return this.env[envKey];
        return this.refuse(node, path);
      }
      case 'LogicalExpression': {
        if (node.operator === '&&') return this.refuse(node, path);
        const left = this.evaluate(node.left, path);
        const useRight = node.operator === '||' ? !left || (typeof left === 'number' && Number.isNaN(left)) : left === null || left === undefined;
        return useRight ? this.evaluate(node.right, path) : left;
      }
      case 'CallExpression': {
        const fn = node.callee.type === 'Identifier' ? node.callee.name : undefined;
        if (fn === undefined || !['parseInt', 'parseFloat', 'Number'].includes(fn) || node.arguments.length < 1 || node.arguments.length > 2) return this.refuse(node, path);
        const arg = this.evaluate(node.arguments[0]!, path);
        const radix = node.arguments[1] ? this.evaluate(node.arguments[1], path) : undefined;
        if ((radix !== undefined && typeof radix !== 'number') || !(arg === undefined || typeof arg === 'string' || typeof arg === 'number')) return this.refuse(node, path);
        if (arg === undefined) return Number.NaN;
        if (fn === 'parseInt') return Number.parseInt(String(arg), radix);
        if (fn === 'parseFloat') return Number.parseFloat(String(arg));
        return Number(arg);
      }
      default:
        return this.refuse(node, path);
    }
  }

  /** `__ENV.X` or `__ENV['X']`: the key, else undefined. */
  private envRead(node: Acorn.MemberExpression): string | undefined {
    if (node.object.type !== 'Identifier' || node.object.name !== '__ENV') return undefined;
    if (!node.computed && node.property.type === 'Identifier') return node.property.name;
    return node.computed ? staticText(node.property) : undefined;
  }

  private propertyName(p: Acorn.Property, path: string): string {
    if (!p.computed && p.key.type === 'Identifier') return p.key.name;
    if (p.key.type === 'Literal' && (typeof p.key.value === 'string' || typeof p.key.value === 'number')) return String(p.key.value);
    const text = staticText(p.key);
    return text ?? this.refuse(p.key, path);
  }

  private refuse(node: Acorn.Node, path: string): never {
    const line = node.loc?.start.line ?? 0;
    const text = this.source.slice(node.start, node.end).replace(/\s+/g, ' ');
    throw new SurgeError('SRG_LOADTEST_SCENARIO', `${this.file}:${line}: cannot read ${path} without running the script: \`${text.length > 80 ? `${text.slice(0, 77)}...` : text}\``, {
      hint: "surgectl reads options as data: literals, top-level consts of literals, and __ENV reads with a default (__ENV.RATE || '50', parseInt(__ENV.VUS || '10')). Compute the value into an __ENV variable instead.",
    });
  }
}
