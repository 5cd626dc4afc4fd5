import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { envVarName } from '../src/config/load.js';
import { ConfigSchema, FlagsConfigSchema, RegionConfigSchema, ForecastConfigSchema, PreflightConfigSchema, ScaleConfigSchema, StackConfigSchema, WatchConfigSchema } from '../src/config/schema.js';
import { REPO_ROOT } from './support/stack.js';

/** README.md's "## Configuration" section, up to the next second-level heading. */
function configurationSection(): string {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## Configuration\n');
  expect(start, 'README.md has a "## Configuration" section').toBeGreaterThanOrEqual(0);
  const rest = readme.slice(start + 1);
  const end = rest.indexOf('\n## ', 1);
  return end === -1 ? rest : rest.slice(0, end);
}

const sections = { stack: StackConfigSchema.shape, forecast: ForecastConfigSchema.shape, flags: FlagsConfigSchema.shape, scale: ScaleConfigSchema.shape, preflight: PreflightConfigSchema.shape, watch: WatchConfigSchema.shape };

describe('README "Configuration" lists every key of the schema', () => {
  it('covers every section of ConfigSchema', () => {
    // regions is a map of names the user picks, documented as one row (below), not a key each.
    expect(Object.keys(ConfigSchema.shape).sort()).toEqual([...Object.keys(sections), 'regions'].sort());
  });

  it('regions.<name> with its fields and that it is file only', () => {
    const row = configurationSection().split('\n').find((l) => l.startsWith('|') && l.includes('`regions.<name>`'));
    expect(row, 'a table row for `regions.<name>`').toBeDefined();
    for (const field of Object.keys(RegionConfigSchema.shape)) expect(row).toContain(`\`${field}\``);
    expect(row).toContain('file only');
  });

  const section = configurationSection();
  for (const [name, shape] of Object.entries(sections)) {
    for (const key of Object.keys(shape)) {
      it(`${name}.${key} with its environment variable and a meaning`, () => {
        const row = section.split('\n').find((l) => l.startsWith('|') && l.includes(`\`${name}.${key}\``));
        expect(row, `a table row for \`${name}.${key}\``).toBeDefined();
        expect(row).toContain(`\`${envVarName(name, key)}\``);
        const cells = row!.split('|').map((c) => c.trim()).filter(Boolean);
        // key, env variable, default, meaning
        expect(cells.length).toBeGreaterThanOrEqual(4);
        expect(cells.at(-1)!.length).toBeGreaterThan(10);
      });
    }
  }
});
