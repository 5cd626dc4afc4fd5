#!/usr/bin/env node
const argv = process.argv.slice(2);

// `surgectl --version` is what scripts and wrappers call most: answer it without loading the
// command framework (ESM start-up of commander and the command table costs more than Node itself).
if (argv.length === 1 && argv[0] === '--version') {
  const { readVersion } = await import('../src/version.js');
  process.stdout.write(readVersion() + '\n');
} else {
  const [{ processRuntime }, { main }] = await Promise.all([import('../src/process-runtime.js'), import('../src/cli.js')]);
  process.exitCode = await main(argv, processRuntime());
}
