import type { HaproxyAdminState, HaproxyPort, HaproxyServer } from './port.js';
import { checkHaproxyArgs, haproxyCommand, haproxyRefusal, haproxyUnreachable } from './haproxy.js';

/** A server of a fake backend; what is left out takes HAProxy's default (weight 1, ready) and a healthy check. */
export interface FakeHaproxyServerInit {
  name: string;
  /** Default 127.0.0.1. */
  address?: string;
  /** Default 8080 + the server's index in its backend (blue 8080, green 8081, as the bundled stacks). */
  port?: number;
  /** 0..256; default 1, as HAProxy's `weight`. */
  weight?: number;
  /** Default ready. */
  admin?: HaproxyAdminState;
  /** Whether its health check passes; default true. A server in maint is never up, as in HAProxy. */
  up?: boolean;
}

export interface FakeHaproxy extends HaproxyPort {
  /**
   * Every command the real adapter would have sent, in order (`set server orders/blue weight 0`).
   * Arguments refused before sending (a weight of 257, a name with a space) are not recorded.
   */
  readonly calls: string[];
  /** Makes a server's health check pass or fail from now on (HAProxy marks it up or down). */
  setUp(backend: string, server: string, up: boolean): void;
  /** `unreachable`: every command fails with SRG_HAPROXY_UNREACHABLE, as if HAProxy were stopped; `undefined` heals. */
  fail(mode: 'unreachable' | undefined): void;
}

interface FakeServer {
  name: string;
  address: string;
  port: number;
  weight: number;
  admin: HaproxyAdminState;
  healthy: boolean;
}

/**
 * An in-memory HAProxy runtime API with the answers of the real one (contract.test.ts runs the
 * same cases against both): HAProxy's own refusal texts for an unknown backend or server, the
 * same argument checks before sending, maint taking a server down.
 */
export function createFakeHaproxy(backends: Record<string, FakeHaproxyServerInit[]>, opts: { endpoint?: string } = {}): FakeHaproxy {
  const endpoint = opts.endpoint ?? '127.0.0.1:9999';
  const state = new Map<string, FakeServer[]>(
    Object.entries(backends).map(([backend, servers]) => [
      backend,
      servers.map((s, i) => ({
        name: s.name,
        address: s.address ?? '127.0.0.1',
        port: s.port ?? 8080 + i,
        weight: s.weight ?? 1,
        admin: s.admin ?? 'ready',
        healthy: s.up ?? true,
      })),
    ]),
  );
  const calls: string[] = [];
  let unreachable = false;

  /**
   * Checks the arguments as the real adapter does (a refusal there sends nothing, so records
   * nothing), then records the command and answers it as HAProxy would: `fn` returns HAProxy's
   * error text, if any.
   */
  function run<T>(args: Parameters<typeof checkHaproxyArgs>[1], commandText: () => string, fn: () => { refused: string } | { value: T }): Promise<T> {
    try {
      checkHaproxyArgs(endpoint, args);
    } catch (err) {
      return Promise.reject(err);
    }
    const command = commandText();
    calls.push(command);
    if (unreachable) return Promise.reject(haproxyUnreachable(endpoint, command, `connection refused: nothing listens on ${endpoint}`));
    const r = fn();
    return 'refused' in r ? Promise.reject(haproxyRefusal(endpoint, command, `${r.refused}\n`)) : Promise.resolve(r.value);
  }
  /** `set server b/s …`: HAProxy looks the backend up first, then the server. */
  function withServer(backend: string, server: string, change: (s: FakeServer) => void): { refused: string } | { value: void } {
    const servers = state.get(backend);
    if (!servers) return { refused: 'No such backend.' };
    const s = servers.find((x) => x.name === server);
    if (!s) return { refused: 'No such server.' };
    change(s);
    return { value: undefined };
  }

  return {
    endpoint,
    calls,
    setUp(backend, server, up) {
      const s = state.get(backend)?.find((x) => x.name === server);
      if (!s) throw new Error(`fake HAProxy: no server ${backend}/${server}`);
      s.healthy = up;
    },
    fail(mode) {
      unreachable = mode === 'unreachable';
    },
    servers(backend) {
      return run<HaproxyServer[]>({ backend }, () => haproxyCommand.servers(backend), () => {
        const servers = state.get(backend);
        if (!servers) return { refused: "Can't find backend." };
        return {
          value: servers.map((s): HaproxyServer => ({ backend, name: s.name, address: s.address, port: s.port, weight: s.weight, admin: s.admin, up: s.healthy && s.admin !== 'maint' })),
        };
      });
    },
    setWeight: (backend, server, weight) => run({ backend, server, weight }, () => haproxyCommand.weight(backend, server, weight), () => withServer(backend, server, (s) => (s.weight = weight))),
    setState: (backend, server, admin) => run({ backend, server, state: admin }, () => haproxyCommand.state(backend, server, admin), () => withServer(backend, server, (s) => (s.admin = admin))),
  };
}
