import type { Runtime } from './runtime.js';

/**
 * The Runtime of a real process: env, cwd, stdio and a signal aborted by SIGINT/SIGTERM.
 * A second signal exits at once with 130, for an operator who really means it.
 */
export function processRuntime(): Runtime {
  const controller = new AbortController();
  let signalled = false;
  const onSignal = (name: NodeJS.Signals) => {
    if (signalled) {
      process.stderr.write(`\nreceived ${name} again: exiting now\n`);
      process.exit(130);
    }
    signalled = true;
    controller.abort(new Error(`received ${name}`));
  };
  // The AWS SDK warns on every run under Node 20 that its releases after January 2027 will need
  // Node 22. surgectl pins its SDK version, so the warning says nothing to an operator; a user who
  // wants it back sets the variable to anything else.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // `surgectl ... | head` closes the pipe early: that is the reader's choice, not an error.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw err;
    });
  }
  return {
    env: process.env,
    cwd: process.cwd(),
    argv0: 'surgectl',
    stdout: process.stdout,
    stderr: process.stderr,
    // A getter: touching process.stdin creates a stream, which costs start-up time and can hold the loop open.
    get stdin() {
      return process.stdin;
    },
    now: () => Date.now(),
    signal: controller.signal,
  };
}
