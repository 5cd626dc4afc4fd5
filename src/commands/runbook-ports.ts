import type { Command } from 'commander';
import type { RunbookPorts, SmokeResult } from '../runbooks/ports.js';
import type { Reporter } from '../reporter.js';
import type { CommandContext } from './context.js';

/** Where a runbook's Kubernetes and stack steps connect when the step names no more (kubectl's flags). */
export interface RunbookTargetFlags {
  context?: string;
  kubeconfig?: string;
  tokenEnv: string;
}

export function runbookTargetFlags(cmd: Command): Command {
  return cmd
    .option('--context <name>', 'kubeconfig context for Kubernetes steps that name none (default: the current context)')
    .option('--kubeconfig <file>', 'kubeconfig file (default: KUBECONFIG, else ~/.kube/config)')
    .option('--token-env <name>', 'environment variable holding the stack admin token (stack-admin and local flags steps)', 'SURGECTL_STACK_ADMIN_TOKEN');
}

/**
 * The ports of runbook steps, from the composition root. Each is built on first use (a dry run
 * builds none), and each SDK is imported only by the step kind that needs it.
 */
export function runbookPorts(ctx: CommandContext, f: RunbookTargetFlags): RunbookPorts {
  const kube = new Map<string, ReturnType<CommandContext['adapters']['kubernetes']>>();
  // surgectl.yaml's regions, read once per run: the passwords of the stores a runbook names without them
  let regionStores: Promise<{ store: string }[]> | undefined;
  // A step the operator already confirmed must not be asked about again by the code it calls.
  const confirmed: Reporter = { notify: (m, l) => ctx.reporter().notify(m, l), confirm: async () => true };
  return {
    haproxy: (endpoint) => ctx.adapters.haproxy(endpoint),
    prometheus: (url) => ctx.adapters.prometheus(url),
    // pg is loaded by the adapter on its first call, so a runbook without pg-* steps never loads it.
    // A runbook names a region's PostgreSQL without its password (plans, journals and the audit log
    // show parameters): the password comes back from surgectl.yaml's regions, also on a resume.
    replication: async (url) => {
      const { withoutPassword } = await import('../util/url.js');
      regionStores ??= ctx.loadConfig().then(
        (l) => Object.values(l.config.regions),
        () => [],
      );
      const full = (await regionStores).find((r) => withoutPassword(r.store, 'PostgreSQL') === url)?.store ?? url;
      return (await import('../adapters/postgres-replication/postgres-replication.js')).createPostgresReplication({ url: full });
    },
    kubernetes: ({ context, namespace }) => {
      const key = `${context ?? f.context ?? ''}/${namespace ?? ''}`;
      let get = kube.get(key);
      if (!get) kube.set(key, (get = ctx.adapters.kubernetes({ kubeconfig: f.kubeconfig, context: context ?? f.context, namespace })));
      return get();
    },
    stackAdmin: (url) => ctx.adapters.stackAdmin({ url, tokenEnv: f.tokenEnv, requireToken: true }),
    flags: ({ provider, stackUrl }) => ctx.adapters.flags({ provider, stackUrl, tokenEnv: f.tokenEnv }),
    async flagSet(name) {
      const { resolveSet } = await import('../flags/flags.js');
      return resolveSet((await ctx.loadConfig()).config.flags.sets, name);
    },
    async http(req) {
      const { request } = await import('undici');
      const { transportFailureReason } = await import('../util/transport-failure.js');
      try {
        const r = await request(req.url, { method: req.method as 'GET', headers: req.headers, ...(req.body === undefined ? {} : { body: req.body }), signal: req.signal });
        return { status: r.statusCode, body: await r.body.text() };
      } catch (err) {
        throw new Error(`${req.method} ${req.url}: ${transportFailureReason(err, req.url, 0)}`, { cause: err });
      }
    },
    async shell(cmd) {
      const { spawn } = await import('node:child_process');
      const argv = Array.isArray(cmd.command) ? cmd.command : ['/bin/sh', '-c', cmd.command];
      return new Promise((resolvePromise, reject) => {
        const child = spawn(argv[0] as string, argv.slice(1), { cwd: ctx.runtime.cwd, env: { ...ctx.runtime.env, ...cmd.env }, signal: cmd.signal, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout = (stdout + d.toString()).slice(-64_000)));
        child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-64_000)));
        child.on('error', (err) => reject(new Error(`cannot run ${argv[0]}: ${(err as NodeJS.ErrnoException).code ?? err.message}`)));
        child.on('close', (code, signal) => resolvePromise({ exitCode: code ?? (signal ? 128 : 1), stdout, stderr }));
      });
    },
    async loadtest(opts): Promise<SmokeResult> {
      const { parseScenario, runLoadTest } = await import('../loadtest/index.js');
      const loaded = parseScenario({
        name: 'runbook-smoke',
        target: opts.target,
        requests: [{ kind: 'create-order', name: 'smoke', weight: 1 }],
        scenarios: { smoke: { executor: 'constant-arrival-rate', rate: opts.rate, timeUnit: '1s', duration: `${Math.max(1, Math.round(opts.durationMs / 1000))}s`, preAllocatedVUs: Math.max(5, Math.ceil(opts.rate / 2)), maxVUs: Math.max(50, Math.ceil(opts.rate * 2)) } },
        thresholds: opts.thresholds,
      });
      const r = await runLoadTest(loaded, { signal: opts.signal, reporter: confirmed });
      const reqs = r.summary.metrics.http_reqs?.values.count ?? 0;
      const failedRate = r.summary.metrics.http_req_failed?.values.rate ?? 0;
      return { passed: r.passed, thresholds: r.thresholds.map((t) => ({ metric: t.metric, threshold: t.threshold, ok: t.ok, value: t.value })), requests: reqs, failed: Math.round(reqs * failedRate) };
    },
    scale: {
      async apply(opts) {
        const { applyScale } = await import('../scale/run.js');
        const { targetPorts } = await import('./targets.js');
        const { config } = await ctx.loadConfig();
        const r = await applyScale({
          file: opts.file,
          cwd: ctx.runtime.cwd,
          configTargets: config.scale.targets,
          connect: targetPorts(ctx, { ...(f.context ? { context: f.context } : {}), ...(f.kubeconfig ? { kubeconfig: f.kubeconfig } : {}), tokenEnv: f.tokenEnv }),
          reporter: confirmed,
          signal: opts.signal,
          now: () => ctx.runtime.now(),
          dryRun: false,
          timeoutMs: opts.timeoutMs,
        });
        if (r.failed) throw new Error(`scale apply ${opts.file} failed at ${r.failed.call}: ${r.failed.error}`);
        return { ...(r.snapshot ? { snapshot: r.snapshot } : {}), changes: r.changes.length, ready: r.ready || r.changes.length === 0 };
      },
      async restore(opts) {
        const { restoreScale } = await import('../scale/run.js');
        const { targetPorts } = await import('./targets.js');
        const r = await restoreScale({ snapshot: opts.snapshot, connect: targetPorts(ctx, { ...(f.context ? { context: f.context } : {}), ...(f.kubeconfig ? { kubeconfig: f.kubeconfig } : {}), tokenEnv: f.tokenEnv }), reporter: confirmed, dryRun: false, signal: opts.signal });
        return { restored: r.problems.length === 0 && r.failed === undefined, problems: [...r.problems, ...(r.failed ? [`${r.failed.call}: ${r.failed.error}`] : [])] };
      },
    },
  };
}
