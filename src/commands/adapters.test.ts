import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigSchema } from '../config/schema.js';
import type { Runtime } from '../runtime.js';
import { createAdapters } from './adapters.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

/** An Unleash stand-in that only records the Authorization header and refuses every call. */
async function recordingServer(): Promise<{ url: string; seen: (string | undefined)[] }> {
  const seen: (string | undefined)[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers.authorization);
    res.writeHead(401, { 'content-type': 'application/json' }).end('{"message":"no"}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  closers.push(() => new Promise((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

function runtimeAt(cwd: string, env: Record<string, string>): Runtime {
  const sink = { write: () => true };
  return { env, cwd, argv0: 'surgectl', stdout: sink, stderr: sink, now: () => Date.now(), signal: new AbortController().signal };
}

describe('the composition root: the Unleash admin token', () => {
  it('comes from UNLEASH_ADMIN_TOKEN first, else the first line of flags.credentialsFile (with ~ as the home directory)', async () => {
    const home = mkdtempSync(join(tmpdir(), 'surgectl-home-'));
    writeFileSync(join(home, 'unleash-token'), 'token-from-file\nsecond line ignored\n');
    const srv = await recordingServer();
    const config = ConfigSchema.parse({ flags: { provider: 'unleash', unleashUrl: srv.url, credentialsFile: '~/unleash-token' } });
    const loaded = async () => ({ config, file: undefined, warnings: [] });
    const fromFile = await createAdapters(runtimeAt(tmpdir(), { HOME: home }), loaded).flags({});
    await expect(fromFile.list()).rejects.toMatchObject({ code: 'SRG_FLAGS_AUTH' });
    const fromEnv = await createAdapters(runtimeAt(tmpdir(), { HOME: home, UNLEASH_ADMIN_TOKEN: 'token-from-env' }), loaded).flags({});
    await expect(fromEnv.list()).rejects.toMatchObject({ code: 'SRG_FLAGS_AUTH' });
    expect(new Set(srv.seen)).toEqual(new Set(['token-from-file', 'token-from-env']));
  });

  it('is refused by name when there is none, and the file path is named when it cannot be read', async () => {
    const config = ConfigSchema.parse({ flags: { provider: 'unleash', unleashUrl: 'http://127.0.0.1:9', credentialsFile: 'missing-token' } });
    const cwd = mkdtempSync(join(tmpdir(), 'surgectl-cwd-'));
    await expect(createAdapters(runtimeAt(cwd, {}), async () => ({ config, file: undefined, warnings: [] })).flags({})).rejects.toMatchObject({
      code: 'SRG_FLAGS_AUTH',
      message: `Cannot read the Unleash credentials file ${join(cwd, 'missing-token')}: ENOENT`,
    });
    const none = ConfigSchema.parse({ flags: { provider: 'unleash', unleashUrl: 'http://127.0.0.1:9' } });
    await expect(createAdapters(runtimeAt(cwd, {}), async () => ({ config: none, file: undefined, warnings: [] })).flags({})).rejects.toMatchObject({
      code: 'SRG_FLAGS_AUTH',
      message: expect.stringContaining('UNLEASH_ADMIN_TOKEN is not set'),
    });
  });
});
