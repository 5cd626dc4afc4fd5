import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, SurgeError } from './errors.js';
import { ExitCode } from './exit-codes.js';

const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

/** Rows `| SRG_X | 10 | ... |` of the CLI table in docs/errors.md. */
function documentedCodes(): Map<string, number> {
  const rows = new Map<string, number>();
  for (const m of doc.matchAll(/^\|\s*(SRG_[A-Z0-9_]+)\s*\|\s*(\d+)\s*\|/gm)) rows.set(m[1]!, Number(m[2]));
  return rows;
}

describe('error table', () => {
  it('documents every code with its exit status, and nothing else', () => {
    const documented = documentedCodes();
    const inCode = new Map(Object.entries(ERROR_CODES).map(([k, v]) => [k, v.exitCode as number]));
    expect([...documented.keys()].sort()).toEqual([...inCode.keys()].sort());
    for (const [code, exit] of inCode) expect({ code, exit: documented.get(code) }).toEqual({ code, exit });
  });

  it('uses SRG_<AREA>_<NAME> codes and only documented exit codes', () => {
    const exits = new Set<number>(Object.values(ExitCode));
    for (const [code, v] of Object.entries(ERROR_CODES)) {
      expect(code).toMatch(/^SRG_[A-Z0-9]+_[A-Z0-9_]+$/);
      expect(exits.has(v.exitCode)).toBe(true);
    }
  });

  it('lists every exit code in docs/errors.md and README.md', () => {
    for (const code of Object.values(ExitCode)) {
      expect(doc).toMatch(new RegExp(`^\\|\\s*${code}\\s*\\|`, 'm'));
      expect(readme).toMatch(new RegExp(`^\\|\\s*${code}\\s*\\|`, 'm'));
    }
  });

  it('carries the exit code of its table entry', () => {
    const e = new SurgeError('SRG_CONFIG_INVALID', 'bad', { hint: 'fix it', details: ['a.b: wrong'] });
    expect(e.exitCode).toBe(10);
    expect(e.details).toEqual(['a.b: wrong']);
    expect(new SurgeError('SRG_LOADTEST_THRESHOLD', 'x').exitCode).toBe(20);
  });
});
