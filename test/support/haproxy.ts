import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { freePort } from './ports.js';

/** A real HAProxy 2.x in front of servers the test runs, with its runtime API on a loopback port. */
export interface TestHaproxy {
  /** The frontend: http://127.0.0.1:<frontend> */
  url: string;
  /** The runtime API (stats socket at level admin unless asked otherwise): 127.0.0.1:<port> */
  statsEndpoint: string;
  /** With `unixSocket`: the path of a second runtime API socket, same level. */
  statsSocketPath?: string;
  /** The haproxy.cfg it runs. */
  configPath: string;
  /** Stops HAProxy (SIGTERM, SIGKILL after 5 s), waits for it to exit and removes its files. */
  stop(): Promise<void>;
}

/** A server of the test backend: a loopback port the test serves HTTP on. */
export interface TestHaproxyServer {
  name: string;
  port: number;
  /** 0..256; default 100. */
  weight?: number;
}

export interface HaproxyTestConfigOptions {
  frontendPort: number;
  statsPort: number;
  /** Default `orders`. */
  backend?: string;
  servers: readonly TestHaproxyServer[];
  /** Path of the HTTP health check; default /healthz. */
  checkPath?: string;
  /** Level of the runtime API sockets; default admin (user and operator are for testing refusals). */
  statsLevel?: 'admin' | 'operator' | 'user';
  /** Also serve the runtime API on this unix socket. */
  statsSocketPath?: string;
}

/** Finds haproxy on PATH or in /usr/sbin (Debian's place, off a normal user's PATH); fails loudly with how to install it. */
export function requireHaproxy(): string {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/usr/bin'];
  for (const d of dirs) {
    const p = join(d, 'haproxy');
    if (d && existsSync(p)) return p;
  }
  throw new Error(
    'haproxy is not installed: these tests need a real HAProxy 2.x. Install it with ' +
      '`apt-get install -y --no-install-recommends haproxy` (npm test installs it through scripts/ensure-system-packages.mjs when run as root).',
  );
}

/**
 * The haproxy.cfg the tests run: the traffic settings of deploy/haproxy/haproxy.cfg (retries,
 * redispatch, no replay of non-GET requests, health checks) with fast checks and loopback ports.
 */
export function haproxyTestConfig(o: HaproxyTestConfigOptions): string {
  const backend = o.backend ?? 'orders';
  const level = o.statsLevel ?? 'admin';
  const lines = [
    'global',
    `  stats socket ipv4@127.0.0.1:${o.statsPort} level ${level}`,
    ...(o.statsSocketPath ? [`  stats socket ${o.statsSocketPath} mode 600 level ${level}`] : []),
    '',
    'defaults',
    '  mode http',
    '  timeout connect 1s',
    '  timeout client 10s',
    '  timeout server 10s',
    '  timeout check 1s',
    '',
    'frontend test_in',
    `  bind 127.0.0.1:${o.frontendPort}`,
    `  default_backend ${backend}`,
    '',
    `backend ${backend}`,
    '  balance roundrobin',
    `  option httpchk GET ${o.checkPath ?? '/healthz'}`,
    '  retries 3',
    '  option redispatch',
    '  retry-on conn-failure empty-response',
    // empty-response resends a request the server may already have processed: only GET/HEAD.
    '  http-request disable-l7-retry unless METH_GET',
    '  http-reuse safe',
    ...o.servers.map((s) => `  server ${s.name} 127.0.0.1:${s.port} weight ${s.weight ?? 100} check inter 200ms fall 2 rise 1`),
    '',
  ];
  return lines.join('\n');
}

/** Sends one runtime API command and resolves HAProxy's answer ('' when the socket does not answer). */
function ask(port: number, command: string): Promise<string> {
  return new Promise((resolve) => {
    let answer = '';
    const s = connect({ host: '127.0.0.1', port }, () => s.write(`${command}\n`));
    s.setTimeout(1_000, () => s.destroy());
    s.on('data', (d: Buffer) => (answer += d.toString()));
    s.on('error', () => resolve(''));
    s.on('close', () => resolve(answer));
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

/**
 * Writes a config (see haproxyTestConfig), runs `haproxy -db -f cfg` as a child process and polls
 * until the frontend accepts connections and the runtime API answers (see runHaproxy).
 * It does not wait for the servers' health checks: a test that needs them up polls for that.
 */
export function startHaproxy(opts: {
  backend?: string;
  servers: readonly TestHaproxyServer[];
  checkPath?: string;
  statsLevel?: 'admin' | 'operator' | 'user';
  /** Also serve the runtime API on a unix socket (TestHaproxy.statsSocketPath). */
  unixSocket?: boolean;
}): Promise<TestHaproxy> {
  return runHaproxy(
    ({ frontendPort, statsPort, dir }) =>
      haproxyTestConfig({
        frontendPort,
        statsPort,
        servers: opts.servers,
        ...(opts.backend ? { backend: opts.backend } : {}),
        ...(opts.checkPath ? { checkPath: opts.checkPath } : {}),
        ...(opts.statsLevel ? { statsLevel: opts.statsLevel } : {}),
        ...(opts.unixSocket ? { statsSocketPath: join(dir, 'admin.sock') } : {}),
      }),
    { unixSocket: opts.unixSocket === true },
  );
}

/**
 * Runs `haproxy -db -f cfg` on the config `render` writes for a free frontend port and a free
 * runtime API port (both on 127.0.0.1; `dir` is a temporary directory for sockets), and polls
 * (deadline 15 s) until the frontend accepts connections and the runtime API answers `show info`.
 * A port taken between freePort() and HAProxy's bind makes it exit; that is retried on new
 * ports (3 attempts).
 */
export async function runHaproxy(
  render: (at: { frontendPort: number; statsPort: number; dir: string }) => string,
  opts: { unixSocket?: boolean } = {},
): Promise<TestHaproxy> {
  const haproxy = requireHaproxy();
  const dir = await mkdtemp(join(tmpdir(), 'surgectl-haproxy-'));
  const configPath = join(dir, 'haproxy.cfg');
  let log = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const frontendPort = await freePort();
    const statsPort = await freePort();
    await writeFile(configPath, render({ frontendPort, statsPort, dir }));
    const child = spawn(haproxy, ['-db', '-f', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    log = '';
    const keep = (b: Buffer) => (log = (log + b.toString()).slice(-4000));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    let exited = false;
    child.once('exit', () => (exited = true));
    const deadline = Date.now() + 15_000;
    let ready = false;
    while (Date.now() < deadline && !exited) {
      if ((await accepts(frontendPort)) && (await ask(statsPort, 'show info')).includes('Name: HAProxy')) {
        ready = true;
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    if (ready) {
      return {
        url: `http://127.0.0.1:${frontendPort}`,
        statsEndpoint: `127.0.0.1:${statsPort}`,
        ...(opts.unixSocket ? { statsSocketPath: join(dir, 'admin.sock') } : {}),
        configPath,
        stop: async () => {
          await stopChild(child);
          await rm(dir, { recursive: true, force: true });
        },
      };
    }
    await stopChild(child);
  }
  await rm(dir, { recursive: true, force: true });
  throw new Error(`HAProxy did not start (frontend and runtime API answering) in 3 attempts: ${log}`);
}

/** A tiny HTTP server standing in for one color's stack behind HAProxy. */
export interface TestBackendServer {
  name: string;
  port: number;
  /** Requests served, by method (health checks not counted). */
  readonly hits: { GET: number; POST: number };
  /** Requests received and dropped without an answer (`hangUp`). */
  readonly hungUp: number;
  /** Resolves with the body of the next request sent with `x-hold: 1`, which is held until release(). */
  nextHeld(): Promise<string>;
  /** Answers the held request(s). */
  release(): void;
  /** From now on, read every request other than health checks and close the connection without answering. */
  hangUp(on: boolean): void;
  close(): Promise<void>;
}

/**
 * Serves GET /healthz (200, for HAProxy's checks) and answers every other request 200 with
 * `{"server": name, "method": ..., "body": ...}` and an `x-served-by` header, counting hits.
 */
export async function startTestBackend(name: string): Promise<TestBackendServer> {
  const hits = { GET: 0, POST: 0 };
  let hungUp = 0;
  let hangUp = false;
  let held: Array<() => void> = [];
  let onHeld: ((body: string) => void) | undefined;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      if (req.url === '/healthz') {
        res.end('ok');
        return;
      }
      if (hangUp) {
        hungUp++;
        req.socket.destroy();
        return;
      }
      const answer = () => {
        if (req.method === 'GET' || req.method === 'POST') hits[req.method]++;
        res.setHeader('x-served-by', name);
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ server: name, method: req.method, body }));
      };
      if (req.headers['x-hold'] === '1') {
        held.push(answer);
        onHeld?.(body);
        onHeld = undefined;
      } else answer();
    });
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
  return {
    name,
    port,
    hits,
    get hungUp() {
      return hungUp;
    },
    nextHeld: () => new Promise((resolve) => (onHeld = resolve)),
    release() {
      const h = held;
      held = [];
      for (const answer of h) answer();
    },
    hangUp(on) {
      hangUp = on;
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}
