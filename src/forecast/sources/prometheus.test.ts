import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { prometheusHeaders } from './prometheus.js';

describe('prometheusHeaders (--header, --bearer-token-file)', () => {
  it('reads Name: value lines and a token file, trimming both', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'prom-headers-'));
    writeFileSync(join(dir, 'token'), '  s3cret-token\n');
    expect(await prometheusHeaders(['X-Scope-OrgID: tenant-a', 'X-Extra:1'], join(dir, 'token'))).toEqual({
      'X-Scope-OrgID': 'tenant-a',
      'X-Extra': '1',
      Authorization: 'Bearer s3cret-token',
    });
  });

  it('refuses a line without a name, and a token file it cannot read, without showing a token', async () => {
    await expect(prometheusHeaders([': no name'])).rejects.toMatchObject({ code: 'SRG_CLI_USAGE', message: '--header ": no name" is not "Name: value"' });
    await expect(prometheusHeaders([], '/nonexistent/token')).rejects.toMatchObject({
      code: 'SRG_DATA_SOURCE',
      message: 'cannot read --bearer-token-file /nonexistent/token: ENOENT',
    });
  });
});
