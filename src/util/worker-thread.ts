import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { SurgeError, isSurgeError, type ErrorCode } from '../errors.js';

/**
 * Starts a worker thread on the module `entry` (a `.js` URL next to the caller). The built CLI
 * runs the compiled `.js`. Under the test runner, the caller itself is TypeScript source
 * (`callerUrl` ends in `.ts`) and no compiled sibling exists, so the thread loads the `.ts` entry
 * through tsx's loader (a dev dependency, never needed by the build).
 */
export function startModuleWorker(entry: URL, callerUrl: string, options: WorkerOptions = {}): Worker {
  if (!callerUrl.endsWith('.ts')) return new Worker(entry, options);
  const tsEntry = entry.href.replace(/\.js$/, '.ts');
  // tsx's ESM API (index.mjs beside the CommonJS one that require.resolve finds)
  const tsxApi = pathToFileURL(join(dirname(createRequire(fileURLToPath(callerUrl)).resolve('tsx/esm/api')), 'index.mjs')).href;
  const boot = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(tsEntry)}); })`;
  return new Worker(boot, { ...options, eval: true });
}

/** An error as it crosses a thread boundary (structured clone keeps neither class nor extra fields reliably). */
export interface WireError {
  message: string;
  name: string;
  /** SurgeError code, or a Node errno code such as EADDRINUSE. */
  code?: string;
  surge?: boolean;
  hint?: string;
  details?: readonly string[];
}

export function toWireError(err: unknown): WireError {
  if (isSurgeError(err)) return { surge: true, name: err.name, message: err.message, code: err.code, ...(err.hint !== undefined ? { hint: err.hint } : {}), details: err.details };
  const e = err instanceof Error ? err : new Error(String(err));
  const code = (e as NodeJS.ErrnoException).code;
  return { name: e.name, message: e.message, ...(code !== undefined ? { code } : {}) };
}

/** Rebuilds the error on this side: a SurgeError stays one (the CLI explains it), errno codes are kept. */
export function fromWireError(w: WireError): Error {
  if (w.surge === true && w.code !== undefined) {
    return new SurgeError(w.code as ErrorCode, w.message, { ...(w.hint !== undefined ? { hint: w.hint } : {}), ...(w.details !== undefined ? { details: w.details } : {}) });
  }
  const e = new Error(w.message) as NodeJS.ErrnoException;
  e.name = w.name;
  if (w.code !== undefined) e.code = w.code;
  return e;
}
