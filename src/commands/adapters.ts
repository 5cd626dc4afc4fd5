import { SurgeError } from '../errors.js';
import type { LoadedConfig } from '../config/load.js';
import type { KubernetesPort } from '../adapters/kubernetes/port.js';
import type { Runtime } from '../runtime.js';
import type { Adapters } from './context.js';

/**
 * The composition root's adapter factories (see `Adapters`): flags, config and env in, ports out.
 * Adapters are imported lazily so a command that does not reach a system does not load its SDK.
 */
export function createAdapters(runtime: Runtime, loadConfig: () => Promise<LoadedConfig>): Adapters {
  return {
    async stackAdmin(opts) {
      const { config } = await loadConfig();
      const url = opts.url ?? `http://127.0.0.1:${config.stack.port}`;
      const tokenEnv = opts.tokenEnv ?? 'SURGECTL_STACK_ADMIN_TOKEN';
      const token = opts.token || runtime.env[tokenEnv] || config.stack.adminToken;
      if (opts.requireToken === true && !token) {
        throw new SurgeError('SRG_STACK_ADMIN', `No admin token for the stack at ${url}: ${tokenEnv} is not set`, {
          hint: `export ${tokenEnv}=<the token \`surgectl stack up\` printed>, or name another variable with --token-env.`,
        });
      }
      const { createStackAdmin } = await import('../adapters/stack-admin/stack-admin.js');
      return createStackAdmin({ url, ...(token ? { token } : {}) });
    },
    async flags(opts) {
      const { config } = await loadConfig();
      const kind = opts.provider ?? config.flags.provider;
      const { createLocalFlagsProvider, createUnleashFlagsProvider } = await import('../flags/provider.js');
      if (kind === 'local') return createLocalFlagsProvider(await this.stackAdmin({ url: opts.stackUrl, ...(opts.tokenEnv ? { tokenEnv: opts.tokenEnv } : {}), requireToken: true }));
      const url = opts.unleashUrl ?? config.flags.unleashUrl;
      if (!url) {
        throw new SurgeError('SRG_CLI_USAGE', 'No Unleash URL: the unleash provider needs one', { hint: 'Pass --unleash-url http://<host>:4242, or set flags.unleashUrl in surgectl.yaml.' });
      }
      const token = await unleashToken(runtime, config.flags.credentialsFile);
      const { createUnleash } = await import('../adapters/unleash/unleash.js');
      return createUnleashFlagsProvider(createUnleash({ url, token }), { project: opts.project ?? config.flags.project, environment: opts.environment ?? config.flags.environment });
    },
    async autoScaling(opts) {
      const { createAutoScaling } = await import('../adapters/aws-autoscaling/aws-autoscaling.js');
      return createAutoScaling({ env: { ...runtime.env }, ...(opts.region ? { region: opts.region } : {}), ...(opts.profile ? { profile: opts.profile } : {}) });
    },
    async haproxy(endpoint) {
      const { createHaproxy } = await import('../adapters/haproxy/haproxy.js');
      return createHaproxy({ endpoint });
    },
    async prometheus(url) {
      const { createPrometheus } = await import('../adapters/prometheus/prometheus.js');
      return createPrometheus({ url });
    },
    kubernetes(opts) {
      const paths = kubeconfigPaths(opts.kubeconfig, runtime.env);
      let k8s: Promise<KubernetesPort> | undefined;
      return () =>
        (k8s ??= import('../adapters/kubernetes/kubernetes.js').then((m) =>
          m.createKubernetes({ kubeconfigPaths: paths, context: opts.context, namespace: opts.namespace }),
        ));
    },
  };
}

/** kubectl's lookup: --kubeconfig, else every file in KUBECONFIG, else ~/.kube/config. */
function kubeconfigPaths(flag: string | undefined, env: Readonly<Record<string, string | undefined>>): string[] {
  if (flag) return [flag];
  const fromEnv = (env.KUBECONFIG ?? '').split(':').filter(Boolean);
  if (fromEnv.length > 0) return fromEnv;
  return [`${env.HOME ?? ''}/.kube/config`];
}

/** The Unleash admin token: env UNLEASH_ADMIN_TOKEN, else the first line of the credentials file. Never echoed. */
async function unleashToken(runtime: Runtime, credentialsFile: string | undefined): Promise<string> {
  const fromEnv = runtime.env.UNLEASH_ADMIN_TOKEN?.trim();
  if (fromEnv) return fromEnv;
  const hint = 'export UNLEASH_ADMIN_TOKEN=<an admin API token>, or point flags.credentialsFile at a file holding it (mode 600).';
  if (!credentialsFile) throw new SurgeError('SRG_FLAGS_AUTH', 'No Unleash admin token: UNLEASH_ADMIN_TOKEN is not set and flags.credentialsFile is not configured', { hint });
  const { readFile } = await import('node:fs/promises');
  const { resolve } = await import('node:path');
  // `~/…` as a shell would expand it: config files are written by people.
  const home = runtime.env.HOME;
  const path = credentialsFile.startsWith('~/') && home ? resolve(home, credentialsFile.slice(2)) : resolve(runtime.cwd, credentialsFile);
  const text = await readFile(path, 'utf8').catch((cause: NodeJS.ErrnoException) => {
    throw new SurgeError('SRG_FLAGS_AUTH', `Cannot read the Unleash credentials file ${path}: ${cause.code ?? cause.message}`, { hint });
  });
  const token = text.split('\n')[0]?.trim();
  if (!token) throw new SurgeError('SRG_FLAGS_AUTH', `The Unleash credentials file ${path} is empty`, { hint });
  return token;
}
