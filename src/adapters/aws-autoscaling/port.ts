/**
 * AWS EC2 Auto Scaling, narrowed to the calls `surgectl scale` makes. The real adapter
 * (aws-autoscaling.ts, @aws-sdk/client-auto-scaling with the standard credential chain) retries
 * throttling with backoff; every method rejects with a SurgeError: SRG_AWS_UNREACHABLE when the
 * API does not answer (exit 3), SRG_AWS_API when it refuses (exit 2; validation errors, access
 * denied, named), SRG_AWS_NOT_FOUND when a named group does not exist.
 */
export interface AutoScalingPort {
  /** The region the client talks to, e.g. `eu-west-1`. */
  readonly region: string;
  /**
   * The named groups as they are now. A name that does not exist is absent from the result (the
   * caller names it in its error); the API is asked in pages of at most 50 names.
   */
  describeGroups(names: readonly string[]): Promise<AutoScalingGroupState[]>;
  /** UpdateAutoScalingGroup with only the given sizes set. */
  updateGroup(name: string, sizes: Partial<GroupSizes>): Promise<void>;
  /** The group's scheduled actions (DescribeScheduledActions), for snapshots and idempotent scheduling. */
  describeScheduledActions(groupName: string): Promise<ScheduledAction[]>;
  /** PutScheduledUpdateGroupAction: creates or replaces the action of that name. */
  putScheduledAction(action: ScheduledAction): Promise<void>;
  /** DeleteScheduledAction; deleting one that does not exist is not an error. */
  deleteScheduledAction(groupName: string, actionName: string): Promise<void>;
}

/** Min, desired and max capacity of a group, in instances. */
export interface GroupSizes {
  minSize: number;
  desiredCapacity: number;
  maxSize: number;
}

/** One group as DescribeAutoScalingGroups reports it. */
export interface AutoScalingGroupState extends GroupSizes {
  name: string;
  /**
   * Instances in service and healthy. The SDK's waitUntilGroupInService only waits for MinSize;
   * surgectl waits until this reaches desiredCapacity.
   */
  inService: number;
  /** All instances of the group, whatever their lifecycle state. */
  instances: number;
}

/** A scheduled update of a group's sizes (PutScheduledUpdateGroupAction). */
export interface ScheduledAction {
  groupName: string;
  name: string;
  /** When it runs, epoch ms (UTC). */
  startTime: number;
  /** When a recurring action stops recurring, epoch ms; absent for a one-off. */
  endTime?: number;
  /** Cron expression (UTC unless timeZone), absent for a one-off. */
  recurrence?: string;
  timeZone?: string;
  minSize?: number;
  desiredCapacity?: number;
  maxSize?: number;
}
