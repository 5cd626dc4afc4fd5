import { main } from '../../src/cli.js';
import type { Runtime } from '../../src/runtime.js';

/** Result of running the CLI in-process. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `surgectl <argv>` in-process with captured output, a fixed cwd and clock, and NO_COLOR. */
export async function runCli(argv: readonly string[], opts: { cwd: string; now?: number; env?: Record<string, string> }): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const runtime: Runtime = {
    env: { NO_COLOR: '1', ...opts.env },
    cwd: opts.cwd,
    argv0: 'surgectl',
    stdout: { write: (s: string) => (stdout += s), isTTY: false, columns: 100 },
    stderr: { write: (s: string) => (stderr += s), isTTY: false },
    now: () => opts.now ?? Date.UTC(2026, 10, 20),
    signal: new AbortController().signal,
  };
  const code = await main(argv, runtime);
  return { code, stdout, stderr };
}
