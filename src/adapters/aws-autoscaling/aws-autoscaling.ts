import {
  AutoScalingClient,
  DeleteScheduledActionCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeScheduledActionsCommand,
  PutScheduledUpdateGroupActionCommand,
  UpdateAutoScalingGroupCommand,
  type AutoScalingGroup,
  type PutScheduledUpdateGroupActionCommandInput,
  type ScheduledUpdateGroupAction,
  type UpdateAutoScalingGroupCommandInput,
} from '@aws-sdk/client-auto-scaling';
import { SurgeError } from '../../errors.js';
import { awsRefusal, checkScheduledTimes, redact, type AwsCallContext } from './aws-errors.js';
import type { AutoScalingGroupState, AutoScalingPort, GroupSizes, ScheduledAction } from './port.js';

/** Attempts per call (the first one included) before throttling becomes SRG_AWS_API. */
export const DEFAULT_MAX_ATTEMPTS = 6;
/** Backoff before the first retry, ms; doubles per retry. */
export const BASE_DELAY_MS = 200;
/** Longest single backoff, ms. With the defaults the retries of one call wait at most ~6.2 s in all. */
export const MAX_DELAY_MS = 5000;
/** DescribeAutoScalingGroups takes at most this many names per request in surgectl (AWS's page size). */
export const NAMES_PER_PAGE = 50;

export interface AutoScalingOptions {
  /** Region, e.g. `eu-west-1` (--region); else AWS_REGION, else AWS_DEFAULT_REGION from `env`. */
  region?: string | undefined;
  /** Shared-config profile (--profile); else AWS_PROFILE from `env`; else the SDK's default chain. */
  profile?: string | undefined;
  /** The environment to read AWS_REGION / AWS_DEFAULT_REGION / AWS_PROFILE from (the Runtime's env). Default: none. */
  env?: Readonly<Record<string, string | undefined>>;
  /** A preconfigured client (tests put aws-sdk-client-mock on it); `profile` is then not used. */
  client?: AutoScalingClient;
  /** Waits between retries; default a timer. Tests inject one that records the delays. */
  sleep?: (ms: number) => Promise<void>;
  /** Attempts per call, the first included; default DEFAULT_MAX_ATTEMPTS (6). 1 means never retry. */
  maxAttempts?: number;
  /** Source of jitter in [0, 1); default Math.random. */
  random?: () => number;
}

/** AWS's throttling codes; Auto Scaling itself answers `Throttling` (HTTP 400). */
const THROTTLING = new Set(['Throttling', 'ThrottlingException', 'ThrottledException', 'RequestThrottled', 'RequestThrottledException', 'RequestLimitExceeded', 'TooManyRequestsException', 'SlowDown', 'ProvisionedThroughputExceededException']);
/** Not throttling but just as passing: another update of the same resources is in flight. */
/** The SDK names modeled errors after their class (ResourceContentionFault); the wire code is ResourceContention. */
const CONTENTION = new Set(['ResourceContention', 'ResourceContentionFault']);
/** The credential chain found nothing usable (SDK-side, before any request). */
const NO_CREDENTIALS = new Set(['CredentialsProviderError', 'TokenProviderError', 'ProviderError']);
/** AWS answered, but did not accept the credentials themselves (unknown, expired, badly signed). */
const BAD_CREDENTIALS = new Set(['InvalidClientTokenId', 'UnrecognizedClientException', 'ExpiredToken', 'ExpiredTokenException', 'SignatureDoesNotMatch', 'IncompleteSignature', 'MissingAuthenticationToken', 'InvalidSignatureException', 'AuthFailure']);
/** Socket-level failures: no answer came back. */
const NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ECONNABORTED', 'TimeoutError', 'RequestTimeout', 'RequestTimeoutException', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET']);
/** Of those, the ones that are likely to pass on a retry (a refused connection or unknown host will not). */
const TRANSIENT_NETWORK = new Set(['ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ECONNABORTED', 'TimeoutError', 'RequestTimeout', 'RequestTimeoutException', 'UND_ERR_SOCKET']);

const CREDENTIALS_HINT =
  'surgectl uses the AWS SDK default credential chain: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN) in the environment, ' +
  'or a profile (--profile or AWS_PROFILE) from ~/.aws/credentials / ~/.aws/config (for SSO run `aws sso login --profile <name>` first), ' +
  'or web identity (AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN), or the instance/container role.';

/**
 * The real AutoScalingPort on @aws-sdk/client-auto-scaling v3. Import this module lazily: the
 * SDK is big and `surgectl --help` must not load it.
 *
 * The SDK's own retries are off (client `maxAttempts: 1`) so that one documented, tested policy
 * applies: throttling, ResourceContention and transient socket errors are retried up to
 * `maxAttempts` times with exponential backoff and equal jitter (BASE_DELAY_MS doubling, capped
 * at MAX_DELAY_MS). Every call is safe to repeat: updates set absolute sizes, puts replace by
 * name, and deleting a missing action succeeds.
 * @throws SurgeError SRG_AWS_CONFIG when no region is given or found, or the region is malformed.
 */
export function createAutoScaling(opts: AutoScalingOptions = {}): AutoScalingPort {
  const env = opts.env ?? {};
  const region = resolveRegion(opts.region, env);
  const maxAttempts = opts.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new SurgeError('SRG_AWS_CONFIG', `maxAttempts must be a whole number of at least 1, got ${String(maxAttempts)}`);
  }
  const profile = nonEmpty(opts.profile) ?? nonEmpty(env.AWS_PROFILE);
  const client =
    opts.client ??
    new AutoScalingClient({
      region,
      // Passing the profile to the client is the SDK v3 way of honouring --profile / AWS_PROFILE
      // in the default chain (it then skips AWS_ACCESS_KEY_ID, as the AWS CLI does).
      ...(profile ? { profile } : {}),
      maxAttempts: 1,
      // Without a request timeout a black-holed endpoint would hang; these turn it into TimeoutError (exit 3).
      requestHandler: { connectionTimeout: 5_000, requestTimeout: 30_000 },
    });
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const random = opts.random ?? Math.random;

  /** One call with our retry policy; every failure leaves as a SurgeError. */
  async function call<T>(ctx: Omit<AwsCallContext, 'region'>, send: () => Promise<T>): Promise<T> {
    const full: AwsCallContext = { ...ctx, region };
    for (let attempt = 1; ; attempt++) {
      try {
        return await send();
      } catch (err) {
        const kind = classify(err);
        if ((kind === 'throttled' || kind === 'transient') && attempt < maxAttempts) {
          await sleep(backoffDelay(attempt, random));
          continue;
        }
        throw toSurgeError(err, kind, full, attempt, profile);
      }
    }
  }

  return {
    region,

    async describeGroups(names) {
      const unique = [...new Set(names)];
      // An empty AutoScalingGroupNames means "every group in the region" to AWS: never send one.
      if (unique.length === 0) return [];
      const byName = new Map<string, AutoScalingGroupState>();
      for (let i = 0; i < unique.length; i += NAMES_PER_PAGE) {
        const chunk = unique.slice(i, i + NAMES_PER_PAGE);
        const target = describeTarget(chunk);
        let nextToken: string | undefined;
        do {
          const token = nextToken;
          const out = await call({ command: 'DescribeAutoScalingGroups', target }, () =>
            client.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: chunk, ...(token ? { NextToken: token } : {}) })),
          );
          for (const g of out.AutoScalingGroups ?? []) {
            const state = toGroupState(g);
            if (state) byName.set(state.name, state);
          }
          nextToken = out.NextToken || undefined;
        } while (nextToken);
      }
      return unique.flatMap((n) => {
        const g = byName.get(n);
        return g ? [g] : [];
      });
    },

    async updateGroup(name, sizes) {
      const input: UpdateAutoScalingGroupCommandInput = { AutoScalingGroupName: name, ...awsSizes(sizes) };
      await call({ command: 'UpdateAutoScalingGroup', target: `group ${name}` }, () => client.send(new UpdateAutoScalingGroupCommand(input)));
    },

    async describeScheduledActions(groupName) {
      const actions: ScheduledAction[] = [];
      let nextToken: string | undefined;
      do {
        const token = nextToken;
        const out = await call({ command: 'DescribeScheduledActions', target: `group ${groupName}` }, () =>
          client.send(new DescribeScheduledActionsCommand({ AutoScalingGroupName: groupName, ...(token ? { NextToken: token } : {}) })),
        );
        for (const a of out.ScheduledUpdateGroupActions ?? []) actions.push(toScheduledAction(a, groupName));
        nextToken = out.NextToken || undefined;
      } while (nextToken);
      return actions;
    },

    async putScheduledAction(action) {
      const ctx = { command: 'PutScheduledUpdateGroupAction', target: `scheduled action ${action.groupName}/${action.name}` };
      checkScheduledTimes(action, { ...ctx, region });
      const input: PutScheduledUpdateGroupActionCommandInput = {
        AutoScalingGroupName: action.groupName,
        ScheduledActionName: action.name,
        StartTime: new Date(action.startTime),
        ...(action.endTime !== undefined ? { EndTime: new Date(action.endTime) } : {}),
        ...(action.recurrence !== undefined ? { Recurrence: action.recurrence } : {}),
        ...(action.timeZone !== undefined ? { TimeZone: action.timeZone } : {}),
        ...awsSizes(action),
      };
      await call(ctx, () => client.send(new PutScheduledUpdateGroupActionCommand(input)));
    },

    async deleteScheduledAction(groupName, actionName) {
      try {
        await call({ command: 'DeleteScheduledAction', target: `scheduled action ${groupName}/${actionName}` }, () =>
          client.send(new DeleteScheduledActionCommand({ AutoScalingGroupName: groupName, ScheduledActionName: actionName })),
        );
      } catch (err) {
        // Already gone (or its group is): the state the caller wants, so a rerun is safe.
        if (err instanceof SurgeError && err.code === 'SRG_AWS_NOT_FOUND') return;
        throw err;
      }
    },
  };
}

/**
 * The region from the flag, else AWS_REGION, else AWS_DEFAULT_REGION (the AWS CLI's order).
 * @throws SurgeError SRG_AWS_CONFIG when there is none or it does not look like a region.
 */
export function resolveRegion(flag: string | undefined, env: Readonly<Record<string, string | undefined>>): string {
  const from = nonEmpty(flag) !== undefined ? '--region' : nonEmpty(env.AWS_REGION) !== undefined ? 'AWS_REGION' : 'AWS_DEFAULT_REGION';
  const region = nonEmpty(flag) ?? nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION);
  if (region === undefined) {
    throw new SurgeError('SRG_AWS_CONFIG', 'No AWS region: neither --region nor AWS_REGION / AWS_DEFAULT_REGION is set', {
      hint: 'Pass --region eu-west-1 (the region of your Auto Scaling groups) or export AWS_REGION=eu-west-1.',
    });
  }
  // e.g. us-east-1, eu-central-2, us-gov-west-1, cn-northwest-1, us-isob-east-1.
  if (!/^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/.test(region)) {
    throw new SurgeError('SRG_AWS_CONFIG', `${from} "${region}" is not an AWS region name`, {
      hint: 'Expected a region code such as us-east-1 or eu-west-1 (aws ec2 describe-regions lists them).',
    });
  }
  return region;
}

/**
 * Wait before retry `attempt` (1 = the first retry), ms: equal jitter, i.e. half of
 * min(MAX_DELAY_MS, BASE_DELAY_MS * 2^(attempt-1)) plus a random part of the other half. Spreads
 * retries of parallel callers while each wait stays at least as long as the previous one's bound.
 */
export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + (ceiling / 2) * Math.min(Math.max(random(), 0), 1));
}

type Kind = 'throttled' | 'transient' | 'unreachable' | 'no-credentials' | 'bad-credentials' | 'refused' | 'unknown';

function classify(err: unknown): Kind {
  const name = errorName(err);
  const status = httpStatus(err);
  if (NO_CREDENTIALS.has(name)) return 'no-credentials';
  if (BAD_CREDENTIALS.has(name)) return 'bad-credentials';
  if (THROTTLING.has(name) || CONTENTION.has(name) || status === 429 || status === 503) return 'throttled';
  if (status === undefined) {
    const net = networkCode(err);
    if (net !== undefined) return TRANSIENT_NETWORK.has(net) ? 'transient' : 'unreachable';
    return 'unknown';
  }
  return 'refused';
}

function toSurgeError(err: unknown, kind: Kind, ctx: AwsCallContext, attempts: number, profile: string | undefined): SurgeError {
  const name = errorName(err);
  const message = redact(errorMessage(err));
  const what = `${ctx.command} for ${ctx.target}`;
  switch (kind) {
    case 'no-credentials':
      return new SurgeError('SRG_AWS_CONFIG', `No usable AWS credentials for ${what}${profile ? ` (profile ${profile})` : ''}: ${message}`, { hint: CREDENTIALS_HINT, cause: err });
    case 'bad-credentials':
      return new SurgeError('SRG_AWS_CONFIG', `AWS Auto Scaling (${ctx.region}) rejected the credentials for ${what}${profile ? ` (profile ${profile})` : ''}: ${name}: ${message}`, {
        hint: `Renew or replace the credentials (expired session? wrong profile?). ${CREDENTIALS_HINT}`,
        cause: err,
      });
    case 'throttled':
      return new SurgeError('SRG_AWS_API', `AWS Auto Scaling (${ctx.region}) kept throttling ${what} (${name}, throttling or contention) after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${message}`, {
        hint: 'Too many Auto Scaling calls in this account and region right now; wait a minute and rerun (every step is idempotent).',
        cause: err,
      });
    case 'transient':
    case 'unreachable':
      return new SurgeError('SRG_AWS_UNREACHABLE', `AWS Auto Scaling (${ctx.region}) did not answer ${what}${attempts > 1 ? ` after ${attempts} attempts` : ''}: ${networkCode(err) ?? name}: ${message}`, {
        hint: `Check the network path to autoscaling.${ctx.region}.amazonaws.com (DNS, proxy via HTTPS_PROXY, VPC endpoint) and that the region is right.`,
        cause: err,
      });
    case 'refused':
      return awsRefusal(ctx, name, errorMessage(err), err);
    case 'unknown':
      return new SurgeError('SRG_AWS_API', `AWS Auto Scaling (${ctx.region}) ${what} failed: ${name}: ${message}`, { cause: err });
  }
}

/** Only the sizes that are set: an explicit `undefined` key would still be serialised by some paths and reads as "change this". */
function awsSizes(sizes: Partial<GroupSizes>): Pick<UpdateAutoScalingGroupCommandInput, 'MinSize' | 'DesiredCapacity' | 'MaxSize'> {
  return {
    ...(sizes.minSize !== undefined ? { MinSize: sizes.minSize } : {}),
    ...(sizes.desiredCapacity !== undefined ? { DesiredCapacity: sizes.desiredCapacity } : {}),
    ...(sizes.maxSize !== undefined ? { MaxSize: sizes.maxSize } : {}),
  };
}

function toGroupState(g: AutoScalingGroup): AutoScalingGroupState | undefined {
  if (!g.AutoScalingGroupName) return undefined;
  const instances = g.Instances ?? [];
  return {
    name: g.AutoScalingGroupName,
    minSize: g.MinSize ?? 0,
    desiredCapacity: g.DesiredCapacity ?? 0,
    maxSize: g.MaxSize ?? 0,
    // Pending, unhealthy or terminating instances do not serve traffic yet (or any more).
    inService: instances.filter((i) => i.LifecycleState === 'InService' && i.HealthStatus === 'Healthy').length,
    instances: instances.length,
  };
}

function toScheduledAction(a: ScheduledUpdateGroupAction, groupName: string): ScheduledAction {
  // `Time` is the deprecated alias of StartTime that older actions may still carry.
  const start = a.StartTime ?? a.Time;
  return {
    groupName: a.AutoScalingGroupName ?? groupName,
    name: a.ScheduledActionName ?? '',
    startTime: start ? start.getTime() : 0,
    ...(a.EndTime ? { endTime: a.EndTime.getTime() } : {}),
    ...(a.Recurrence ? { recurrence: a.Recurrence } : {}),
    ...(a.TimeZone ? { timeZone: a.TimeZone } : {}),
    ...(a.MinSize !== undefined ? { minSize: a.MinSize } : {}),
    ...(a.DesiredCapacity !== undefined ? { desiredCapacity: a.DesiredCapacity } : {}),
    ...(a.MaxSize !== undefined ? { maxSize: a.MaxSize } : {}),
  };
}

function describeTarget(names: readonly string[]): string {
  const shown = names.slice(0, 3).join(', ');
  return `group${names.length === 1 ? '' : 's'} ${shown}${names.length > 3 ? ` (+${names.length - 3} more)` : ''}`;
}

function nonEmpty(v: string | undefined): string | undefined {
  const t = v?.trim();
  return t ? t : undefined;
}

function errorName(err: unknown): string {
  if (err && typeof err === 'object') {
    const { name, Code } = err as { name?: unknown; Code?: unknown };
    if (typeof Code === 'string' && Code) return Code;
    if (typeof name === 'string' && name) return name;
  }
  return 'Error';
}

function errorMessage(err: unknown): string {
  const m = err instanceof Error ? err.message : typeof err === 'string' ? err : String(err);
  return (m.split('\n')[0] ?? m) || 'no message';
}

function httpStatus(err: unknown): number | undefined {
  const status = (err as { $metadata?: { httpStatusCode?: unknown } } | undefined)?.$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

/** The socket error code of a failure that got no answer, looking through `cause` (fetch wraps them). */
function networkCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 3 && e && typeof e === 'object'; depth++) {
    const { code, name, cause } = e as { code?: unknown; name?: unknown; cause?: unknown };
    if (typeof code === 'string' && NETWORK.has(code)) return code;
    if (typeof name === 'string' && NETWORK.has(name)) return name;
    e = cause;
  }
  return undefined;
}
