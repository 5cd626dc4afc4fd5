import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AutoScalingClient,
  AutoScalingServiceException,
  DeleteScheduledActionCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeScheduledActionsCommand,
  PutScheduledUpdateGroupActionCommand,
  ResourceContentionFault,
  UpdateAutoScalingGroupCommand,
  type DeleteScheduledActionCommandInput,
  type DescribeAutoScalingGroupsCommandInput,
  type DescribeScheduledActionsCommandInput,
  type Instance,
  type PutScheduledUpdateGroupActionCommandInput,
  type ScheduledUpdateGroupAction,
  type UpdateAutoScalingGroupCommandInput,
} from '@aws-sdk/client-auto-scaling';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SurgeError } from '../../errors.js';
import { BASE_DELAY_MS, createAutoScaling, DEFAULT_MAX_ATTEMPTS, type AutoScalingOptions } from './aws-autoscaling.js';
import { createFakeAutoScaling, MUTATING_METHODS } from './fake.js';
import type { AutoScalingGroupState, AutoScalingPort, ScheduledAction } from './port.js';

const REGION = 'eu-west-1';
const group = (name: string, minSize: number, desiredCapacity: number, maxSize: number, inService = desiredCapacity): AutoScalingGroupState => ({
  name,
  minSize,
  desiredCapacity,
  maxSize,
  inService,
  instances: inService,
});
const blackFriday: ScheduledAction = {
  groupName: 'web',
  name: 'black-friday',
  startTime: Date.UTC(2030, 10, 29, 6, 0),
  endTime: Date.UTC(2030, 11, 2, 0, 0),
  recurrence: '0 6 * * *',
  timeZone: 'Europe/Paris',
  minSize: 10,
  desiredCapacity: 12,
  maxSize: 40,
};

/** An AWS service error as the SDK's deserializer builds it (unmodeled codes keep their wire name). */
function awsError(name: string, message: string, httpStatusCode = 400): AutoScalingServiceException {
  return new AutoScalingServiceException({ name, message, $fault: httpStatusCode >= 500 ? 'server' : 'client', $metadata: { httpStatusCode, requestId: 'req-1', attempts: 1, totalRetryDelay: 0 } });
}

/**
 * A small simulation of the Auto Scaling API behind aws-sdk-client-mock, written from AWS's
 * documented behaviour independently of fake.ts, so the contract suite compares two models.
 */
class AwsSim {
  readonly groups = new Map<string, AutoScalingGroupState>();
  readonly actions = new Map<string, ScheduledUpdateGroupAction[]>();
  /** MaxRecords when the request sets none (AWS: 50). */
  pageSize = 50;
  /** Errors the next calls of a command answer with, in order. */
  private readonly injected = new Map<string, unknown[]>();

  inject(command: string, ...errors: unknown[]): void {
    this.injected.set(command, [...(this.injected.get(command) ?? []), ...errors]);
  }

  private failIfInjected(command: string): void {
    const q = this.injected.get(command);
    if (q && q.length > 0) throw q.shift();
  }

  describeGroups(input: DescribeAutoScalingGroupsCommandInput) {
    this.failIfInjected('DescribeAutoScalingGroups');
    const names = input.AutoScalingGroupNames?.length ? input.AutoScalingGroupNames : [...this.groups.keys()];
    const found = [...new Set(names)].filter((n) => this.groups.has(n)).sort();
    const { start, end, next } = this.page(input.NextToken, input.MaxRecords, found.length);
    return {
      AutoScalingGroups: found.slice(start, end).map((n) => {
        const g = this.groups.get(n)!;
        const instances: Instance[] = Array.from({ length: g.instances }, (_, i) => ({
          InstanceId: `i-${n}-${i}`,
          AvailabilityZone: `${REGION}a`,
          LifecycleState: i < g.inService ? 'InService' : 'Pending',
          HealthStatus: 'Healthy',
          ProtectedFromScaleIn: false,
        }));
        return { AutoScalingGroupName: n, MinSize: g.minSize, MaxSize: g.maxSize, DesiredCapacity: g.desiredCapacity, DefaultCooldown: 300, AvailabilityZones: [`${REGION}a`], HealthCheckType: 'EC2', CreatedTime: new Date(0), Instances: instances };
      }),
      ...(next ? { NextToken: next } : {}),
    };
  }

  update(input: UpdateAutoScalingGroupCommandInput) {
    this.failIfInjected('UpdateAutoScalingGroup');
    const g = input.AutoScalingGroupName ? this.groups.get(input.AutoScalingGroupName) : undefined;
    if (!g) throw awsError('ValidationError', 'AutoScalingGroup name not found - null');
    this.rejectNegative(input);
    const min = input.MinSize ?? g.minSize;
    const max = input.MaxSize ?? g.maxSize;
    if (min > max) throw awsError('ValidationError', `Max bound, ${max}, must be greater than or equal to min bound, ${min}`);
    const desired = input.DesiredCapacity;
    if (desired !== undefined && (desired > max || desired < min)) {
      throw awsError('ValidationError', `Desired capacity:${desired} must be between the specified min size:${min} and max size:${max}`);
    }
    g.minSize = min;
    g.maxSize = max;
    g.desiredCapacity = desired ?? Math.max(min, Math.min(max, g.desiredCapacity));
    return {};
  }

  describeActions(input: DescribeScheduledActionsCommandInput) {
    this.failIfInjected('DescribeScheduledActions');
    const all = this.actions.get(input.AutoScalingGroupName ?? '') ?? [];
    const { start, end, next } = this.page(input.NextToken, input.MaxRecords, all.length);
    return { ScheduledUpdateGroupActions: all.slice(start, end).map((a) => ({ ...a, ScheduledActionARN: `arn:aws:autoscaling:${REGION}:123456789012:scheduledUpdateGroupAction:x:autoScalingGroupName/${a.AutoScalingGroupName}:scheduledActionName/${a.ScheduledActionName}` })), ...(next ? { NextToken: next } : {}) };
  }

  put(input: PutScheduledUpdateGroupActionCommandInput) {
    this.failIfInjected('PutScheduledUpdateGroupAction');
    const name = input.AutoScalingGroupName ?? '';
    if (!this.groups.has(name)) throw awsError('ValidationError', 'AutoScalingGroup name not found - null');
    this.rejectNegative(input);
    const list = (this.actions.get(name) ?? []).filter((a) => a.ScheduledActionName !== input.ScheduledActionName);
    list.push({ ...input, Time: input.StartTime });
    this.actions.set(name, list);
    return {};
  }

  delete(input: DeleteScheduledActionCommandInput) {
    this.failIfInjected('DeleteScheduledAction');
    const list = this.actions.get(input.AutoScalingGroupName ?? '') ?? [];
    if (!list.some((a) => a.ScheduledActionName === input.ScheduledActionName)) throw awsError('ValidationError', 'Scheduled Update Group Action name not found - null');
    this.actions.set(input.AutoScalingGroupName ?? '', list.filter((a) => a.ScheduledActionName !== input.ScheduledActionName));
    return {};
  }

  /** Instances launching/terminating, one step per group (the same model as the fake's tick). */
  tick(): void {
    for (const g of this.groups.values()) {
      g.instances += Math.sign(g.desiredCapacity - g.instances);
      g.inService = Math.min(g.inService + Math.sign(g.desiredCapacity - g.inService), g.instances);
    }
  }

  private rejectNegative(input: { MinSize?: number | undefined; MaxSize?: number | undefined; DesiredCapacity?: number | undefined }): void {
    for (const [key, v] of [['minSize', input.MinSize], ['maxSize', input.MaxSize], ['desiredCapacity', input.DesiredCapacity]] as const) {
      if (v !== undefined && v < 0) throw awsError('ValidationError', `1 validation error detected: Value '${v}' at '${key}' failed to satisfy constraint: Member must have value greater than or equal to 0`);
    }
  }

  private page(token: string | undefined, maxRecords: number | undefined, total: number): { start: number; end: number; next: string | undefined } {
    let start = 0;
    if (token !== undefined) {
      const m = /^page-(\d+)$/.exec(token);
      if (!m) throw awsError('InvalidNextToken', 'The token is invalid');
      start = Number(m[1]);
    }
    const end = start + (maxRecords ?? this.pageSize);
    return { start, end, next: end < total ? `page-${end}` : undefined };
  }
}

interface RealSetup {
  port: AutoScalingPort;
  sim: AwsSim;
  mock: AwsClientStub<AutoScalingClient>;
  sleeps: number[];
}

/** The real adapter over aws-sdk-client-mock (at the client's send()), backed by an AwsSim. */
function realOverSim(opts: Omit<AutoScalingOptions, 'client' | 'sleep'> = {}): RealSetup {
  const sim = new AwsSim();
  const client = new AutoScalingClient({ region: REGION });
  const mock = mockClient(client);
  mock.on(DescribeAutoScalingGroupsCommand).callsFake((input: DescribeAutoScalingGroupsCommandInput) => sim.describeGroups(input));
  mock.on(UpdateAutoScalingGroupCommand).callsFake((input: UpdateAutoScalingGroupCommandInput) => sim.update(input));
  mock.on(DescribeScheduledActionsCommand).callsFake((input: DescribeScheduledActionsCommandInput) => sim.describeActions(input));
  mock.on(PutScheduledUpdateGroupActionCommand).callsFake((input: PutScheduledUpdateGroupActionCommandInput) => sim.put(input));
  mock.on(DeleteScheduledActionCommand).callsFake((input: DeleteScheduledActionCommandInput) => sim.delete(input));
  const sleeps: number[] = [];
  const port = createAutoScaling({ region: REGION, client, sleep: async (ms) => void sleeps.push(ms), ...opts });
  return { port, sim, mock, sleeps };
}

/** What the suite needs from each implementation besides the port itself. */
interface Harness {
  port: AutoScalingPort;
  seed(...groups: AutoScalingGroupState[]): void;
  stored(name: string): AutoScalingGroupState | undefined;
  tick(): void;
}

function contract(name: string, setup: () => Harness) {
  describe(`AutoScalingPort contract: ${name}`, () => {
    let h: Harness;
    beforeEach(() => {
      h = setup();
      h.seed(group('web', 2, 4, 10), group('api', 1, 1, 3), group('worker', 0, 0, 5));
    });

    it('reports its region', () => {
      expect(h.port.region).toBe(REGION);
    });

    it('describes the named groups in the order asked, omitting unknown names', async () => {
      expect(await h.port.describeGroups(['api', 'nope', 'web'])).toEqual([group('api', 1, 1, 3), group('web', 2, 4, 10)]);
      expect(await h.port.describeGroups(['nope'])).toEqual([]);
      expect(await h.port.describeGroups([])).toEqual([]);
    });

    it('describes 120 groups (more than one page of names)', async () => {
      const names = Array.from({ length: 120 }, (_, i) => `shard-${String(i).padStart(3, '0')}`);
      h.seed(...names.map((n, i) => group(n, 1, 1 + (i % 3), 5)));
      const described = await h.port.describeGroups(names);
      expect(described.map((g) => g.name)).toEqual(names);
      expect(described[119]).toEqual(group('shard-119', 1, 3, 5));
    });

    it('counts in-service instances separately from all instances, and they reach the desired capacity as instances launch', async () => {
      await h.port.updateGroup('web', { desiredCapacity: 6 });
      expect(await h.port.describeGroups(['web'])).toEqual([{ name: 'web', minSize: 2, desiredCapacity: 6, maxSize: 10, inService: 4, instances: 4 }]);
      h.tick();
      expect((await h.port.describeGroups(['web']))[0]).toMatchObject({ inService: 5, instances: 5 });
      h.tick();
      h.tick();
      expect((await h.port.describeGroups(['web']))[0]).toMatchObject({ inService: 6, instances: 6 });
    });

    it('updates only the sizes given', async () => {
      await h.port.updateGroup('web', { maxSize: 20 });
      expect(h.stored('web')).toMatchObject({ minSize: 2, desiredCapacity: 4, maxSize: 20 });
      await h.port.updateGroup('web', { minSize: 8, desiredCapacity: 12 });
      expect(h.stored('web')).toMatchObject({ minSize: 8, desiredCapacity: 12, maxSize: 20 });
      await h.port.updateGroup('web', {});
      expect(h.stored('web')).toMatchObject({ minSize: 8, desiredCapacity: 12, maxSize: 20 });
    });

    it('pulls the desired capacity into new bounds when none is given, as AWS does', async () => {
      await h.port.updateGroup('web', { minSize: 6 });
      expect(h.stored('web')).toMatchObject({ minSize: 6, desiredCapacity: 6, maxSize: 10 });
      await h.port.updateGroup('web', { minSize: 1, maxSize: 3 });
      expect(h.stored('web')).toMatchObject({ minSize: 1, desiredCapacity: 3, maxSize: 3 });
    });

    it('refuses a desired capacity outside [min, max] with AWS ValidationError text, changing nothing', async () => {
      await expect(h.port.updateGroup('web', { desiredCapacity: 12 })).rejects.toMatchObject({
        code: 'SRG_AWS_API',
        exitCode: 2,
        message: `AWS Auto Scaling (${REGION}) refused UpdateAutoScalingGroup for group web: ValidationError: Desired capacity:12 must be between the specified min size:2 and max size:10`,
      });
      // The new max counts: 12 fits once max is 20, but not 25 with max 20.
      await expect(h.port.updateGroup('web', { maxSize: 20, desiredCapacity: 25 })).rejects.toThrow('Desired capacity:25 must be between the specified min size:2 and max size:20');
      await expect(h.port.updateGroup('web', { minSize: 3, desiredCapacity: 2 })).rejects.toThrow('Desired capacity:2 must be between the specified min size:3 and max size:10');
      await expect(h.port.updateGroup('web', { minSize: 11 })).rejects.toThrow('Max bound, 10, must be greater than or equal to min bound, 11');
      await expect(h.port.updateGroup('web', { desiredCapacity: -1 })).rejects.toMatchObject({ code: 'SRG_AWS_API', message: expect.stringContaining("Value '-1' at 'desiredCapacity'") });
      expect(h.stored('web')).toEqual(group('web', 2, 4, 10));
      await h.port.updateGroup('web', { maxSize: 20, desiredCapacity: 12 });
      expect(h.stored('web')).toMatchObject({ desiredCapacity: 12, maxSize: 20 });
    });

    it('says a group that does not exist is not found', async () => {
      await expect(h.port.updateGroup('ghost', { desiredCapacity: 1 })).rejects.toMatchObject({
        code: 'SRG_AWS_NOT_FOUND',
        exitCode: 2,
        message: `AWS Auto Scaling (${REGION}) refused UpdateAutoScalingGroup for group ghost: ValidationError: AutoScalingGroup name not found - null`,
        hint: expect.stringContaining(`--region ${REGION}`),
      });
      await expect(h.port.putScheduledAction({ ...blackFriday, groupName: 'ghost' })).rejects.toMatchObject({ code: 'SRG_AWS_NOT_FOUND' });
    });

    it('puts, lists, replaces and deletes scheduled actions; deleting a missing one is fine', async () => {
      expect(await h.port.describeScheduledActions('web')).toEqual([]);
      await h.port.putScheduledAction(blackFriday);
      const oneOff: ScheduledAction = { groupName: 'web', name: 'cyber-monday', startTime: Date.UTC(2030, 11, 2, 5, 30), desiredCapacity: 8 };
      await h.port.putScheduledAction(oneOff);
      expect(await h.port.describeScheduledActions('web')).toEqual([blackFriday, oneOff]);
      expect(await h.port.describeScheduledActions('api')).toEqual([]);
      await h.port.putScheduledAction({ ...oneOff, desiredCapacity: 9 });
      expect((await h.port.describeScheduledActions('web')).find((a) => a.name === 'cyber-monday')).toEqual({ ...oneOff, desiredCapacity: 9 });
      await h.port.deleteScheduledAction('web', 'black-friday');
      expect((await h.port.describeScheduledActions('web')).map((a) => a.name)).toEqual(['cyber-monday']);
      await expect(h.port.deleteScheduledAction('web', 'black-friday')).resolves.toBeUndefined();
      await expect(h.port.deleteScheduledAction('api', 'never-existed')).resolves.toBeUndefined();
    });

    it('refuses a scheduled action whose time is not epoch ms, before sending it', async () => {
      await expect(h.port.putScheduledAction({ ...blackFriday, startTime: Number.NaN })).rejects.toMatchObject({
        code: 'SRG_AWS_API',
        message: `Cannot send PutScheduledUpdateGroupAction for scheduled action web/black-friday: startTime must be a time in epoch milliseconds, got NaN`,
      });
      expect(await h.port.describeScheduledActions('web')).toEqual([]);
    });
  });
}

contract('fake', () => {
  const fake = createFakeAutoScaling([], { region: REGION });
  return {
    port: fake,
    seed: (...groups) => groups.forEach((g) => fake.groups.set(g.name, { ...g })),
    stored: (n) => fake.groups.get(n),
    tick: () => fake.tick(),
  };
});

contract('real adapter over aws-sdk-client-mock', () => {
  const { port, sim } = realOverSim();
  return {
    port,
    seed: (...groups) => groups.forEach((g) => sim.groups.set(g.name, { ...g })),
    stored: (n) => sim.groups.get(n),
    tick: () => sim.tick(),
  };
});

describe('fake test controls', () => {
  it('logs calls, so a test can assert nothing changed', async () => {
    const fake = createFakeAutoScaling([group('web', 1, 2, 4)]);
    await fake.describeGroups(['web']);
    await fake.updateGroup('web', { desiredCapacity: 3 });
    expect(fake.calls).toEqual([
      { method: 'describeGroups', args: [['web']] },
      { method: 'updateGroup', args: ['web', { desiredCapacity: 3 }] },
    ]);
    expect(fake.calls.filter((c) => MUTATING_METHODS.includes(c.method)).length).toBe(1);
  });

  it('fails the next call of a method once with the injected error, changing nothing', async () => {
    const fake = createFakeAutoScaling([group('web', 1, 2, 4)]);
    const boom = new SurgeError('SRG_AWS_UNREACHABLE', 'no answer');
    fake.failNext('updateGroup', boom);
    await expect(fake.updateGroup('web', { desiredCapacity: 3 })).rejects.toBe(boom);
    expect(fake.groups.get('web')?.desiredCapacity).toBe(2);
    await fake.updateGroup('web', { desiredCapacity: 3 });
    expect(fake.groups.get('web')?.desiredCapacity).toBe(3);
  });

  it('scales in on tick too, never counting more in service than instances', () => {
    const fake = createFakeAutoScaling([{ name: 'web', minSize: 0, desiredCapacity: 1, maxSize: 4, inService: 2, instances: 3 }]);
    fake.tick();
    expect(fake.groups.get('web')).toMatchObject({ instances: 2, inService: 1 });
    fake.tick();
    expect(fake.groups.get('web')).toMatchObject({ instances: 1, inService: 1 });
  });

  it('returns copies, so callers cannot change its state behind the port', async () => {
    const fake = createFakeAutoScaling([group('web', 1, 2, 4)]);
    const [g] = await fake.describeGroups(['web']);
    g!.desiredCapacity = 99;
    expect(fake.groups.get('web')?.desiredCapacity).toBe(2);
  });
});

describe('real adapter: commands and inputs sent', () => {
  let r: RealSetup;
  beforeEach(() => {
    r = realOverSim();
    r.sim.groups.set('web', group('web', 2, 4, 10));
  });

  it('sends UpdateAutoScalingGroup with only the sizes given (no undefined keys)', async () => {
    await r.port.updateGroup('web', { desiredCapacity: 6 });
    await r.port.updateGroup('web', { minSize: 3, desiredCapacity: 8, maxSize: 12 });
    const inputs = r.mock.commandCalls(UpdateAutoScalingGroupCommand).map((c) => c.args[0].input);
    expect(inputs).toEqual([
      { AutoScalingGroupName: 'web', DesiredCapacity: 6 },
      { AutoScalingGroupName: 'web', MinSize: 3, DesiredCapacity: 8, MaxSize: 12 },
    ]);
    expect(Object.keys(inputs[0]!)).toEqual(['AutoScalingGroupName', 'DesiredCapacity']);
  });

  it('sends PutScheduledUpdateGroupAction with Dates, recurrence, time zone and sizes', async () => {
    await r.port.putScheduledAction(blackFriday);
    await r.port.putScheduledAction({ groupName: 'web', name: 'once', startTime: Date.UTC(2030, 0, 1), maxSize: 30 });
    const inputs = r.mock.commandCalls(PutScheduledUpdateGroupActionCommand).map((c) => c.args[0].input);
    expect(inputs).toEqual([
      {
        AutoScalingGroupName: 'web',
        ScheduledActionName: 'black-friday',
        StartTime: new Date('2030-11-29T06:00:00Z'),
        EndTime: new Date('2030-12-02T00:00:00Z'),
        Recurrence: '0 6 * * *',
        TimeZone: 'Europe/Paris',
        MinSize: 10,
        DesiredCapacity: 12,
        MaxSize: 40,
      },
      { AutoScalingGroupName: 'web', ScheduledActionName: 'once', StartTime: new Date('2030-01-01T00:00:00Z'), MaxSize: 30 },
    ]);
  });

  it('sends DeleteScheduledAction by group and name', async () => {
    await r.port.putScheduledAction(blackFriday);
    await r.port.deleteScheduledAction('web', 'black-friday');
    expect(r.mock.commandCalls(DeleteScheduledActionCommand).map((c) => c.args[0].input)).toEqual([{ AutoScalingGroupName: 'web', ScheduledActionName: 'black-friday' }]);
  });

  it('treats a not-found DeleteScheduledAction as success after one call, without retrying', async () => {
    await expect(r.port.deleteScheduledAction('web', 'gone')).resolves.toBeUndefined();
    expect(r.mock.commandCalls(DeleteScheduledActionCommand)).toHaveLength(1);
    expect(r.sleeps).toEqual([]);
    r.sim.inject('DeleteScheduledAction', awsError('AccessDenied', 'User: arn:aws:iam::123456789012:user/ci is not authorized to perform: autoscaling:DeleteScheduledAction', 403));
    await expect(r.port.deleteScheduledAction('web', 'gone')).rejects.toMatchObject({ code: 'SRG_AWS_API' });
  });

  it('describes 120 names in 3 requests of at most 50 names', async () => {
    const names = Array.from({ length: 120 }, (_, i) => `g${i}`);
    names.forEach((n) => r.sim.groups.set(n, group(n, 0, 1, 2)));
    expect(await r.port.describeGroups(names)).toHaveLength(120);
    const inputs = r.mock.commandCalls(DescribeAutoScalingGroupsCommand).map((c) => c.args[0].input);
    expect(inputs).toEqual([{ AutoScalingGroupNames: names.slice(0, 50) }, { AutoScalingGroupNames: names.slice(50, 100) }, { AutoScalingGroupNames: names.slice(100) }]);
  });

  it('follows NextToken within a request of names when AWS pages the answer', async () => {
    r.sim.pageSize = 20;
    const names = Array.from({ length: 45 }, (_, i) => `g${String(i).padStart(2, '0')}`);
    names.forEach((n) => r.sim.groups.set(n, group(n, 0, 1, 2)));
    expect((await r.port.describeGroups(names)).map((g) => g.name)).toEqual(names);
    const inputs = r.mock.commandCalls(DescribeAutoScalingGroupsCommand).map((c) => c.args[0].input);
    expect(inputs).toEqual([
      { AutoScalingGroupNames: names },
      { AutoScalingGroupNames: names, NextToken: 'page-20' },
      { AutoScalingGroupNames: names, NextToken: 'page-40' },
    ]);
  });

  it('never sends an empty name list (AWS would describe every group) and asks once per distinct name', async () => {
    expect(await r.port.describeGroups([])).toEqual([]);
    expect(r.mock.commandCalls(DescribeAutoScalingGroupsCommand)).toHaveLength(0);
    expect(await r.port.describeGroups(['web', 'web'])).toHaveLength(1);
    expect(r.mock.commandCalls(DescribeAutoScalingGroupsCommand)[0]?.args[0].input).toEqual({ AutoScalingGroupNames: ['web'] });
  });

  it('follows NextToken of DescribeScheduledActions and maps Dates to epoch ms', async () => {
    r.sim.pageSize = 2;
    for (let i = 0; i < 5; i++) await r.port.putScheduledAction({ ...blackFriday, name: `a${i}` });
    const actions = await r.port.describeScheduledActions('web');
    expect(actions.map((a) => a.name)).toEqual(['a0', 'a1', 'a2', 'a3', 'a4']);
    expect(actions[4]).toEqual({ ...blackFriday, name: 'a4' });
    expect(r.mock.commandCalls(DescribeScheduledActionsCommand).map((c) => c.args[0].input)).toEqual([
      { AutoScalingGroupName: 'web' },
      { AutoScalingGroupName: 'web', NextToken: 'page-2' },
      { AutoScalingGroupName: 'web', NextToken: 'page-4' },
    ]);
  });

  it('counts only InService and Healthy instances as in service', async () => {
    r.mock.on(DescribeAutoScalingGroupsCommand).resolvesOnce({
      AutoScalingGroups: [
        {
          AutoScalingGroupName: 'web', MinSize: 2, MaxSize: 10, DesiredCapacity: 5, DefaultCooldown: 300, AvailabilityZones: ['eu-west-1a'], HealthCheckType: 'ELB', CreatedTime: new Date(0),
          Instances: [
            { InstanceId: 'i-1', AvailabilityZone: 'eu-west-1a', LifecycleState: 'InService', HealthStatus: 'Healthy', ProtectedFromScaleIn: false },
            { InstanceId: 'i-2', AvailabilityZone: 'eu-west-1a', LifecycleState: 'InService', HealthStatus: 'Unhealthy', ProtectedFromScaleIn: false },
            { InstanceId: 'i-3', AvailabilityZone: 'eu-west-1a', LifecycleState: 'Pending:Wait', HealthStatus: 'Healthy', ProtectedFromScaleIn: false },
            { InstanceId: 'i-4', AvailabilityZone: 'eu-west-1a', LifecycleState: 'Terminating', HealthStatus: 'Healthy', ProtectedFromScaleIn: false },
            { InstanceId: 'i-5', AvailabilityZone: 'eu-west-1a', LifecycleState: 'InService', HealthStatus: 'Healthy', ProtectedFromScaleIn: false },
          ],
        },
      ],
    });
    expect(await r.port.describeGroups(['web'])).toEqual([{ name: 'web', minSize: 2, desiredCapacity: 5, maxSize: 10, inService: 2, instances: 5 }]);
  });
});

describe('real adapter: retries and failures', () => {
  let r: RealSetup;
  beforeEach(() => {
    r = realOverSim();
    r.sim.groups.set('web', group('web', 2, 4, 10));
  });

  it('retries throttling with growing, jittered delays, then succeeds', async () => {
    const throttle = () => awsError('Throttling', 'Rate exceeded');
    r.sim.inject('UpdateAutoScalingGroup', throttle(), throttle(), throttle());
    await r.port.updateGroup('web', { desiredCapacity: 7 });
    expect(r.mock.commandCalls(UpdateAutoScalingGroupCommand)).toHaveLength(4);
    expect(r.sim.groups.get('web')?.desiredCapacity).toBe(7);
    expect(r.sleeps).toHaveLength(3);
    r.sleeps.forEach((ms, i) => {
      const ceiling = BASE_DELAY_MS * 2 ** i;
      expect(ms).toBeGreaterThanOrEqual(ceiling / 2);
      expect(ms).toBeLessThanOrEqual(ceiling);
    });
    expect(r.sleeps[2]!).toBeGreaterThan(r.sleeps[0]!);
  });

  it.each([
    ['ThrottlingException', awsError('ThrottlingException', 'Rate exceeded')],
    ['RequestLimitExceeded', awsError('RequestLimitExceeded', 'Request limit exceeded.')],
    ['HTTP 429', awsError('TooManyRequests', 'slow down', 429)],
    ['HTTP 503 SlowDown', awsError('SlowDown', 'Please reduce your request rate.', 503)],
    ['ResourceContention', new ResourceContentionFault({ message: 'You already have a pending update to an Auto Scaling resource', $metadata: { httpStatusCode: 500 } })],
  ])('retries %s', async (_label, error) => {
    r.sim.inject('DescribeAutoScalingGroups', error);
    expect(await r.port.describeGroups(['web'])).toHaveLength(1);
    expect(r.mock.commandCalls(DescribeAutoScalingGroupsCommand)).toHaveLength(2);
    expect(r.sleeps).toHaveLength(1);
  });

  it('gives up after maxAttempts of throttling with SRG_AWS_API naming throttling', async () => {
    const limited = realOverSim({ maxAttempts: 3 });
    limited.sim.groups.set('web', group('web', 2, 4, 10));
    limited.sim.inject('UpdateAutoScalingGroup', ...Array.from({ length: 10 }, () => awsError('Throttling', 'Rate exceeded')));
    const err = await limited.port.updateGroup('web', { desiredCapacity: 7 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SurgeError);
    expect(err).toMatchObject({ code: 'SRG_AWS_API', exitCode: 2, message: expect.stringMatching(/throttling.*after 3 attempts: Rate exceeded/), hint: expect.stringContaining('rerun') });
    expect(limited.mock.commandCalls(UpdateAutoScalingGroupCommand)).toHaveLength(3);
    expect(limited.sleeps).toHaveLength(2);
    expect(limited.sim.groups.get('web')?.desiredCapacity).toBe(4);
  });

  it('bounds the default retries: at most DEFAULT_MAX_ATTEMPTS calls and under 10 s of waiting', async () => {
    r.sim.inject('DescribeAutoScalingGroups', ...Array.from({ length: 20 }, () => awsError('Throttling', 'Rate exceeded')));
    await expect(r.port.describeGroups(['web'])).rejects.toMatchObject({ code: 'SRG_AWS_API' });
    expect(r.mock.commandCalls(DescribeAutoScalingGroupsCommand)).toHaveLength(DEFAULT_MAX_ATTEMPTS);
    expect(r.sleeps.reduce((a, b) => a + b, 0)).toBeLessThan(10_000);
  });

  it('names AccessDenied with its message and the IAM action, without retrying', async () => {
    r.sim.inject('UpdateAutoScalingGroup', awsError('AccessDenied', 'User: arn:aws:iam::123456789012:user/ci is not authorized to perform: autoscaling:UpdateAutoScalingGroup', 403));
    await expect(r.port.updateGroup('web', { desiredCapacity: 7 })).rejects.toMatchObject({
      code: 'SRG_AWS_API',
      exitCode: 2,
      message: `AWS Auto Scaling (${REGION}) refused UpdateAutoScalingGroup for group web: AccessDenied: User: arn:aws:iam::123456789012:user/ci is not authorized to perform: autoscaling:UpdateAutoScalingGroup`,
      hint: expect.stringContaining('autoscaling:UpdateAutoScalingGroup'),
    });
    expect(r.mock.commandCalls(UpdateAutoScalingGroupCommand)).toHaveLength(1);
    expect(r.sleeps).toEqual([]);
  });

  it('maps a refused connection to SRG_AWS_UNREACHABLE (exit 3) without retrying', async () => {
    r.sim.inject('DescribeAutoScalingGroups', Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:443'), { code: 'ECONNREFUSED', $metadata: { attempts: 1 } }));
    await expect(r.port.describeGroups(['web'])).rejects.toMatchObject({ code: 'SRG_AWS_UNREACHABLE', exitCode: 3, message: expect.stringContaining('ECONNREFUSED'), hint: expect.stringContaining(`autoscaling.${REGION}.amazonaws.com`) });
    expect(r.sleeps).toEqual([]);
  });

  it('retries timeouts, then reports SRG_AWS_UNREACHABLE', async () => {
    const timeout = () => Object.assign(new Error('Connection timed out after 5000 ms'), { name: 'TimeoutError' });
    r.sim.inject('DescribeAutoScalingGroups', timeout());
    expect(await r.port.describeGroups(['web'])).toHaveLength(1);
    r.sim.inject('DescribeAutoScalingGroups', ...Array.from({ length: 10 }, timeout));
    await expect(r.port.describeGroups(['web'])).rejects.toMatchObject({ code: 'SRG_AWS_UNREACHABLE', exitCode: 3, message: expect.stringContaining(`after ${DEFAULT_MAX_ATTEMPTS} attempts: TimeoutError`) });
  });

  it('maps a missing-credentials error of the chain to SRG_AWS_CONFIG saying how to set them', async () => {
    r.sim.inject('DescribeAutoScalingGroups', Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError', tryNextLink: false }));
    await expect(r.port.describeGroups(['web'])).rejects.toMatchObject({
      code: 'SRG_AWS_CONFIG',
      exitCode: 10,
      message: expect.stringContaining('Could not load credentials from any providers'),
      hint: expect.stringMatching(/AWS_ACCESS_KEY_ID.*AWS_PROFILE.*aws sso login/),
    });
    expect(r.sleeps).toEqual([]);
  });

  it('maps credentials AWS rejects to SRG_AWS_CONFIG and keeps key ids out of the message', async () => {
    r.sim.inject('UpdateAutoScalingGroup', awsError('SignatureDoesNotMatch', 'Signature mismatch for Credential=AKIAIOSFODNN7EXAMPLE/20300101/eu-west-1/autoscaling/aws4_request', 403));
    const err = (await r.port.updateGroup('web', { desiredCapacity: 5 }).catch((e: unknown) => e)) as SurgeError;
    expect(err).toMatchObject({ code: 'SRG_AWS_CONFIG', message: expect.stringContaining('SignatureDoesNotMatch') });
    expect(`${err.message} ${err.hint}`).not.toContain('AKIAIOSFODNN7EXAMPLE');
  });
});

/** A local HTTP server speaking just enough of the Auto Scaling query API: answers each request with the next [status, XML body]. */
interface LocalEndpoint {
  url: string;
  /** The Action of each request, in order. */
  actions: string[];
  /** The Authorization header of each request (to see which access key id signed it). */
  authorizations: string[];
  close(): Promise<void>;
}

async function localEndpoint(answers: Array<[number, string]>): Promise<LocalEndpoint> {
  const actions: string[] = [];
  const authorizations: string[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      actions.push(new URLSearchParams(body).get('Action') ?? '?');
      authorizations.push(req.headers.authorization ?? '');
      const [status, xml] = answers.shift() ?? [500, errorXml('InternalFailure', 'no more answers')];
      res.writeHead(status, { 'content-type': 'text/xml' }).end(xml);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    actions,
    authorizations,
    close: () => new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve())),
  };
}
const ns = 'http://autoscaling.amazonaws.com/doc/2011-01-01/';
const errorXml = (code: string, message: string) => `<ErrorResponse xmlns="${ns}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>r-1</RequestId></ErrorResponse>`;
const describeXml = `<DescribeAutoScalingGroupsResponse xmlns="${ns}"><DescribeAutoScalingGroupsResult><AutoScalingGroups><member><AutoScalingGroupName>web</AutoScalingGroupName><MinSize>2</MinSize><MaxSize>10</MaxSize><DesiredCapacity>3</DesiredCapacity><Instances><member><InstanceId>i-1</InstanceId><LifecycleState>InService</LifecycleState><HealthStatus>Healthy</HealthStatus></member><member><InstanceId>i-2</InstanceId><LifecycleState>Pending</LifecycleState><HealthStatus>Healthy</HealthStatus></member></Instances></member></AutoScalingGroups></DescribeAutoScalingGroupsResult><ResponseMetadata><RequestId>r-2</RequestId></ResponseMetadata></DescribeAutoScalingGroupsResponse>`;

describe('real adapter: region and credentials configuration', () => {
  it('takes the region from --region, else AWS_REGION, else AWS_DEFAULT_REGION', () => {
    const env = { AWS_REGION: 'us-east-1', AWS_DEFAULT_REGION: 'ap-southeast-2' };
    const client = new AutoScalingClient({ region: 'us-east-1' });
    expect(createAutoScaling({ region: 'eu-central-1', env, client }).region).toBe('eu-central-1');
    expect(createAutoScaling({ env, client }).region).toBe('us-east-1');
    expect(createAutoScaling({ env: { AWS_REGION: '', AWS_DEFAULT_REGION: 'ap-southeast-2' }, client }).region).toBe('ap-southeast-2');
    expect(createAutoScaling({ region: 'us-gov-west-1', client }).region).toBe('us-gov-west-1');
  });

  it('refuses to start without a region, naming --region and AWS_REGION', () => {
    expect(() => createAutoScaling({ env: {} })).toThrow(expect.objectContaining({ code: 'SRG_AWS_CONFIG', exitCode: 10, hint: expect.stringMatching(/--region.*AWS_REGION/) }));
  });

  it('refuses a region that is not a region name, saying what is expected', () => {
    expect(() => createAutoScaling({ region: 'Ireland' })).toThrow(expect.objectContaining({ code: 'SRG_AWS_CONFIG', message: '--region "Ireland" is not an AWS region name', hint: expect.stringContaining('eu-west-1') }));
    expect(() => createAutoScaling({ env: { AWS_REGION: 'eu west 1' } })).toThrow('AWS_REGION "eu west 1" is not an AWS region name');
  });

  it('refuses a maxAttempts that is not a whole number of at least 1', () => {
    expect(() => createAutoScaling({ region: REGION, maxAttempts: 0 })).toThrow(expect.objectContaining({ code: 'SRG_AWS_CONFIG', message: 'maxAttempts must be a whole number of at least 1, got 0' }));
  });

  describe('with the SDK credential chain (no mock)', () => {
    let local: LocalEndpoint | undefined;
    let dir: string;
    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'surgectl-aws-'));
      // The SDK reads these from process.env itself; point them at files this test controls.
      await writeFile(join(dir, 'credentials'), '[surgectl-test]\naws_access_key_id = AKIDPROFILETEST\naws_secret_access_key = profile-test-secret\n');
      await writeFile(join(dir, 'config'), '');
      vi.stubEnv('AWS_CONFIG_FILE', join(dir, 'config'));
      vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', join(dir, 'credentials'));
      vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true');
      for (const name of ['AWS_PROFILE', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_ROLE_ARN', 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', 'AWS_CONTAINER_CREDENTIALS_FULL_URI', 'AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_AUTO_SCALING']) {
        vi.stubEnv(name, undefined);
      }
    });
    afterEach(async () => {
      vi.unstubAllEnvs();
      await local?.close();
      local = undefined;
      await rm(dir, { recursive: true, force: true });
    });

    it('signs with the profile named by AWS_PROFILE in the given env, and --profile wins over it', async () => {
      local = await localEndpoint([[200, describeXml], [200, describeXml]]);
      // The SDK's configured-endpoint variable sends the real client to the local server.
      vi.stubEnv('AWS_ENDPOINT_URL_AUTO_SCALING', local.url);
      const fromEnv = createAutoScaling({ env: { AWS_REGION: REGION, AWS_PROFILE: 'surgectl-test' } });
      expect(await fromEnv.describeGroups(['web'])).toHaveLength(1);
      const fromFlag = createAutoScaling({ region: REGION, profile: 'surgectl-test', env: { AWS_PROFILE: 'no-such-profile' } });
      expect(await fromFlag.describeGroups(['web'])).toHaveLength(1);
      expect(local.authorizations).toHaveLength(2);
      for (const auth of local.authorizations) expect(auth).toContain('Credential=AKIDPROFILETEST/');
    });

    it('reports a profile the chain cannot find as SRG_AWS_CONFIG, before any request', async () => {
      local = await localEndpoint([]);
      vi.stubEnv('AWS_ENDPOINT_URL_AUTO_SCALING', local.url);
      const port = createAutoScaling({ env: { AWS_REGION: REGION, AWS_PROFILE: 'surgectl-missing-profile' }, sleep: async () => {} });
      const err = (await port.describeGroups(['web']).catch((e: unknown) => e)) as SurgeError;
      expect(err).toMatchObject({ code: 'SRG_AWS_CONFIG', exitCode: 10, message: expect.stringContaining('(profile surgectl-missing-profile)'), hint: expect.stringContaining('AWS_PROFILE') });
      expect(local.actions).toEqual([]);
    });
  });
});

describe('real adapter against a local endpoint (the SDK parsing real HTTP answers)', () => {
  let local: LocalEndpoint | undefined;
  afterEach(async () => {
    await local?.close();
    local = undefined;
  });
  const client = (url: string) => new AutoScalingClient({ region: REGION, endpoint: url, maxAttempts: 1, credentials: { accessKeyId: 'AKIDLOCALTEST', secretAccessKey: 'local-test-secret' } });

  it('retries real Throttling and ResourceContention answers, then parses the groups', async () => {
    local = await localEndpoint([
      [400, errorXml('Throttling', 'Rate exceeded')],
      [500, errorXml('ResourceContention', 'You already have a pending update')],
      [200, describeXml],
    ]);
    const sleeps: number[] = [];
    const port = createAutoScaling({ region: REGION, client: client(local.url), sleep: async (ms) => void sleeps.push(ms) });
    expect(await port.describeGroups(['web'])).toEqual([{ name: 'web', minSize: 2, desiredCapacity: 3, maxSize: 10, inService: 1, instances: 2 }]);
    expect(local.actions).toEqual(['DescribeAutoScalingGroups', 'DescribeAutoScalingGroups', 'DescribeAutoScalingGroups']);
    expect(sleeps).toHaveLength(2);
  });

  it('maps a real ValidationError and AccessDenied, and treats a real not-found on delete as success', async () => {
    local = await localEndpoint([
      [400, errorXml('ValidationError', 'Desired capacity:12 must be between the specified min size:2 and max size:10')],
      [403, errorXml('AccessDenied', 'User is not authorized to perform: autoscaling:UpdateAutoScalingGroup')],
      [400, errorXml('ValidationError', 'Scheduled Update Group Action name not found - null')],
    ]);
    const port = createAutoScaling({ region: REGION, client: client(local.url), sleep: async () => {} });
    await expect(port.updateGroup('web', { desiredCapacity: 12 })).rejects.toMatchObject({ code: 'SRG_AWS_API', message: expect.stringContaining('ValidationError: Desired capacity:12') });
    await expect(port.updateGroup('web', { desiredCapacity: 5 })).rejects.toMatchObject({ code: 'SRG_AWS_API', message: expect.stringContaining('AccessDenied: User is not authorized') });
    await expect(port.deleteScheduledAction('web', 'gone')).resolves.toBeUndefined();
    expect(local.actions).toEqual(['UpdateAutoScalingGroup', 'UpdateAutoScalingGroup', 'DeleteScheduledAction']);
  });

  it('maps a real refused connection to SRG_AWS_UNREACHABLE', async () => {
    local = await localEndpoint([]);
    const { url } = local;
    await local.close();
    const port = createAutoScaling({ region: REGION, client: client(url), sleep: async () => {} });
    await expect(port.describeGroups(['web'])).rejects.toMatchObject({ code: 'SRG_AWS_UNREACHABLE', exitCode: 3, message: expect.stringContaining('ECONNREFUSED') });
  });
});
