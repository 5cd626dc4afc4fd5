import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import amqp from 'amqplib';

const run = promisify(execFile);

/** The RabbitMQ the integration suites use: loopback, guest/guest, managed with rabbitmqctl. */
export const AMQP_HOST = '127.0.0.1';
export const AMQP_PORT = 5672;

/** amqp://guest:guest@127.0.0.1:<port>/<vhost> (port overridable, e.g. one nothing listens on). */
export function amqpUrl(vhost: string, port = AMQP_PORT): string {
  return `amqp://guest:guest@${AMQP_HOST}:${port}/${encodeURIComponent(vhost)}`;
}

/** Runs rabbitmqctl; a missing binary or a failed command throws with its output. */
export async function rabbitmqctl(...args: string[]): Promise<string> {
  try {
    const { stdout } = await run('rabbitmqctl', args, { timeout: 60_000 });
    return stdout;
  } catch (err) {
    const e = err as Error & { stderr?: string; code?: unknown };
    throw new Error(`rabbitmqctl ${args.join(' ')} failed${e.code === 'ENOENT' ? ' (rabbitmqctl is not on PATH)' : ''}: ${e.stderr?.trim() || e.message}`, { cause: err });
  }
}

/** Whether the broker accepts an AMQP connection to the default vhost right now. */
export async function brokerAnswers(): Promise<boolean> {
  try {
    const c = await amqp.connect(amqpUrl('/'), { timeout: 2_000 });
    await c.close();
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether the test RabbitMQ answers (AMQP and rabbitmqctl, which the suites use to make vhosts and
 * to stop the broker). When it does not: under CI=true this throws (a suite that needs it must
 * never pass by skipping); elsewhere it warns, naming the suite, and returns false so the suite is
 * skipped visibly.
 */
export async function requireRabbitMq(suite: string): Promise<boolean> {
  let problem: string | undefined;
  if (!(await brokerAnswers())) problem = `RabbitMQ on ${AMQP_HOST}:${AMQP_PORT} (guest/guest) does not accept AMQP connections`;
  else {
    try {
      await rabbitmqctl('list_vhosts');
    } catch (err) {
      problem = (err as Error).message;
    }
  }
  if (problem === undefined) return true;
  const msg = `${suite}: ${problem}`;
  if (process.env.CI === 'true') throw new Error(`${msg}; CI must run this suite against a real server`);
  console.warn(`${msg}; skipped`);
  return false;
}

export interface TestVhost {
  /** surgectl_test_<random> */
  name: string;
  /** amqp://guest:guest@127.0.0.1:5672/<name> */
  url: string;
  /** Deletes it with every queue and message in it. */
  drop(): Promise<void>;
}

/** Creates an empty, uniquely named vhost that guest may use fully. */
export async function createTestVhost(prefix = 'surgectl_test'): Promise<TestVhost> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  await rabbitmqctl('add_vhost', name);
  await rabbitmqctl('set_permissions', '-p', name, 'guest', '.*', '.*', '.*');
  return { name, url: amqpUrl(name), drop: async () => void (await rabbitmqctl('delete_vhost', name)) };
}

let stopped = false;
// Last resort if the test process exits while the broker is stopped (an uncaught error between
// stop and the finally): the machine's broker is shared and must never be left down.
process.once('exit', () => {
  if (stopped) spawnSync('rabbitmqctl', ['start_app'], { timeout: 60_000 });
});

/**
 * Stops the broker application (`rabbitmqctl stop_app`: every connection closed, new ones
 * refused), runs `during`, and starts it again whatever happens, waiting until it accepts AMQP
 * connections once more (bounded by `restartTimeoutMs`).
 */
export async function withBrokerStopped<T>(during: () => Promise<T>, restartTimeoutMs = 60_000): Promise<T> {
  stopped = true;
  let outcome: { ok: true; value: T } | { ok: false; error: unknown };
  try {
    await rabbitmqctl('stop_app');
    outcome = { ok: true, value: await during() };
  } catch (error) {
    outcome = { ok: false, error };
  }
  // whatever happened above, the shared broker is started again before anything is reported
  await rabbitmqctl('start_app');
  stopped = false;
  const deadline = Date.now() + restartTimeoutMs;
  while (!(await brokerAnswers())) {
    if (Date.now() > deadline) throw new Error(`RabbitMQ did not accept connections within ${restartTimeoutMs} ms of start_app`);
    await new Promise((r) => setTimeout(r, 100));
  }
  if (!outcome.ok) throw outcome.error;
  return outcome.value;
}

/** Ready messages in `queue` now (unacked ones are not counted). */
export async function readyCount(url: string, queue: string): Promise<number> {
  const c = await amqp.connect(url);
  try {
    const ch = await c.createChannel();
    return (await ch.checkQueue(queue)).messageCount;
  } finally {
    await c.close();
  }
}

/** Takes and acks every ready message of `queue` (bounded by `max`), returning their bodies as text. */
export async function drainQueue(url: string, queue: string, max = 100_000): Promise<string[]> {
  const c = await amqp.connect(url);
  try {
    const ch = await c.createChannel();
    const bodies: string[] = [];
    while (bodies.length < max) {
      const m = await ch.get(queue, { noAck: true });
      if (m === false) break;
      bodies.push(m.content.toString('utf8'));
    }
    return bodies;
  } finally {
    await c.close();
  }
}

/** Publishes raw bodies to `queue` on a confirm channel and waits for every confirm. */
export async function publishRaw(url: string, queue: string, messages: { body: Buffer; options: amqp.Options.Publish }[]): Promise<void> {
  const c = await amqp.connect(url);
  try {
    const ch = await c.createConfirmChannel();
    for (const m of messages) ch.sendToQueue(queue, m.body, m.options);
    await ch.waitForConfirms();
  } finally {
    await c.close();
  }
}
