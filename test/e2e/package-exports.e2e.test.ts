import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Imports by package name in a plain Node process, as a user of the library would (needs the build). */
function importInNode(code: string): string {
  return execFileSync(process.execPath, ['--input-type=module', '-e', code], { cwd: root, encoding: 'utf8' });
}

describe('package exports', () => {
  it("'surgectl' exposes the programmatic entry points", () => {
    const keys = JSON.parse(importInNode("const m = await import('surgectl'); console.log(JSON.stringify(Object.keys(m)))")) as string[];
    expect(keys).toEqual(expect.arrayContaining(['startStack', 'runLoadTest', 'runExperiment', 'runRehearsal', 'loadConfig', 'SurgeError', 'probes']));
  });

  it("'surgectl/forecast' forecasts a series", () => {
    const out = importInNode(`
      const { forecast, generateSample } = await import('surgectl/forecast');
      const sample = generateSample({ days: 21, stepMs: 3_600_000, seed: 1 });
      const r = await forecast({ series: [sample.series], horizonMs: 86_400_000 });
      console.log(JSON.stringify({ kind: r.kind, series: r.series.length }));
    `);
    expect(JSON.parse(out.trim().split('\n').pop()!)).toEqual({ kind: 'Forecast', series: 1 });
  });
});
