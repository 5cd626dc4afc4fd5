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
