import { spawn } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { homedir } from 'node:os';

/**
 * Chaos Toolkit's `python` and `process` providers, run for real on this machine: a Python
 * function is called in a Python interpreter (`python3`, or the one given) as Chaos Toolkit calls
 * it, `module.func(**arguments)` (plus `configuration` and `secrets` when the function takes
 * them), and its return value is the activity's output; a process is started with its arguments
 * and its `{status, stdout, stderr}` is the output.
 */
export interface LocalRunner {
  /** Checks that each module imports and its function accepts the arguments, as `chaos validate` does; one answer per item, in order. */
  checkPython(items: readonly PythonCall[], signal?: AbortSignal): Promise<PythonCheck[]>;
  /** Calls one function; rejects with the Python exception's one-line description when it raises. */
  callPython(call: PythonCall, signal: AbortSignal): Promise<unknown>;
  /** Runs a program; rejects when it cannot start or outlives `timeoutMs`. */
  runProcess(p: ProcessCall, signal: AbortSignal): Promise<{ status: number; stdout: string; stderr: string }>;
  /** The absolute path of `path` as the process provider would run it, or undefined when it is not an executable. */
  which(path: string): Promise<string | undefined>;
  /** Imports each control module, as `chaos validate` does; one answer per module, in order, naming the control hooks it defines. */
  checkControlModules(modules: readonly string[], signal?: AbortSignal): Promise<ModuleCheck[]>;
  /** Starts one long-lived interpreter that imports control modules once and calls their hooks, so they keep state for the whole drill. */
  startControlHost(): ControlHost;
}

/** What a control hook call came to. */
export type ControlAnswer = { ok: true; called: boolean } | { ok: false; error: string };

/** The answer of {@link LocalRunner.checkControlModules} for one module. */
export type ModuleCheck = { ok: true; hooks: string[] } | { ok: false; kind: 'interpreter' | 'import'; message: string };

/**
 * One Python process that runs control hooks for a drill. Calls are answered one at a time, in the
 * order made. It ignores SIGINT (Ctrl-C reaches the whole process group; the drill decides when its
 * controls end) and exits when its stdin closes, so it never outlives surgectl.
 */
export interface ControlHost {
  /**
   * Calls `module.func(**kwargs)` when the module defines it (`called` says whether it does). As
   * chaoslib does, `special` arguments (configuration, secrets, state, experiment, ...) go only to a
   * function that names them; `kwargs` (the control's arguments, the context) to one that names
   * them or takes `**kwargs`. Never rejects.
   */
  call(module: string, func: string, args: { kwargs: Record<string, unknown>; special: Record<string, unknown> }, timeoutMs: number): Promise<ControlAnswer>;
  /** Imports `module` and lists the control hooks it defines. */
  hooks(module: string, timeoutMs: number): Promise<{ ok: true; hooks: string[] } | { ok: false; error: string }>;
  /** Closes stdin and waits up to `graceMs` for the process to exit, then kills it. */
  stop(graceMs: number): Promise<void>;
}

/** One call of a Python function. */
export interface PythonCall {
  module: string;
  func: string;
  arguments: Record<string, unknown>;
  /** Passed as `configuration=` when the function has that parameter. */
  configuration?: Record<string, unknown>;
  /** Passed as `secrets=` when the provider names secret scopes and the function has that parameter. */
  secrets?: Record<string, unknown> | undefined;
}

/** The answer of {@link LocalRunner.checkPython} for one call. */
export type PythonCheck = { ok: true } | { ok: false; kind: 'interpreter' | 'import' | 'func' | 'arguments'; message: string };

/** One run of the process provider. */
export interface ProcessCall {
  path: string;
  /** A string runs through the shell after the program (as Chaos Toolkit does); a list or mapping is passed as arguments. */
  arguments: string | readonly unknown[] | Record<string, unknown> | undefined;
  /** ms; undefined = the activity's own timeout. */
  timeoutMs?: number | undefined;
}

export interface LocalRunnerOptions {
  /** Interpreter for python activities. Default `python3`. */
  python?: string | undefined;
  /** Environment of the processes started (PATH, PYTHONPATH, ...). */
  env: Readonly<Record<string, string | undefined>>;
  /** Working directory of the processes started. */
  cwd: string;
}

/** Upper bound on captured output, per stream: a chatty process must not exhaust memory. */
const MAX_OUTPUT = 4 * 1024 * 1024;

/** The control hooks chaoslib calls, as a Python tuple for both scripts below. */
const PY_HOOKS = `HOOKS = ('configure_control', 'cleanup_control', 'before_experiment_control', 'after_experiment_control',
         'before_hypothesis_control', 'after_hypothesis_control', 'before_method_control', 'after_method_control',
         'before_rollback_control', 'after_rollback_control', 'before_activity_control', 'after_activity_control')`;

// Runs in the interpreter. Output of the function itself goes to stderr so stdout carries only the answer.
const BRIDGE = `
import sys, json, importlib, inspect, traceback, contextlib
req = json.load(sys.stdin)
out = sys.stdout
def load(item):
    mod = importlib.import_module(item['module'])
    fn = getattr(mod, item['func'], None)
    if fn is None or not callable(fn):
        raise AttributeError("module '%s' has no function '%s'" % (item['module'], item['func']))
    return fn
def kwargs(fn, item, check):
    args = dict(item.get('arguments') or {})
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return args
    if 'configuration' in params:
        args['configuration'] = None if check else dict(item.get('configuration') or {})
    if 'secrets' in params and item.get('secrets') is not None:
        args['secrets'] = None if check else item['secrets']
    return args
def check(item):
    try:
        fn = load(item)
    except ImportError as e:
        return {'ok': False, 'kind': 'import', 'message': '%s: %s' % (type(e).__name__, e)}
    except AttributeError as e:
        return {'ok': False, 'kind': 'func', 'message': str(e)}
    except Exception as e:
        return {'ok': False, 'kind': 'import', 'message': traceback.format_exception_only(type(e), e)[-1].strip()}
    try:
        inspect.signature(fn).bind(**kwargs(fn, item, True))
    except TypeError as e:
        return {'ok': False, 'kind': 'arguments', 'message': str(e)}
    except ValueError:
        pass
    return {'ok': True}
${PY_HOOKS}
def check_module(name):
    try:
        mod = importlib.import_module(name)
    except Exception as e:
        return {'ok': False, 'kind': 'import', 'message': traceback.format_exception_only(type(e), e)[-1].strip()}
    return {'ok': True, 'hooks': [h for h in HOOKS if callable(getattr(mod, h, None))]}
if req['mode'] == 'check':
    json.dump([check(i) for i in req['items']], out)
elif req['mode'] == 'modules':
    with contextlib.redirect_stdout(sys.stderr):
        res = [check_module(m) for m in req['modules']]
    json.dump(res, out)
else:
    with contextlib.redirect_stdout(sys.stderr):
        try:
            fn = load(req['call'])
            res = {'ok': True, 'value': fn(**kwargs(fn, req['call'], False))}
        except Exception as e:
            res = {'ok': False, 'message': traceback.format_exception_only(type(e), e)[-1].strip()}
    json.dump(res, out, default=repr)
`;

// The control host: JSON lines {id, module, func, kwargs, special} in, {id, ok, called | error} out;
// {id, module} alone imports the module and answers {id, ok, hooks | error}. Output of the hooks goes to stderr.
const CONTROL_HOST = `
import sys, json, importlib, inspect, traceback, contextlib, signal
signal.signal(signal.SIGINT, signal.SIG_IGN)
out = sys.stdout
${PY_HOOKS}
def declared(fn, kwargs, special):
    # As chaoslib: configuration, secrets, state, experiment, ... only to functions that name them;
    # the provider's arguments and the context to those that name them or take **kwargs.
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return dict(kwargs)
    args = {k: v for k, v in special.items() if k in params}
    if any(p.kind == inspect.Parameter.VAR_KEYWORD for p in params.values()):
        args.update(kwargs)
    else:
        args.update({k: v for k, v in kwargs.items() if k in params})
    return args
while True:
    line = sys.stdin.readline()
    if not line:
        break
    req = json.loads(line)
    with contextlib.redirect_stdout(sys.stderr):
        try:
            if req.get('func') is None:
                mod = importlib.import_module(req['module'])
                hooks = [h for h in HOOKS if callable(getattr(mod, h, None))]
                out.write(json.dumps({'id': req['id'], 'ok': True, 'hooks': hooks}) + '\\n')
                out.flush()
                continue
            fn = getattr(importlib.import_module(req['module']), req['func'], None)
            called = callable(fn)
            if called:
                fn(**declared(fn, req.get('kwargs') or {}, req.get('special') or {}))
            res = {'id': req['id'], 'ok': True, 'called': called}
        except BaseException as e:
            res = {'id': req['id'], 'ok': False, 'error': traceback.format_exception_only(type(e), e)[-1].strip()}
    out.write(json.dumps(res) + '\\n')
    out.flush()
`;

export function createLocalRunner(o: LocalRunnerOptions): LocalRunner {
  const python = o.python ?? 'python3';
  const env = Object.fromEntries(Object.entries(o.env).filter((e): e is [string, string] => e[1] !== undefined));

  const run = (cmd: string, args: readonly string[], opts: { input?: string; shell?: boolean; signal?: AbortSignal | undefined; timeoutMs?: number | undefined }) =>
    new Promise<{ status: number; stdout: string; stderr: string; timedOut: boolean }>((done, fail) => {
      const child = spawn(cmd, args, { cwd: o.cwd, env, shell: opts.shell ?? false, stdio: ['pipe', 'pipe', 'pipe'], ...(opts.signal ? { signal: opts.signal } : {}) });
      let stdout = '';
      let stderr = '';
      let timedOut = false;
      const timer = opts.timeoutMs !== undefined ? setTimeout(() => ((timedOut = true), child.kill('SIGKILL')), opts.timeoutMs) : undefined;
      child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout = (stdout + c).slice(0, MAX_OUTPUT)));
      child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr = (stderr + c).slice(0, MAX_OUTPUT)));
      child.on('error', (err) => {
        clearTimeout(timer);
        fail(err);
      });
      child.on('close', (code, sig) => {
        clearTimeout(timer);
        done({ status: code ?? (sig ? 128 : 1), stdout, stderr, timedOut });
      });
      child.stdin.on('error', () => undefined);
      child.stdin.end(opts.input ?? '');
    });

  const bridge = async (req: unknown, signal?: AbortSignal): Promise<unknown> => {
    let r: Awaited<ReturnType<typeof run>>;
    try {
      r = await run(python, ['-c', BRIDGE], { input: JSON.stringify(req), signal });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'ENOENT') throw new InterpreterMissing(`the Python interpreter "${python}" was not found; install Python 3 or pass --python PATH`);
      throw err;
    }
    try {
      return JSON.parse(r.stdout) as unknown;
    } catch {
      throw new InterpreterMissing(`"${python}" did not answer as a Python 3 interpreter (exit ${r.status}): ${r.stderr.trim().split('\n').slice(-1)[0] ?? ''}`);
    }
  };

  const which = async (path: string): Promise<string | undefined> => {
    const p = path.startsWith('~/') ? join(homedir(), path.slice(2)) : path;
    const candidates = p.includes('/') ? [isAbsolute(p) ? p : resolve(o.cwd, p)] : (env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, p));
    for (const c of candidates) {
      try {
        await access(c, constants.X_OK);
        return c;
      } catch {
        // next
      }
    }
    return undefined;
  };

  return {
    async checkPython(items, signal) {
      if (items.length === 0) return [];
      try {
        return (await bridge({ mode: 'check', items }, signal)) as PythonCheck[];
      } catch (err) {
        if (!(err instanceof InterpreterMissing)) throw err;
        return items.map(() => ({ ok: false as const, kind: 'interpreter' as const, message: err.message }));
      }
    },
    async callPython(call, signal) {
      const r = (await bridge({ mode: 'call', call }, signal)) as { ok: boolean; value?: unknown; message?: string };
      if (!r.ok) throw new Error(r.message ?? 'the Python function raised an exception');
      return r.value ?? null;
    },
    async runProcess(p, signal) {
      const path = await which(p.path);
      if (!path) throw new Error(`path '${p.path}' cannot be found or is not executable`);
      const a = p.arguments;
      const r =
        typeof a === 'string'
          ? await run(`${shellQuote(path)} ${a}`, [], { shell: true, signal, timeoutMs: p.timeoutMs })
          : await run(path, processArgs(a), { signal, timeoutMs: p.timeoutMs });
      if (r.timedOut) throw new Error(`process activity took too long to complete (timeout ${(p.timeoutMs ?? 0) / 1000}s)`);
      return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    },
    which,
    async checkControlModules(modules, signal) {
      if (modules.length === 0) return [];
      try {
        return (await bridge({ mode: 'modules', modules }, signal)) as ModuleCheck[];
      } catch (err) {
        if (!(err instanceof InterpreterMissing)) throw err;
        return modules.map(() => ({ ok: false as const, kind: 'interpreter' as const, message: err.message }));
      }
    },
    startControlHost: () => startControlHost(python, env, o.cwd),
  };
}

function startControlHost(python: string, env: Record<string, string>, cwd: string): ControlHost {
  const child = spawn(python, ['-c', CONTROL_HOST], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  let exited: string | undefined;
  let nextId = 1;
  type Answer = { id: number; ok: boolean; called?: boolean; hooks?: string[]; error?: string };
  const waiting = new Map<number, (r: Answer | { ok: false; error: string }) => void>();
  const fail = (why: string) => {
    exited ??= why;
    for (const [id, done] of waiting) {
      waiting.delete(id);
      done({ ok: false, error: why });
    }
  };
  const gone = new Promise<void>((resolveGone) => {
    child.on('error', (err) => {
      fail((err as NodeJS.ErrnoException).code === 'ENOENT' ? `the Python interpreter "${python}" was not found` : `the control host could not start: ${err.message}`);
      resolveGone();
    });
    child.on('close', (code, sig) => {
      const last = stderr.trim().split('\n').slice(-1)[0];
      fail(`the control host exited (${sig ?? `exit ${code}`})${last ? `: ${last}` : ''}`);
      resolveGone();
    });
  });
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr = (stderr + c).slice(-4096)));
  let buffered = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => {
    buffered += c;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      try {
        const r = JSON.parse(line) as Answer;
        const done = waiting.get(r.id);
        waiting.delete(r.id);
        done?.(r);
      } catch {
        // Not an answer: nothing waits for it.
      }
    }
  });
  child.stdin.on('error', () => undefined);
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  const request = (req: Record<string, unknown>, what: string, timeoutMs: number): Promise<Answer | { ok: false; error: string }> => {
    if (exited) return Promise.resolve({ ok: false, error: exited });
    const id = nextId++;
    return new Promise((done) => {
      // A hook that hangs blocks every later one (calls are answered in order), so the host is stopped.
      const timer = setTimeout(() => {
        waiting.delete(id);
        fail(`the control host was stopped after ${what} took longer than ${timeoutMs / 1000}s`);
        kill();
        done({ ok: false, error: `timed out after ${timeoutMs / 1000}s` });
      }, timeoutMs);
      waiting.set(id, (r) => {
        clearTimeout(timer);
        done(r);
      });
      child.stdin.write(`${JSON.stringify({ id, ...req }, (_k, v: unknown) => (v === undefined ? null : v))}\n`);
    });
  };
  return {
    async call(module, func, args, timeoutMs) {
      const r = await request({ module, func, ...args }, `${module}.${func}`, timeoutMs);
      if (!r.ok) return { ok: false, error: r.error ?? 'the control hook raised an exception' };
      return { ok: true, called: 'called' in r && r.called === true };
    },
    async hooks(module, timeoutMs) {
      const r = await request({ module }, `importing ${module}`, timeoutMs);
      if (!r.ok) return { ok: false, error: r.error ?? `${module} could not be imported` };
      return { ok: true, hooks: 'hooks' in r ? (r.hooks ?? []) : [] };
    },
    async stop(graceMs) {
      child.stdin.end();
      const timer = setTimeout(kill, graceMs);
      await gone;
      clearTimeout(timer);
    },
  };
}

/** Chaos Toolkit's argument list: a mapping becomes `key value` pairs; None and "" are dropped; the rest is text. */
export function processArgs(a: readonly unknown[] | Record<string, unknown> | undefined): string[] {
  if (a === undefined) return [];
  const list = Array.isArray(a) ? a : Object.entries(a).flat();
  return list.filter((x) => x !== null && x !== undefined && x !== '').map((x) => (typeof x === 'string' ? x : typeof x === 'object' ? JSON.stringify(x) : String(x)));
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The interpreter could not be run: every python activity fails with this message. */
class InterpreterMissing extends Error {}
