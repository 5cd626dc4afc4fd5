import type { Command } from 'commander';
import type { ScaleConnect } from '../scale/types.js';
import { httpUrl } from './args.js';
import type { CommandContext } from './context.js';

/**
 * Where live targets are, for the objects a plan does not pin down: kubectl's and the AWS CLI's
 * flags plus the bundled stack's URL. Shared by `scale` and `preflight`, which read the same objects.
 */
export interface TargetFlags {
  context?: string;
  namespace?: string;
  kubeconfig?: string;
  region?: string;
  profile?: string;
  url?: string;
  tokenEnv: string;
}

/** Registers the {@link TargetFlags} on `cmd`. */
export function targetFlags(cmd: Command): Command {
  return cmd
    .option('--context <name>', 'kubeconfig context for targets that name none (default: the current context)')
    .option('-n, --namespace <namespace>', 'namespace for Kubernetes targets that name none')
    .option('--kubeconfig <file>', 'kubeconfig file (default: KUBECONFIG, else ~/.kube/config)')
    .option('--region <region>', 'AWS region for Auto Scaling groups that name none (default: AWS_REGION)')
    .option('--profile <name>', 'AWS shared-config profile (default: AWS_PROFILE, else the default chain)')
    .option('--url <url>', 'the bundled stack URL for BundledStack targets that name none (default http://127.0.0.1:<stack.port>)', httpUrl())
    .option('--token-env <name>', 'environment variable holding the stack admin token', 'SURGECTL_STACK_ADMIN_TOKEN');
}

/** The ports a scale observation needs, from the composition root: Kubernetes per context, Auto Scaling per region, the stack per URL. */
export function targetPorts(ctx: CommandContext, f: TargetFlags): ScaleConnect {
  return {
    kubernetes: (context) => ctx.adapters.kubernetes({ kubeconfig: f.kubeconfig, context: context ?? f.context, namespace: f.namespace })(),
    autoScaling: (region) => ctx.adapters.autoScaling({ region: region ?? f.region, profile: f.profile }),
    stack: (url) => ctx.adapters.stackAdmin({ url: url ?? f.url, tokenEnv: f.tokenEnv, requireToken: true }),
  };
}
