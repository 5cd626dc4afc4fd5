import { awsRefusal, checkScheduledTimes, type AwsCallContext } from './aws-errors.js';
import type { AutoScalingGroupState, AutoScalingPort, GroupSizes, ScheduledAction } from './port.js';

/** The port's methods, as named in `calls` and `failNext`. */
export type AutoScalingMethod = 'describeGroups' | 'updateGroup' | 'describeScheduledActions' | 'putScheduledAction' | 'deleteScheduledAction';

/** The methods that change something in AWS; filter `calls` by these to assert "nothing changed". */
export const MUTATING_METHODS: readonly AutoScalingMethod[] = ['updateGroup', 'putScheduledAction', 'deleteScheduledAction'];

/** One call made to the fake, with its arguments as passed (failed calls included). */
export interface FakeAutoScalingCall {
  method: AutoScalingMethod;
  args: unknown[];
}

export interface FakeAutoScaling extends AutoScalingPort {
  /** The groups by name; read them to assert, set them to seed. Reads return copies, so this is the only way to change state behind the port. */
  readonly groups: Map<string, AutoScalingGroupState>;
  /** Scheduled actions by group name. */
  readonly scheduled: Map<string, ScheduledAction[]>;
  /** Every call in order. */
  readonly calls: FakeAutoScalingCall[];
  /** One step of the instances launching or terminating: each group's instances and inService move by one toward desiredCapacity. */
  tick(): void;
  /** The next call of `method` rejects with `error` (queued: two calls inject two failures) and changes nothing. */
  failNext(method: AutoScalingMethod, error: unknown): void;
}

/**
 * An in-memory Auto Scaling with the rules of the real API that `surgectl scale` relies on:
 * unknown names are absent from describeGroups; UpdateAutoScalingGroup refuses a desired capacity
 * outside [min, max] (after applying the new bounds), min above max and negative sizes with
 * AWS's ValidationError text, and otherwise pulls the desired capacity into new bounds as AWS does;
 * updating or scheduling on a missing group is SRG_AWS_NOT_FOUND; deleting a missing action is fine.
 * Errors are built by the same functions as the real adapter's, so messages match.
 */
export function createFakeAutoScaling(groups: AutoScalingGroupState[] = [], opts: { region?: string } = {}): FakeAutoScaling {
  const region = opts.region ?? 'eu-west-1';
  const failures = new Map<AutoScalingMethod, unknown[]>();
  const ctx = (command: string, target: string): AwsCallContext => ({ region, command, target });

  /** Logs the call and throws an injected failure, if one is queued. */
  const enter = (method: AutoScalingMethod, args: unknown[]): void => {
    fake.calls.push({ method, args: structuredClone(args) });
    const queued = failures.get(method);
    if (queued && queued.length > 0) throw queued.shift();
  };

  const fake: FakeAutoScaling = {
    region,
    groups: new Map(groups.map((g) => [g.name, { ...g }])),
    scheduled: new Map(),
    calls: [],

    async describeGroups(names) {
      enter('describeGroups', [[...names]]);
      return [...new Set(names)].flatMap((n) => {
        const g = fake.groups.get(n);
        return g ? [{ ...g }] : [];
      });
    },

    async updateGroup(name, sizes) {
      enter('updateGroup', [name, { ...sizes }]);
      const c = ctx('UpdateAutoScalingGroup', `group ${name}`);
      const g = fake.groups.get(name);
      if (!g) throw awsRefusal(c, 'ValidationError', 'AutoScalingGroup name not found - null');
      const next = applySizes(g, sizes);
      if (typeof next === 'string') throw awsRefusal(c, 'ValidationError', next);
      Object.assign(g, next);
    },

    async describeScheduledActions(groupName) {
      enter('describeScheduledActions', [groupName]);
      return (fake.scheduled.get(groupName) ?? []).map((a) => ({ ...a }));
    },

    async putScheduledAction(action) {
      enter('putScheduledAction', [{ ...action }]);
      const c = ctx('PutScheduledUpdateGroupAction', `scheduled action ${action.groupName}/${action.name}`);
      checkScheduledTimes(action, c);
      if (!fake.groups.has(action.groupName)) throw awsRefusal(c, 'ValidationError', 'AutoScalingGroup name not found - null');
      const negative = negativeSize(action);
      if (negative) throw awsRefusal(c, 'ValidationError', negative);
      const list = (fake.scheduled.get(action.groupName) ?? []).filter((a) => a.name !== action.name);
      list.push({ ...action });
      fake.scheduled.set(action.groupName, list);
    },

    async deleteScheduledAction(groupName, actionName) {
      enter('deleteScheduledAction', [groupName, actionName]);
      const list = fake.scheduled.get(groupName);
      if (list) fake.scheduled.set(groupName, list.filter((a) => a.name !== actionName));
    },

    tick() {
      for (const g of fake.groups.values()) {
        g.instances += Math.sign(g.desiredCapacity - g.instances);
        g.inService = Math.min(g.inService + Math.sign(g.desiredCapacity - g.inService), g.instances);
      }
    },

    failNext(method, error) {
      failures.set(method, [...(failures.get(method) ?? []), error]);
    },
  };
  return fake;
}

/**
 * The sizes a group has after UpdateAutoScalingGroup, or AWS's ValidationError message. Without
 * an explicit desired capacity AWS moves the current one into the new [min, max].
 */
function applySizes(g: GroupSizes, sizes: Partial<GroupSizes>): GroupSizes | string {
  const negative = negativeSize(sizes);
  if (negative) return negative;
  const minSize = sizes.minSize ?? g.minSize;
  const maxSize = sizes.maxSize ?? g.maxSize;
  if (minSize > maxSize) return `Max bound, ${maxSize}, must be greater than or equal to min bound, ${minSize}`;
  if (sizes.desiredCapacity !== undefined && (sizes.desiredCapacity < minSize || sizes.desiredCapacity > maxSize)) {
    return `Desired capacity:${sizes.desiredCapacity} must be between the specified min size:${minSize} and max size:${maxSize}`;
  }
  const desiredCapacity = sizes.desiredCapacity ?? Math.min(Math.max(g.desiredCapacity, minSize), maxSize);
  return { minSize, desiredCapacity, maxSize };
}

/** AWS's model validation message for a negative size, or undefined. */
function negativeSize(sizes: Partial<GroupSizes>): string | undefined {
  for (const key of ['minSize', 'maxSize', 'desiredCapacity'] as const) {
    const v = sizes[key];
    if (v !== undefined && v < 0) return `1 validation error detected: Value '${v}' at '${key}' failed to satisfy constraint: Member must have value greater than or equal to 0`;
  }
  return undefined;
}
