/**
 * The administrative state of a server as the runtime API sets it (`set server <b>/<s> state …`):
 * `ready` takes traffic by weight, `drain` finishes what it has but gets no new connections,
 * `maint` gets nothing and is not health-checked.
 */
export type HaproxyAdminState = 'ready' | 'drain' | 'maint';

/** One server of a backend, as `show servers state <backend>` reports it. */
export interface HaproxyServer {
  backend: string;
  name: string;
  /** srv_addr, e.g. 127.0.0.1 */
  address: string;
  port: number;
  /** Current user weight (srv_uweight), 0..256. */
  weight: number;
  /** From srv_admin_state: maint when forced/inherited maintenance, drain when draining, else ready. */
  admin: HaproxyAdminState;
  /** From srv_op_state: true when RUNNING (2). A server whose health check fails is false. */
  up: boolean;
}

/**
 * The HAProxy runtime API calls surgectl makes (the stats socket at `level admin`, one command per
 * connection). Changes apply at once, without a reload, and last until HAProxy restarts.
 * Every method rejects with a SurgeError: SRG_HAPROXY_UNREACHABLE when the socket does not answer
 * (refused, missing unix socket, timeout), SRG_HAPROXY_COMMAND when HAProxy refuses the command
 * (unknown backend or server, socket not at level admin) or when an argument is invalid, which is
 * checked before anything is sent.
 */
export interface HaproxyPort {
  /** Where the runtime API is, as the user gave it (`127.0.0.1:9999` or a unix socket path); named in errors. */
  readonly endpoint: string;
  /** `show servers state <backend>`, parsed by the column names of its header line (not positions). */
  servers(backend: string): Promise<HaproxyServer[]>;
  /** `set server <backend>/<server> weight <n>`; n an integer 0..256 (else SRG_HAPROXY_COMMAND before sending). */
  setWeight(backend: string, server: string, weight: number): Promise<void>;
  /** `set server <backend>/<server> state <state>`. */
  setState(backend: string, server: string, state: HaproxyAdminState): Promise<void>;
}
