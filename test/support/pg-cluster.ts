import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { appendFile, chown, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './ports.js';

/**
 * Real PostgreSQL clusters for the replication tests: a primary initdb'd into a temporary
 * directory on a free loopback port, streaming replicas made with `pg_basebackup -R`, and the
 * failover moves (SIGKILL of a postmaster, promote through SQL, pg_rewind of the old primary).
 * Never touches the standing server on 127.0.0.1:5432.
 *
 * initdb and postgres refuse to run as root: when the tests run as root, every PostgreSQL binary
 * runs as the `postgres` OS user (`runuser -u postgres --`) in directories owned by it.
 */

/** A running (or stopped, or killed) test cluster. */
export interface PgCluster {
  /** Its name: cluster_name, and the application_name it streams under when it is a replica. */
  readonly name: string;
  /** Loopback TCP port; the same for the life of the cluster, whatever its role. */
  readonly port: number;
  /** postgres://postgres@127.0.0.1:<port>/postgres (trust auth: no password). */
  readonly url: string;
  /** Its data directory (inside a temporary directory owned by the `postgres` user when root). */
  readonly dataDir: string;
  /** Stops the server (immediate) if it runs and removes every file of the cluster. Idempotent. */
  stop(): Promise<void>;
}

/** What `rewindAsReplicaOf` did to turn the old primary into a replica. */
export interface RewoundCluster extends PgCluster {
  method: 'pg_rewind' | 'pg_basebackup';
  /** pg_rewind's output when it failed and the data directory was copied again instead. */
  rewindFailure?: string;
}

export interface StartPrimaryOptions {
  /** cluster_name; default pg_<random>. */
  name?: string;
  /** Physical replication slots to create once it runs. */
  slots?: readonly string[];
  /** synchronous_standby_names, e.g. `pg_b` or `FIRST 1 (pg_b)`; default none (asynchronous). */
  synchronousStandbyNames?: string;
}

export interface StartReplicaOptions {
  name?: string;
  /**
   * Make the primary wait for this replica (its name in the primary's synchronous_standby_names,
   * set once the replica streams, so the base backup itself is not held up). Default false.
   */
  sync?: boolean;
  /** Stream through this physical slot (created on the primary when it does not exist). */
  slot?: string;
}

interface ClusterState {
  name: string;
  port: number;
  url: string;
  root: string;
  dataDir: string;
  log: string;
}

const LOOPBACK = '127.0.0.1';
const RUNNING = new Set<ClusterState>();

// A test that dies half way must not leave postmasters behind: on exit, kill whatever still runs
// (synchronously: nothing async runs in an exit handler) and remove its files.
process.once('exit', () => {
  for (const c of RUNNING) {
    const pid = postmasterPid(c.dataDir);
    if (pid !== undefined) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    rmSync(c.root, { recursive: true, force: true });
  }
});

let bin: string | undefined;

/**
 * The directory of the PostgreSQL server binaries: $PG_BIN, the newest /usr/lib/postgresql/<v>/bin
 * (Debian's place, off PATH), or `pg_config --bindir`'s answer on PATH. Fails loudly, saying what to
 * install: these suites prove replication against real servers and must never pass by skipping.
 */
export function requirePgBinaries(): string {
  if (bin) return bin;
  const need = ['initdb', 'pg_ctl', 'pg_basebackup', 'pg_rewind', 'postgres'];
  const candidates: string[] = [];
  if (process.env.PG_BIN) candidates.push(process.env.PG_BIN);
  if (existsSync('/usr/lib/postgresql')) {
    const versions = readdirSync('/usr/lib/postgresql').filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((v) => `/usr/lib/postgresql/${v}/bin`));
  }
  for (const dir of (process.env.PATH ?? '').split(':')) if (dir) candidates.push(dir);
  const found = candidates.find((d) => need.every((b) => existsSync(join(d, b))));
  if (!found) {
    throw new Error(
      `PostgreSQL server binaries (${need.join(', ')}) not found in $PG_BIN, /usr/lib/postgresql/<version>/bin or PATH: ` +
        'the replication tests run real clusters. Install them with `apt-get install -y --no-install-recommends postgresql-15` ' +
        '(or postgresql-server on RPM systems), or point PG_BIN at their directory.' +
        (process.env.CI === 'true' ? ' CI must run these suites against real PostgreSQL.' : ''),
    );
  }
  bin = found;
  return found;
}

const asRoot = () => process.getuid?.() === 0;
let owner: { uid: number; gid: number } | undefined;

/** uid/gid of the `postgres` OS user (root only: the directories it runs in must be its own). */
async function postgresUser(): Promise<{ uid: number; gid: number }> {
  if (owner) return owner;
  const id = async (flag: string) => Number((await run('id', [flag, 'postgres'], { direct: true })).stdout.trim());
  try {
    owner = { uid: await id('-u'), gid: await id('-g') };
  } catch (err) {
    throw new Error('the tests run as root, and initdb/postgres refuse root: they need a `postgres` OS user (created by the postgresql package, or `useradd -r postgres`)', { cause: err });
  }
  return owner;
}

interface RunResult {
  stdout: string;
  stderr: string;
}

/**
 * Runs a PostgreSQL program (as `postgres` when root) with a time limit; rejects with its output
 * when it exits non-zero. cwd is a directory the postgres user may enter.
 */
function run(program: string, args: string[], opts: { direct?: boolean; timeoutMs?: number; cwd?: string } = {}): Promise<RunResult> {
  const path = opts.direct || program.includes('/') ? program : join(requirePgBinaries(), program);
  const [file, argv] = !opts.direct && asRoot() ? ['runuser', ['-u', 'postgres', '--', path, ...args]] : [path, args];
  return new Promise((resolve, reject) => {
    execFile(file, argv, { timeout: opts.timeoutMs ?? 60_000, cwd: opts.cwd ?? tmpdir(), env: { ...process.env, LC_ALL: 'C' }, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${[program, ...args].join(' ')} failed: ${err.message}\n${stdout}\n${stderr}`.trim(), { cause: err }));
      else resolve({ stdout, stderr });
    });
  });
}

/** The postmaster's pid from postmaster.pid, or undefined when there is none. */
function postmasterPid(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a process exists (a zombie not yet reaped counts: postgres' lock file check sees it too). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Pids whose parent is `pid` (Linux /proc): the postmaster's backends and auxiliary processes. */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the parenthesised command: state, ppid, …
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}

/** Polls `probe` every 50 ms until it returns a value or `ms` pass; throws naming `what` (and the last error). */
export async function pollUntil<T>(what: string, ms: number, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${ms} ms${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** One statement on a test cluster, on a fresh connection (closed again). */
export async function pgQuery<R extends pg.QueryResultRow = pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query<R>(sql, params)).rows;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Settings every test cluster runs with: replication on, WAL kept for pg_rewind, fast status. */
const CONFIG = [
  'wal_level = replica',
  // pg_rewind needs hint bits WAL-logged from before the timelines diverge.
  'wal_log_hints = on',
  'max_wal_senders = 10',
  'max_replication_slots = 10',
  'hot_standby = on',
  // pg_rewind reads the old primary's WAL back to the last common checkpoint: keep it.
  'wal_keep_size = 256MB',
  // Standbys report their positions every second, so lag reads settle quickly.
  'wal_receiver_status_interval = 1s',
  'max_connections = 40',
  'shared_buffers = 16MB',
  "log_line_prefix = '%m [%p] %a '",
];

function options(c: ClusterState): string {
  return `-c port=${c.port} -c listen_addresses=${LOOPBACK} -c unix_socket_directories=${c.root} -c cluster_name=${c.name}`;
}

/**
 * Starts the server of `c` (pg_ctl start -w) and waits until it accepts SQL connections. Start
 * failures include the end of the server log.
 */
async function startServer(c: ClusterState): Promise<void> {
  try {
    await run('pg_ctl', ['start', '-w', '-t', '60', '-D', c.dataDir, '-l', c.log, '-o', options(c)], { cwd: c.root, timeoutMs: 70_000 });
  } catch (err) {
    const log = await readFile(c.log, 'utf8').catch(() => '');
    throw new Error(`${(err as Error).message}\nserver log (end):\n${log.slice(-3_000)}`, { cause: err });
  }
  RUNNING.add(c);
  // A standby in hot standby answers once it reached consistency; pg_ctl -w waits for that too,
  // but check from the outside that loopback TCP answers.
  await pollUntil(`${c.name} on port ${c.port} to accept connections`, 30_000, async () => ((await pgQuery(c.url, 'SELECT 1')).length === 1 ? true : undefined));
}

/** pg_ctl stop in `mode`, waiting for the postmaster to exit; a no-op when it does not run. */
async function stopServer(c: ClusterState, mode: 'fast' | 'immediate'): Promise<void> {
  const pid = postmasterPid(c.dataDir);
  if (pid === undefined || !alive(pid)) return;
  try {
    await run('pg_ctl', ['stop', '-w', '-t', '30', '-m', mode, '-D', c.dataDir], { cwd: c.root, timeoutMs: 40_000 });
  } catch {
    // It would not stop in time: make sure it is gone.
    await killServer(c);
  }
  await pollUntil(`${c.name} postmaster ${pid} to exit`, 15_000, () => (alive(pid) ? undefined : true));
}

/**
 * SIGKILLs the postmaster (a crash: no shutdown checkpoint), then waits until it and every one of
 * its processes are gone — backends notice the postmaster's death and exit on their own; the ones
 * still there after 5 s are killed too. Until then the data directory cannot be started or rewound.
 */
async function killServer(c: ClusterState, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  const pid = postmasterPid(c.dataDir);
  if (pid === undefined || !alive(pid)) return;
  const children = childrenOf(pid);
  process.kill(pid, signal);
  const all = [pid, ...children];
  try {
    await pollUntil(`${c.name}'s processes to exit after ${signal}`, 5_000, () => (all.some(alive) ? undefined : true));
  } catch {
    for (const p of all.filter(alive)) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        /* gone meanwhile */
      }
    }
    await pollUntil(`${c.name}'s processes to exit after SIGKILL`, 10_000, () => (all.some(alive) ? undefined : true));
  }
}

/** A temporary directory owned by the user the server runs as. */
async function newRoot(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'surgectl-pg-'));
  if (asRoot()) {
    const u = await postgresUser();
    await chown(root, u.uid, u.gid);
  }
  return root;
}

function cluster(c: ClusterState): PgCluster {
  return {
    name: c.name,
    port: c.port,
    url: c.url,
    dataDir: c.dataDir,
    stop: async () => {
      await stopServer(c, 'immediate').catch(() => killServer(c));
      RUNNING.delete(c);
      await rm(c.root, { recursive: true, force: true });
    },
  };
}

const states = new WeakMap<PgCluster, ClusterState>();
function stateOf(p: PgCluster): ClusterState {
  const s = states.get(p);
  if (!s) throw new Error(`not a cluster of test/support/pg-cluster.ts: ${p.url}`);
  return s;
}
function handle(c: ClusterState, extra: Partial<RewoundCluster> = {}): PgCluster {
  const h = { ...cluster(c), ...extra };
  states.set(h, c);
  return h;
}

const randomName = () => `pg_${Math.random().toString(36).slice(2, 8)}`;
const urlFor = (port: number) => `postgres://postgres@${LOOPBACK}:${port}/postgres`;

/**
 * A primary: initdb (trust auth for local and loopback connections, user postgres) into a new
 * temporary directory, the replication settings above, started on a free loopback port. A port
 * taken between freePort() and the bind is retried on a new one (3 attempts).
 */
export async function startPrimary(opts: StartPrimaryOptions = {}): Promise<PgCluster> {
  requirePgBinaries();
  const root = await newRoot();
  const name = opts.name ?? randomName();
  const dataDir = join(root, 'data');
  try {
    await run('initdb', ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync', '--no-instructions'], { cwd: root });
    const conf = [...CONFIG, ...(opts.synchronousStandbyNames ? [`synchronous_standby_names = '${opts.synchronousStandbyNames.replace(/'/g, "''")}'`] : [])];
    await appendFile(join(dataDir, 'postgresql.conf'), `\n# surgectl test cluster\n${conf.join('\n')}\n`);
    const c = await startOnFreePort({ name, root, dataDir });
    for (const slot of opts.slots ?? []) await pgQuery(c.url, 'SELECT pg_create_physical_replication_slot($1)', [slot]);
    return handle(c);
  } catch (err) {
    await rm(root, { recursive: true, force: true });
    throw err;
  }
}

async function startOnFreePort(base: { name: string; root: string; dataDir: string }): Promise<ClusterState> {
  let last: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const c: ClusterState = { ...base, port, url: urlFor(port), log: join(base.root, `${base.name}.log`) };
    try {
      await startServer(c);
      return c;
    } catch (err) {
      last = err;
      await killServer(c).catch(() => undefined);
      RUNNING.delete(c);
      if (!/could not bind|Address already in use/i.test((err as Error).message)) break;
    }
  }
  throw last;
}

/**
 * A streaming replica of `primary`: `pg_basebackup -R -X stream` (standby.signal and
 * primary_conninfo written by it) into a new temporary directory, started on a free port; it
 * streams under its name as application_name (cluster_name). Resolves once the primary's
 * pg_stat_replication shows it streaming.
 */
export async function startReplica(primary: PgCluster, opts: StartReplicaOptions = {}): Promise<PgCluster> {
  const root = await newRoot();
  const name = opts.name ?? randomName();
  const dataDir = join(root, 'data');
  try {
    let slotArgs: string[] = [];
    if (opts.slot) {
      const exists = (await pgQuery(primary.url, 'SELECT 1 FROM pg_replication_slots WHERE slot_name = $1', [opts.slot])).length > 0;
      slotArgs = exists ? ['-S', opts.slot] : ['-C', '-S', opts.slot];
    }
    await baseBackup(primary, dataDir, root, slotArgs);
    const c = await startOnFreePort({ name, root, dataDir });
    await waitStreaming(primary, c);
    if (opts.sync) {
      await pgQuery(primary.url, `ALTER SYSTEM SET synchronous_standby_names = '${name}'`);
      await pgQuery(primary.url, 'SELECT pg_reload_conf()');
      await pollUntil(`${name} to be synchronous on ${primary.name}`, 15_000, async () => {
        const rows = await pgQuery<{ sync_state: string }>(primary.url, 'SELECT sync_state FROM pg_stat_replication WHERE application_name = $1', [name]);
        return rows[0]?.sync_state === 'sync' ? true : undefined;
      });
    }
    return handle(c);
  } catch (err) {
    await rm(root, { recursive: true, force: true });
    throw err;
  }
}

async function baseBackup(source: PgCluster, dataDir: string, cwd: string, extra: string[] = []): Promise<void> {
  await run('pg_basebackup', ['-h', LOOPBACK, '-p', String(source.port), '-U', 'postgres', '-D', dataDir, '-R', '-X', 'stream', '-c', 'fast', '--no-sync', ...extra], { cwd, timeoutMs: 120_000 });
}

/** Polls the primary until a walsender for `applicationName` is in state streaming (30 s); a failure quotes the replica's log. */
async function waitStreaming(primary: PgCluster, replica: ClusterState): Promise<void> {
  try {
    await pollUntil(`${replica.name} to stream from ${primary.name} (port ${primary.port})`, 30_000, async () => {
      const rows = await pgQuery<{ state: string }>(primary.url, 'SELECT state FROM pg_stat_replication WHERE application_name = $1', [replica.name]);
      return rows[0]?.state === 'streaming' ? true : undefined;
    });
  } catch (err) {
    const log = await readFile(replica.log, 'utf8').catch(() => '');
    throw new Error(`${(err as Error).message}\n${replica.name} log (end):\n${log.slice(-2_000)}`, { cause: err });
  }
}

/** Crashes the cluster: `signal` (SIGKILL) to its postmaster, resolved once all its processes are gone. Its files stay. */
export async function kill(c: PgCluster, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  await killServer(stateOf(c), signal);
}

/** Shuts the server down cleanly (pg_ctl stop -m fast) and keeps its files: it can be started again or rewound. */
export async function stop(c: PgCluster): Promise<void> {
  await stopServer(stateOf(c), 'fast');
}

/** Starts a stopped or killed cluster again on its own port (crash recovery first after a kill). */
export async function start(c: PgCluster): Promise<void> {
  await startServer(stateOf(c));
}

/**
 * Turns a former primary (stopped, killed, fenced or still running) into a streaming replica of
 * `newPrimary`: stops it, `pg_rewind --write-recovery-conf` from the new primary (after a
 * CHECKPOINT there, so its control file names the new timeline); when pg_rewind fails (WAL it
 * needs is gone) or `method: 'pg_basebackup'` asks for it, the data directory is replaced by a
 * fresh `pg_basebackup -R`. Starts it on its own port and resolves once the new primary shows it
 * streaming.
 */
export async function rewindAsReplicaOf(oldPrimary: PgCluster, newPrimary: PgCluster, opts: { method?: 'auto' | 'pg_basebackup' } = {}): Promise<RewoundCluster> {
  const c = stateOf(oldPrimary);
  await stopServer(c, 'fast');
  await pgQuery(newPrimary.url, 'CHECKPOINT');
  let method: RewoundCluster['method'] = 'pg_rewind';
  let rewindFailure: string | undefined;
  try {
    if (opts.method === 'pg_basebackup') throw new Error('pg_basebackup asked for');
    await run('pg_rewind', ['--target-pgdata', c.dataDir, '--source-server', `host=${LOOPBACK} port=${newPrimary.port} user=postgres dbname=postgres`, '--write-recovery-conf', '--no-sync'], { cwd: c.root, timeoutMs: 120_000 });
  } catch (err) {
    method = 'pg_basebackup';
    rewindFailure = (err as Error).message;
    await rm(c.dataDir, { recursive: true, force: true });
    await baseBackup(newPrimary, c.dataDir, c.root);
  }
  // pg_rewind copies the new primary's postgresql.auto.conf, which may still name the slot it
  // streamed through as a replica; that slot is on the old primary, not here.
  await appendFile(join(c.dataDir, 'postgresql.auto.conf'), "primary_slot_name = ''\n");
  await startServer(c);
  await waitStreaming(newPrimary, c);
  const h = handle(c, { method, ...(rewindFailure ? { rewindFailure } : {}) }) as RewoundCluster;
  return h;
}

/**
 * A shell line that rebuilds `c` as a streaming replica of the primary named by PRIMARY_HOST and
 * PRIMARY_PORT in its environment — what an operator's `regions.<name>.rebuild` does on a real
 * host: stop it, pg_rewind from the primary (after a CHECKPOINT there), else a fresh pg_basebackup,
 * start it, and return once its walreceiver streams. Written as a script next to the cluster.
 */
export async function rebuildCommand(c: PgCluster): Promise<string> {
  const s = stateOf(c);
  const b = requirePgBinaries();
  const script = `#!/bin/bash
set -euo pipefail
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
BIN=${q(b)}; D=${q(s.dataDir)}; LOG=${q(s.log)}
cd ${q(s.root)}
as_pg "$BIN/pg_ctl" stop -w -t 30 -m fast -D "$D" >/dev/null 2>&1 || true
as_pg "$BIN/psql" -h "$PRIMARY_HOST" -p "$PRIMARY_PORT" -U postgres -d postgres -qAtc CHECKPOINT
if ! as_pg "$BIN/pg_rewind" --target-pgdata "$D" --source-server "host=$PRIMARY_HOST port=$PRIMARY_PORT user=postgres dbname=postgres" --write-recovery-conf --no-sync; then
  rm -rf "$D"
  as_pg "$BIN/pg_basebackup" -h "$PRIMARY_HOST" -p "$PRIMARY_PORT" -U postgres -D "$D" -R -X stream -c fast --no-sync
fi
echo "primary_slot_name = ''" | as_pg tee -a "$D/postgresql.auto.conf" >/dev/null
as_pg "$BIN/pg_ctl" start -w -t 60 -D "$D" -l "$LOG" -o ${q(options(s))} >/dev/null
for _ in $(seq 1 300); do
  state=$(as_pg "$BIN/psql" -h ${LOOPBACK} -p ${s.port} -U postgres -d postgres -qAtc "SELECT status FROM pg_stat_wal_receiver" 2>/dev/null || true)
  if [ "$state" = streaming ]; then exit 0; fi
  sleep 0.1
done
echo "${s.name} does not stream from $PRIMARY_HOST:$PRIMARY_PORT after 30 s" >&2
exit 1
`;
  RUNNING.add(s);
  return scriptCommand(s, 'rebuild.sh', script);
}

/** A shell word: `v` in single quotes. */
const q = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;

/** Writes `script` next to the cluster and returns the shell line that runs it. */
async function scriptCommand(s: ClusterState, name: string, script: string): Promise<string> {
  const path = join(s.root, name);
  await writeFile(path, script, { mode: 0o755 });
  return `bash ${path}`;
}

/**
 * A shell line that crashes `c` as an operator's `regions.<name>.kill` does (what `surgectl drill
 * failover --kill-primary` runs): SIGKILL to its postmaster, then waits until the postmaster and
 * every process it had started are gone (killing the ones still there after 5 s), so the data
 * directory can be rewound at once. A postmaster that does not run is left as it is (exit 0).
 */
export async function killCommand(c: PgCluster): Promise<string> {
  const s = stateOf(c);
  const script = `#!/bin/bash
set -uo pipefail
PIDFILE=${q(join(s.dataDir, 'postmaster.pid'))}
[ -f "$PIDFILE" ] || exit 0
PID=$(head -n 1 "$PIDFILE")
kill -0 "$PID" 2>/dev/null || exit 0
# its children first, by parent pid: once the postmaster is gone they are init's
CHILDREN=$(ps -o pid= --ppid "$PID" | tr -s ' \\n' ' ')
kill -KILL "$PID"
for i in $(seq 1 100); do
  alive=""
  for p in $PID $CHILDREN; do kill -0 "$p" 2>/dev/null && alive="$alive $p"; done
  [ -z "$alive" ] && exit 0
  if [ "$i" = 50 ]; then kill -KILL $alive 2>/dev/null || true; fi
  sleep 0.1
done
echo "${s.name}: processes$alive still there 10 s after SIGKILL" >&2
exit 1
`;
  return scriptCommand(s, 'kill.sh', script);
}
