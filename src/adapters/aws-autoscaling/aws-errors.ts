import { SurgeError } from '../../errors.js';
import type { ScheduledAction } from './port.js';

/**
 * How AWS Auto Scaling failures become SurgeErrors. Kept free of the SDK so the fake (fake.ts)
 * builds exactly the errors the real adapter does and the contract suite can compare messages.
 */

/** What a failed call was doing, for the message. */
export interface AwsCallContext {
  region: string;
  /** The API action, e.g. `UpdateAutoScalingGroup`. */
  command: string;
  /** What it was about, e.g. `group web` or `scheduled action web/black-friday`. */
  target: string;
}

/**
 * AWS answers "no such group / action" with a ValidationError whose message says so (e.g.
 * "AutoScalingGroup name not found - null"); there is no dedicated error code to test.
 */
export function isNotFound(awsCode: string, awsMessage: string): boolean {
  return awsCode === 'ValidationError' && /not found|does not exist/i.test(awsMessage);
}

/**
 * Access key ids can appear in signature errors; they are not secret but identify a credential,
 * and house rules keep credentials out of every message.
 */
export function redact(text: string): string {
  return text.replace(/\b(?:AKIA|ASIA|AROA|AIDA)[A-Z0-9]{12,}\b/g, '[redacted key id]').replace(/(Credential=)[^,\s]+/g, '$1[redacted]');
}

/** An answer from AWS refusing the call: SRG_AWS_NOT_FOUND for a missing group/action, else SRG_AWS_API. */
export function awsRefusal(ctx: AwsCallContext, awsCode: string, awsMessage: string, cause?: unknown): SurgeError {
  const notFound = isNotFound(awsCode, awsMessage);
  const message = `AWS Auto Scaling (${ctx.region}) refused ${ctx.command} for ${ctx.target}: ${awsCode}: ${redact(awsMessage)}`;
  const hint = notFound
    ? `Check the name and the region (${ctx.region}): aws autoscaling describe-auto-scaling-groups --region ${ctx.region} lists the groups there.`
    : /^AccessDenied|^UnauthorizedOperation/.test(awsCode)
      ? `The credentials in use lack permission for autoscaling:${ctx.command}; grant it in the IAM policy of that user or role.`
      : /^ScalingActivityInProgress/.test(awsCode)
        ? 'A scaling activity of that group is still running; rerun when it has finished (every step is idempotent).'
        : undefined;
  return new SurgeError(notFound ? 'SRG_AWS_NOT_FOUND' : 'SRG_AWS_API', message, { ...(hint ? { hint } : {}), ...(cause === undefined ? {} : { cause }) });
}

/**
 * Refuses an action whose times are not epoch milliseconds before anything is sent (a Date built
 * from NaN would otherwise throw deep in the SDK's serializer).
 */
export function checkScheduledTimes(action: ScheduledAction, ctx: AwsCallContext): void {
  for (const [field, value] of [['startTime', action.startTime], ['endTime', action.endTime]] as const) {
    if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(new Date(value).getTime()))) {
      throw new SurgeError('SRG_AWS_API', `Cannot send ${ctx.command} for ${ctx.target}: ${field} must be a time in epoch milliseconds, got ${String(value)}`);
    }
  }
}
