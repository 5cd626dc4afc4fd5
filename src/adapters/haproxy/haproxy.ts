import { connect, isIPv4, isIPv6, type Socket } from 'node:net';
import { isAbsolute } from 'node:path';
import { SurgeError } from '../../errors.js';
import type { HaproxyAdminState, HaproxyPort, HaproxyServer } from './port.js';

export interface HaproxyOptions {
  /**
   * The runtime API (the `stats socket` of haproxy.cfg): `host:port` (`127.0.0.1:9999`,
   * `[::1]:9999`) or the absolute path of a unix socket (`/run/haproxy/admin.sock`).
   */
  endpoint: string;
  /** Time limit of one command, from connect until HAProxy closes the connection, ms. Default 5000. */
  timeoutMs?: number;
}

const ADMIN_STATES: readonly HaproxyAdminState[] = ['ready', 'drain', 'maint'];

/**
 * HAProxy's own rule for proxy and server names (`invalid_char()`): letters, digits, `.`, `:`, `_`, `-`.
 * Anything else can never name a real backend, and a space, `;` or newline would let a name
 * smuggle a second command onto the admin socket, so such names are refused before sending.
 */
const NAME_RE = /^[A-Za-z0-9._:-]+$/;

// srv_admin_state is a bit field (HAProxy's enum srv_admin): forced, inherited, configured
// (`disabled`) and DNS-resolution maintenance; forced and inherited drain.
const ADMF_MAINT = 0x01 | 0x02 | 0x04 | 0x20;
const ADMF_DRAIN = 0x08 | 0x10;
/** srv_op_state SRV_ST_RUNNING; 0 stopped, 1 starting, 3 stopping. */
const OP_RUNNING = 2;

/** How to list the names by hand, for the endpoint given. */
const namesHint = (endpoint: string) =>
  `Use the backend and server names of haproxy.cfg; \`echo "show servers state" | socat stdio ${isAbsolute(endpoint) ? 'unix-connect:' : 'tcp:'}${endpoint}\` lists them.`;
const LEVEL_HINT = 'The runtime API needs `level admin` on the `stats socket` line of haproxy.cfg (e.g. `stats socket ipv4@127.0.0.1:9999 level admin`).';
const SOCKET_HINT =
  'Check that HAProxy runs and that the endpoint matches the `stats socket` line of haproxy.cfg (e.g. `stats socket ipv4@127.0.0.1:9999 level admin` -> 127.0.0.1:9999).';

/** The command texts, built in one place so the fake records exactly what the real adapter sends. */
export const haproxyCommand = {
  servers: (backend: string) => `show servers state ${backend}`,
  weight: (backend: string, server: string, weight: number) => `set server ${backend}/${server} weight ${weight}`,
  state: (backend: string, server: string, state: HaproxyAdminState) => `set server ${backend}/${server} state ${state}`,
};

/**
 * Refuses, before anything is sent, an argument HAProxy could not take or that could inject a
 * second command: names outside HAProxy's character set, a weight that is not an integer
 * 0..256, an unknown state. Shared with the fake so both refuse the same way.
 * @throws SurgeError SRG_HAPROXY_COMMAND naming the argument and what was expected.
 */
export function checkHaproxyArgs(endpoint: string, args: { backend: string; server?: string; weight?: number; state?: string }): void {
  const refuse = (what: string) =>
    new SurgeError('SRG_HAPROXY_COMMAND', `Not sent to HAProxy at ${endpoint}: ${what}`, {
      hint: 'Backend and server names are letters, digits, `.`, `:`, `_` and `-`, as in haproxy.cfg; weights are whole numbers 0..256.',
    });
  const names: [string, string | undefined][] = [
    ['backend', args.backend],
    ['server', args.server],
  ];
  for (const [kind, name] of names) {
    if (name !== undefined && !NAME_RE.test(name)) throw refuse(`${kind} name ${JSON.stringify(name)} is not a HAProxy name (expected letters, digits, . : _ - and nothing else)`);
  }
  if (args.weight !== undefined && !(Number.isInteger(args.weight) && args.weight >= 0 && args.weight <= 256)) {
    throw refuse(`weight ${String(args.weight)} for ${args.backend}/${args.server ?? ''} is not a whole number 0..256`);
  }
  if (args.state !== undefined && !ADMIN_STATES.includes(args.state as HaproxyAdminState)) {
    throw refuse(`state ${JSON.stringify(args.state)} for ${args.backend}/${args.server ?? ''} is not one of ${ADMIN_STATES.join(', ')}`);
  }
}

/** HAProxy answered `command` with an error text (`No such server.`, `Permission denied`, …). */
export function haproxyRefusal(endpoint: string, command: string, answer: string): SurgeError {
  const said = answer.trim().split('\n')[0]?.trim() ?? '';
  const hint = /permission denied/i.test(said) ? LEVEL_HINT : /no such|can't find/i.test(said) ? namesHint(endpoint) : `${namesHint(endpoint)} ${LEVEL_HINT}`;
  return new SurgeError('SRG_HAPROXY_COMMAND', `HAProxy at ${endpoint} refused \`${command}\`: ${said || '(empty answer)'}`, { hint });
}

/** No answer from the runtime API: refused, no such socket, timeout. */
export function haproxyUnreachable(endpoint: string, command: string, reason: string, cause?: unknown): SurgeError {
  return new SurgeError('SRG_HAPROXY_UNREACHABLE', `HAProxy's runtime API at ${endpoint} did not answer \`${command}\` (${reason})`, {
    hint: SOCKET_HINT,
    ...(cause === undefined ? {} : { cause }),
  });
}

type Target = { kind: 'tcp'; host: string; port: number } | { kind: 'unix'; path: string };

/**
 * Reads an endpoint as the user gave it: an absolute path is a unix socket; otherwise
 * `host:port`, with IPv6 addresses in brackets (`[::1]:9999`).
 * @throws SurgeError SRG_CLI_USAGE when it is neither.
 */
export function parseHaproxyEndpoint(endpoint: string): Target {
  if (isAbsolute(endpoint)) return { kind: 'unix', path: endpoint };
  const m = /^(?:\[([^\]]+)\]|([^:[\]\s/]+)):(\d{1,5})$/.exec(endpoint);
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  const hostOk = host !== undefined && (m?.[1] !== undefined ? isIPv6(host) : isIPv4(host) || /^[A-Za-z0-9.-]+$/.test(host));
  if (!m || !hostOk || !(port >= 1 && port <= 65535)) {
    throw new SurgeError('SRG_CLI_USAGE', `Not a HAProxy runtime API endpoint: '${endpoint}'`, {
      hint: 'Give host:port (127.0.0.1:9999, [::1]:9999) or the absolute path of a unix socket, as on the `stats socket` line of haproxy.cfg.',
    });
  }
  return { kind: 'tcp', host: host as string, port };
}

/** Why the socket gave no answer, in words an operator can act on. */
function socketFailureReason(err: unknown, target: Target): string {
  const code = (err as { code?: string }).code;
  const where = target.kind === 'unix' ? target.path : `${target.host}:${target.port}`;
  switch (code) {
    case 'ECONNREFUSED':
      return target.kind === 'unix' ? `connection refused: no HAProxy listens on ${where}` : `connection refused: nothing listens on ${where}`;
    case 'ENOENT':
      return `no socket at ${where}`;
    case 'EACCES':
      return `no permission to open ${where}`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `host ${target.kind === 'tcp' ? target.host : where} not found`;
    case 'ECONNRESET':
      return 'the connection was reset';
    default:
      return (err as { message?: string }).message ?? String(err);
  }
}

/**
 * The real runtime API client on node:net: one connection per command (HAProxy's
 * non-interactive mode answers one command and closes), the command plus `\n` written, the
 * answer read until HAProxy closes.
 * @throws SurgeError SRG_CLI_USAGE when `endpoint` is neither host:port nor an absolute path (before any connection).
 */
export function createHaproxy(opts: HaproxyOptions): HaproxyPort {
  const endpoint = opts.endpoint;
  const target = parseHaproxyEndpoint(endpoint);
  const timeoutMs = opts.timeoutMs ?? 5_000;

  function send(command: string): Promise<string> {
    return new Promise((resolve, reject) => {
      let answer = '';
      let settled = false;
      const socket: Socket = target.kind === 'unix' ? connect({ path: target.path }) : connect({ host: target.host, port: target.port });
      const finish = (err: SurgeError | undefined) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        if (err) reject(err);
        else resolve(answer);
      };
      // One deadline for the whole exchange: a socket that accepts but never answers (a wrong
      // port, a stopped HAProxy whose listener lingers) must not hang a cutover.
      const timer = setTimeout(() => finish(haproxyUnreachable(endpoint, command, `no answer in ${timeoutMs / 1000} s`)), timeoutMs);
      socket.setEncoding('utf8');
      socket.on('connect', () => socket.write(`${command}\n`));
      socket.on('data', (chunk: string) => (answer += chunk));
      socket.on('error', (err) => finish(haproxyUnreachable(endpoint, command, socketFailureReason(err, target), err)));
      // HAProxy closes once it has answered: the answer is complete.
      socket.on('close', () => finish(undefined));
    });
  }

  /** A `set server` command: an empty (or blank) answer is HAProxy's "done"; any text is a refusal. */
  async function set(command: string): Promise<void> {
    const answer = await send(command);
    if (answer.trim() !== '') throw haproxyRefusal(endpoint, command, answer);
  }

  return {
    endpoint,
    async servers(backend) {
      checkHaproxyArgs(endpoint, { backend });
      const command = haproxyCommand.servers(backend);
      return parseServersState(endpoint, command, backend, await send(command));
    },
    async setWeight(backend, server, weight) {
      checkHaproxyArgs(endpoint, { backend, server, weight });
      await set(haproxyCommand.weight(backend, server, weight));
    },
    async setState(backend, server, state) {
      checkHaproxyArgs(endpoint, { backend, server, state });
      await set(haproxyCommand.state(backend, server, state));
    },
  };
}

/** Columns of `show servers state` that HaproxyServer is made of. */
const COLUMNS = ['be_name', 'srv_name', 'srv_addr', 'srv_port', 'srv_uweight', 'srv_admin_state', 'srv_op_state'] as const;

/**
 * Parses the answer to `show servers state <backend>`: a format version line (`1`), a header
 * line `# be_id be_name srv_id …`, then one space-separated row per server. Columns are found by
 * name, because HAProxy adds columns between versions. Anything else (`Can't find backend.`,
 * `Permission denied`) is a refusal.
 */
export function parseServersState(endpoint: string, command: string, backend: string, answer: string): HaproxyServer[] {
  const lines = answer.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const header = lines[1];
  if (!/^\d+$/.test(lines[0] ?? '') || header === undefined || !header.startsWith('#')) throw haproxyRefusal(endpoint, command, answer);
  const names = header.replace(/^#\s*/, '').split(/\s+/);
  const at = Object.fromEntries(COLUMNS.map((c) => [c, names.indexOf(c)])) as Record<(typeof COLUMNS)[number], number>;
  const missing = COLUMNS.filter((c) => at[c] < 0);
  if (missing.length > 0) {
    throw new SurgeError('SRG_HAPROXY_COMMAND', `HAProxy at ${endpoint} answered \`${command}\` without the column(s) ${missing.join(', ')}`, {
      hint: 'surgectl reads `show servers state` of HAProxy 2.x; check the HAProxy version behind this socket.',
    });
  }
  return lines.slice(2).flatMap((line): HaproxyServer[] => {
    const f = line.split(/\s+/);
    // Without a backend argument HAProxy lists every backend; keep only the one asked for.
    if (f[at.be_name] !== backend) return [];
    const num = (c: (typeof COLUMNS)[number]) => {
      const n = Number(f[at[c]]);
      if (!Number.isInteger(n)) throw new SurgeError('SRG_HAPROXY_COMMAND', `HAProxy at ${endpoint} answered \`${command}\` with ${c} '${f[at[c]] ?? ''}' (expected a whole number) in: ${line}`);
      return n;
    };
    const admin = num('srv_admin_state');
    return [
      {
        backend,
        name: f[at.srv_name] ?? '',
        address: f[at.srv_addr] ?? '',
        port: num('srv_port'),
        weight: num('srv_uweight'),
        admin: admin & ADMF_MAINT ? 'maint' : admin & ADMF_DRAIN ? 'drain' : 'ready',
        up: num('srv_op_state') === OP_RUNNING,
      },
    ];
  });
}
