/** Where a command writes text. Matches the subset of NodeJS.WriteStream we use. */
export interface TextSink {
  write(chunk: string): unknown;
  /** True when a person is watching (a terminal); drives live progress lines and prompts. */
  readonly isTTY?: boolean;
  /** Terminal width in columns when known. */
  readonly columns?: number;
}

/**
 * Everything a command may learn about the process, passed down from src/cli.ts so that
 * nothing below it touches `process.*` (tests build one with captured output).
 */
export interface Runtime {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  readonly argv0: string;
  readonly stdout: TextSink;
  readonly stderr: TextSink;
  /** Standard input, for confirmations on a TTY. */
  readonly stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
  /** Milliseconds since the epoch. */
  now(): number;
  /** Aborted on SIGINT/SIGTERM: long work must stop, restore what it changed and return. */
  readonly signal: AbortSignal;
}
