import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, runMain } from './support/cli.js';
import { CLI_JS, ensureBuilt, httpClient, startTestStack, tempDir, waitFor, type HttpClient, type TestStack } from './support/stack.js';

/**
 * `surgectl watch` as a person and a script see it: the built CLI in a real terminal (tmux) and
 * off one, against a real stack taking a small, bounded stream of orders over HTTP.
 */
const run = promisify(execFile);
// A tmux server of our own: nothing else's sessions are touched, and afterAll ends exactly this one.
const SOCKET = `surgectl-watch-test-${process.pid}`;
const tmux = async (...args: string[]) => (await run('tmux', ['-L', SOCKET, ...args])).stdout;

let stack: TestStack;
let client: HttpClient;
let adminToken: string;
const dir = tempDir('surgectl-watch-');
let loadRunning = true;
let loadDone: Promise<void>;
let placed = 0;

/** Two lanes, each placing one order then pausing 10 ms, at most 20,000 orders: a steady trickle. */
async function placeOrders(): Promise<void> {
  const skus = ['SKU-0001', 'SKU-0001', 'SKU-0002', 'SKU-0003'];
  const lane = async (n: number) => {
    for (let i = 0; loadRunning && placed < 20_000; i++) {
      placed++;
      const res = await client.postOrder({ customerId: `c-${n}`, items: [{ sku: skus[i % skus.length], qty: 1 }] }, randomUUID());
      if (res.status !== 202) throw new Error(`order refused: ${res.status} ${res.text}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  await Promise.all([lane(0), lane(1)]);
}

beforeAll(async () => {
  ensureBuilt();
  stack = await startTestStack({ seedInventory: 100_000, workers: 4 });
  adminToken = stack.adminToken;
  client = httpClient(stack.url, { connections: 4, adminToken });
  loadDone = placeOrders();
  await waitFor('the first confirmed orders', async () => {
    const s = (await client.admin('GET', '/admin/status')).body as { orders: { byStatus: Record<string, number> } };
    return (s.orders.byStatus.confirmed ?? 0) > 0;
  });
});

afterAll(async () => {
  loadRunning = false;
  await loadDone;
  await tmux('kill-server').catch(() => undefined);
  await client.close();
  await stack.dispose();
  dir.remove();
});

const totalOrders = async () => {
  const s = (await client.admin('GET', '/admin/status')).body as { orders: { byStatus: Record<string, number> } };
  return Object.values(s.orders.byStatus).reduce((a, n) => a + n, 0);
};

describe('surgectl watch in a terminal (tmux)', () => {
  const pane = () => tmux('capture-pane', '-p', '-t', 'watch');
  const display = async (format: string) => (await tmux('display-message', '-p', '-t', 'watch', format)).trim();
  /** The number a row of the screen shows, e.g. `accepted   12.5/s` -> 12.5. */
  const figure = (screen: string, label: string) => {
    const m = new RegExp(`^${label}\\s+([\\d.]+)`, 'm').exec(screen);
    return m ? Number(m[1]) : undefined;
  };

  it('draws live panels with non-zero rates, follows a resize, and q restores the terminal with exit 0', async () => {
    // A plain sh (no line editor that would change the terminal modes itself) in a 120x40 terminal.
    await tmux('new-session', '-d', '-s', 'watch', '-x', '120', '-y', '40', 'sh');
    await tmux('send-keys', '-t', 'watch', `PS1='$ '; echo before-watch`, 'Enter');
    await waitFor('the shell', async () => (await pane()).includes('before-watch\n$'));
    const line = `env SURGECTL_CONFIG= SURGECTL_STACK_ADMIN_TOKEN=${adminToken} ${process.execPath} ${CLI_JS} watch --url ${stack.url} --interval 500ms; echo WATCH-EXIT=$?`;
    await tmux('send-keys', '-t', 'watch', line, 'Enter');

    const screen = await waitFor(
      'the watch screen with non-zero accepted and confirmed rates',
      async () => {
        const s = await pane();
        return (figure(s, 'accepted') ?? 0) > 0 && (figure(s, 'confirmed') ?? 0) > 0 && (figure(s, 'intake p99') ?? 0) > 0 ? s : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    const lines = screen.split('\n');
    expect(lines[0]).toMatch(new RegExp(`^surgectl watch · ${stack.url.replace(/[.]/g, '\\.')} · every 500ms · \\d\\d:\\d\\d:\\d\\d UTC {3}q quits$`));
    expect(lines[1]).toBe('─'.repeat(120));
    expect(screen).toMatch(/^intake p50\s+[\d.]+ ms\s+< 100 ms\s+[▁▂▃▄▅▆▇█ ]+$/m);
    expect(screen).toMatch(/^503 shed\s+0\/s 0\.0%\s+< 5\.0%/m);
    expect(screen).toMatch(/^breaker\s+closed$/m);
    expect(screen).toMatch(/^flags\s+.*recommendations on/m);
    // The hottest sku (half the orders) heads the stock panel.
    expect(screen).toMatch(/^stock\s+left\s+taken\/s\n {2}SKU-0001\s+\d+\s+[\d.]+/m);
    expect(await display('#{alternate_on} #{cursor_flag}')).toBe('1 0');

    // Smaller terminal: the screen is redrawn to the new size.
    await tmux('resize-window', '-t', 'watch', '-x', '70', '-y', '16');
    const small = await waitFor('the screen redrawn 70 columns wide', async () => {
      const s = await pane();
      return s.split('\n')[1] === '─'.repeat(70) ? s : undefined;
    });
    expect(small.split('\n')[0]).toMatch(/^surgectl watch · /);
    for (const l of small.split('\n')) expect([...l].length).toBeLessThanOrEqual(70);
    expect(small).toMatch(/^accepted\s+[\d.]+\/s/m);

    await tmux('send-keys', '-t', 'watch', 'q');
    const after = await waitFor('the shell back after q', async () => {
      const s = await pane();
      // The echoed status on a line of its own, not the command line that names it.
      return /^WATCH-EXIT=\d+$/m.test(s) ? s : undefined;
    });
    expect(after).toMatch(/^WATCH-EXIT=0$/m);
    // Back on the main screen: what was there before is there again (scrolled into the history by
    // the smaller window), the watch screen is gone.
    expect(await tmux('capture-pane', '-p', '-t', 'watch', '-S', '-100')).toContain('before-watch');
    expect(after).not.toContain('q quits');
    expect(await display('#{alternate_on} #{cursor_flag}')).toBe('0 1');
    // Cooked mode again: the terminal echoes and reads lines.
    await tmux('send-keys', '-t', 'watch', `stty -a | tr ' ' '\\n' | grep -x -e icanon -e echo -e -icanon -e -echo | tr '\\n' ,; echo`, 'Enter');
    await waitFor('stty output', async () => (await pane()).includes('icanon,echo,') || (await pane()).includes('-icanon'));
    expect(await pane()).toContain('icanon,echo,');
  });

  it('Ctrl-C ends it the same way: exit 0, main screen and cursor back', async () => {
    await tmux('new-session', '-d', '-s', 'ctrlc', '-x', '100', '-y', '30', 'sh');
    const pane2 = () => tmux('capture-pane', '-p', '-t', 'ctrlc');
    await tmux('send-keys', '-t', 'ctrlc', `PS1='$ '; env SURGECTL_CONFIG= SURGECTL_STACK_ADMIN_TOKEN=${adminToken} ${process.execPath} ${CLI_JS} watch --url ${stack.url} --interval 300ms; echo WATCH-EXIT=$?`, 'Enter');
    await waitFor('the watch screen', async () => /^accepted\s+[\d.]+\/s/m.test(await pane2()), { timeoutMs: 30_000, intervalMs: 200 });
    expect((await tmux('display-message', '-p', '-t', 'ctrlc', '#{alternate_on}')).trim()).toBe('1');
    await tmux('send-keys', '-t', 'ctrlc', 'C-c');
    const after = await waitFor('the shell back after Ctrl-C', async () => {
      const s = await pane2();
      return /^WATCH-EXIT=\d+$/m.test(s) ? s : undefined;
    });
    expect(after).toMatch(/^WATCH-EXIT=0$/m);
    expect((await tmux('display-message', '-p', '-t', 'ctrlc', '#{alternate_on} #{cursor_flag}')).trim()).toBe('0 1');
  });
});

describe('surgectl watch for scripts', () => {
  it('--once -o json prints non-zero rates that agree with the stack’s own counters over the same time', async () => {
    const t0 = Date.now();
    const before = await totalOrders();
    const r = await runCli(['watch', '--url', stack.url, '--once', '--interval', '2s', '-o', 'json'], { env: { SURGECTL_STACK_ADMIN_TOKEN: adminToken }, cwd: dir.path });
    const after = await totalOrders();
    const seconds = (Date.now() - t0) / 1000;
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as Record<string, unknown> & { acceptedPerSec: number; confirmedPerSec: number; windowSeconds: number; totals: { accepted: number; confirmed: number } };
    expect(doc.acceptedPerSec).toBeGreaterThan(0);
    expect(doc.confirmedPerSec).toBeGreaterThan(0);
    expect(doc.windowSeconds).toBeGreaterThanOrEqual(2);
    expect(doc.windowSeconds).toBeLessThan(4);
    // The counter it read lies between the stack's order counts before and after it ran.
    expect(doc.totals.accepted).toBeGreaterThanOrEqual(before);
    expect(doc.totals.accepted).toBeLessThanOrEqual(after);
    // Its rate over its 2 s matches the stack's own growth over the whole run, within 50% (steady load).
    const overall = (after - before) / seconds;
    expect(Math.abs(doc.acceptedPerSec - overall)).toBeLessThanOrEqual(overall * 0.5);
    expect(doc).toMatchObject({ source: stack.url, breaker: 'closed', unavailablePerSec: 0, errorsPerSec: 0, slo: { breaker: 'ok' } });
    expect((doc.hottestStock as { sku: string }[])[0]?.sku).toBe('SKU-0001');
  });

  it('refuses to draw a screen off a terminal and says to use --once', async () => {
    const r = await runCli(['watch', '--url', stack.url], { env: { SURGECTL_STACK_ADMIN_TOKEN: adminToken }, cwd: dir.path });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('[SRG_CLI_USAGE]');
    expect(r.stderr).toContain('--once');
    expect(r.stdout).toBe('');
  });

  it('refuses --url with --prometheus, and an interval without a unit, before reaching anything', async () => {
    const both = await runMain(['watch', '--url', 'http://127.0.0.1:1', '--prometheus', 'http://127.0.0.1:2', '--once']);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("'--prometheus <url>' cannot be used with option '--url <url>'");
    const bare = await runMain(['watch', '--once', '--interval', '5']);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain("--interval must be a duration of at least 100 ms");
  });

  it('a stack that does not answer is exit 3 with --once', async () => {
    const r = await runCli(['watch', '--url', 'http://127.0.0.1:9', '--once'], { env: { SURGECTL_STACK_ADMIN_TOKEN: adminToken }, cwd: dir.path });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toContain('SRG_STACK_UNREACHABLE');
  });
});
