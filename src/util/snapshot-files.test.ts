import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { readSnapshot, writeSnapshot } from './snapshot-files.js';

const Data = z.object({ flags: z.array(z.object({ name: z.string(), enabled: z.boolean() })) });
const NOW = Date.UTC(2026, 11, 4, 18, 30, 5);

describe('snapshot files', () => {
  it('writes an envelope under .surgectl/snapshots and reads it back; a second one in the same second does not overwrite', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'snap-'));
    const data = { flags: [{ name: 'recommendations', enabled: true }] };
    const first = await writeSnapshot({ cwd, kind: 'FlagsSnapshot', source: 'set peak on unleash', data, now: NOW, prefix: 'flags' });
    const second = await writeSnapshot({ cwd, kind: 'FlagsSnapshot', source: 'again', data, now: NOW, prefix: 'flags' });
    expect(first).toBe(join(cwd, '.surgectl/snapshots/flags-20261204T183005Z.json'));
    expect(second).toBe(join(cwd, '.surgectl/snapshots/flags-20261204T183005Z-2.json'));
    expect(JSON.parse(readFileSync(first, 'utf8'))).toEqual({ apiVersion: 'surgectl/v1', kind: 'FlagsSnapshot', createdAt: '2026-12-04T18:30:05.000Z', source: 'set peak on unleash', data });
    expect(await readSnapshot(first, 'FlagsSnapshot', Data, 'SRG_FLAGS_SNAPSHOT')).toMatchObject({ kind: 'FlagsSnapshot', data, path: first });
  });

  it('names the file and the problem: missing, not a snapshot, another kind, bad data', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'snap-'));
    await expect(readSnapshot(join(dir, 'nope.json'), 'FlagsSnapshot', Data, 'SRG_FLAGS_SNAPSHOT')).rejects.toMatchObject({ code: 'SRG_FLAGS_SNAPSHOT', message: expect.stringContaining('ENOENT') });
    writeFileSync(join(dir, 'plan.yaml'), 'apiVersion: surgectl/v1\nkind: ScalePlan\n');
    await expect(readSnapshot(join(dir, 'plan.yaml'), 'FlagsSnapshot', Data, 'SRG_FLAGS_SNAPSHOT')).rejects.toMatchObject({
      message: `${join(dir, 'plan.yaml')} is not a FlagsSnapshot (found surgectl/v1/ScalePlan; expected apiVersion surgectl/v1, kind FlagsSnapshot)`,
    });
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ apiVersion: 'surgectl/v1', kind: 'FlagsSnapshot', data: { flags: [{ name: 1 }] } }));
    await expect(readSnapshot(join(dir, 'bad.json'), 'FlagsSnapshot', Data, 'SRG_SCALE_SNAPSHOT')).rejects.toMatchObject({
      code: 'SRG_SCALE_SNAPSHOT',
      details: expect.arrayContaining([expect.stringMatching(/^data\.flags\.0\.name: /)]),
    });
  });
});
