import { describe, expect, it } from 'vitest';
import type { ReplicationPort, ReplicationStatus } from '../adapters/postgres-replication/port.js';
import { regionStatus } from './status.js';

const replica = { applicationName: 'b', clientAddr: '127.0.0.1', state: 'streaming', syncState: 'async', sentLsn: '0/5000000', writeLsn: '0/5000000', flushLsn: '0/5000000', replayLsn: '0/4FFFF00', lagBytes: 256, replayLagSeconds: 0.4 };
const port = (s: ReplicationStatus | Error): ReplicationPort => ({ status: async () => (s instanceof Error ? Promise.reject(s) : s) }) as unknown as ReplicationPort;

describe('regionStatus', () => {
  it('names the primary that takes orders, the standby with its lag as the primary sees it, and a region that does not answer', async () => {
    const stores: Record<string, ReplicationStatus | Error> = {
      'postgres://app:s3cret@a:5432/orders': { role: 'primary', flushLsn: '0/5000000', replicas: [replica], readOnly: false },
      'postgres://app@b:5432/orders': { role: 'standby', replayLsn: '0/4FFFF00', replicas: [], readOnly: true },
      'postgres://app@c:5432/orders': new Error('connect ECONNREFUSED 10.2.0.5:5432'),
    };
    const rows = await regionStatus(
      {
        a: { store: 'postgres://app:s3cret@a:5432/orders', intakeUrl: 'http://a:8080' },
        b: { store: 'postgres://app@b:5432/orders', intakeUrl: 'http://b:8080' },
        c: { store: 'postgres://app@c:5432/orders' },
      },
      { replication: async (url) => port(stores[url] as ReplicationStatus), readyz: async (u) => (u.startsWith('http://a') ? 200 : 503) },
    );
    expect(rows).toEqual([
      { name: 'a', store: 'postgres://a:5432/orders', role: 'primary', readOnly: false, lsn: '0/5000000', replicas: [replica], intake: 'ready', takesTraffic: true },
      { name: 'b', store: 'postgres://b:5432/orders', role: 'standby', readOnly: true, lsn: '0/4FFFF00', lagBytes: 256, replayLagSeconds: 0.4, intake: 'not ready', takesTraffic: false },
      { name: 'c', store: 'postgres://c:5432/orders', role: 'unreachable', error: 'connect ECONNREFUSED 10.2.0.5:5432', intake: 'not configured', takesTraffic: false },
    ]);
  });

  it('a fenced primary takes no orders even with its intake ready', async () => {
    const rows = await regionStatus({ a: { store: 'postgres://app@a/orders', intakeUrl: 'http://a' } }, { replication: async () => port({ role: 'primary', replicas: [], readOnly: true }), readyz: async () => 200 });
    expect(rows[0]).toMatchObject({ role: 'primary', readOnly: true, takesTraffic: false });
  });
});
