import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: { dir: string; version: string } | undefined;

/** The surgectl package.json nearest to this file (src/ from source, dist/src/ when built): its folder and version. */
function findPackage(): { dir: string; version: string } {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'surgectl') return (cached = { dir, version: pkg.version ?? '0.0.0-unknown' });
    } catch {
      // not here; look one folder up
    }
    dir = dirname(dir);
  }
  throw new Error('the surgectl package folder was not found above ' + fileURLToPath(import.meta.url));
}

/** The version of the installed surgectl. */
export function readVersion(): string {
  try {
    return findPackage().version;
  } catch {
    return '0.0.0-unknown';
  }
}

/** A path inside the installed package, e.g. `shippedPath('scenarios', 'runbooks')` for the shipped data files. */
export function shippedPath(...parts: string[]): string {
  return join(findPackage().dir, ...parts);
}
