#!/usr/bin/env node
/* global process, console */
// Runs before `npm test` (the "pretest" script): the integration tests talk to real servers, and
// a newcomer's `npm install && npm test` must work on a fresh Debian machine by itself. Each
// program the tests start is installed from Debian's packages when it is missing, if we can
// (root and apt-get); otherwise we say exactly what to install and stop before the tests fail
// in a confusing way.
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Programs the test suite runs itself, and the Debian package that ships each. */
const NEEDED = [
  { program: 'prometheus', pkg: 'prometheus', usedBy: 'src/forecast/sources/prometheus.int.test.ts' },
  { program: 'promtool', pkg: 'prometheus', usedBy: 'src/forecast/sources/prometheus.int.test.ts (backfill), test/deploy-prometheus.test.ts' },
  { program: 'tmux', pkg: 'tmux', usedBy: 'test/watch-cli.test.ts (the full-screen view as a person sees it)' },
  { program: 'python3', pkg: 'python3', usedBy: 'the Chaos Toolkit python provider and controls tests' },
  { program: 'psql', pkg: 'postgresql-client', usedBy: 'test/support/unleash-server.ts (a database per Unleash server)' },
  { program: 'redis-server', pkg: 'redis-server', usedBy: 'test/support/redis.ts (private Redis servers the cache and rate-limit tests stop and pause)' },
  { program: 'haproxy', pkg: 'haproxy', usedBy: 'src/adapters/haproxy/contract.test.ts, test/deploy-haproxy.test.ts (test/support/haproxy.ts)' },
  { program: 'pkill', pkg: 'procps', usedBy: 'test/failover.int.test.ts (Ctrl+C to a running failover)' },
];

function onPath(program) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, program), constants.X_OK);
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

const missing = NEEDED.filter((n) => !onPath(n.program));
if (missing.length === 0) process.exit(0);

const pkgs = [...new Set(missing.map((m) => m.pkg))];
const what = missing.map((m) => `${m.program} (for ${m.usedBy})`).join(', ');
const canInstall = process.getuid?.() === 0 && onPath('apt-get');
if (!canInstall) {
  console.error(`The tests need programs that are not installed: ${what}.`);
  console.error(`Install them, then run the tests again:  sudo apt-get install -y --no-install-recommends ${pkgs.join(' ')}`);
  process.exit(1);
}

console.error(`Installing Debian package(s) the tests need: ${pkgs.join(' ')} (missing: ${missing.map((m) => m.program).join(', ')})`);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
const run = (args) => spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env }).status === 0;
// A fresh machine has no package lists yet; an install that fails on stale lists is retried after an update.
if (!run(['install', '-y', '-qq', '--no-install-recommends', ...pkgs]) && !(run(['update', '-qq']) && run(['install', '-y', '-qq', '--no-install-recommends', ...pkgs]))) {
  console.error(`apt-get could not install ${pkgs.join(' ')}. Install it by hand (apt-get install -y --no-install-recommends ${pkgs.join(' ')}) and run the tests again.`);
  process.exit(1);
}
const still = missing.filter((m) => !onPath(m.program));
if (still.length > 0) {
  console.error(`Installed ${pkgs.join(' ')}, but ${still.map((m) => m.program).join(', ')} is still not on PATH (${process.env.PATH}).`);
  process.exit(1);
}
