import { request } from 'undici';
import { SurgeError } from '../../errors.js';
import type { GatewaySettings, PaymentGatewayThread } from './thread.js';

/**
 * The payment gateway simulator of another process (the supervisor of `stack up
 * --intake-replicas/--worker-processes` runs one for all its processes), with the knobs of one on
 * this process's thread: GET and PUT on its /admin/config with the stack's admin token. close()
 * leaves it running: it belongs to the process that started it.
 */
export function remotePaymentGateway(url: string, adminToken: string): PaymentGatewayThread {
  const call = async (method: 'GET' | 'PUT', change?: Partial<GatewaySettings>): Promise<GatewaySettings> => {
    const res = await request(`${url}/admin/config`, {
      method,
      headers: { authorization: `Bearer ${adminToken}`, ...(change !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(change !== undefined ? { body: JSON.stringify(change) } : {}),
      headersTimeout: 5_000,
      bodyTimeout: 5_000,
    });
    const body = (await res.body.json()) as GatewaySettings & { error?: { message?: string } };
    if (res.statusCode === 400) throw new SurgeError('SRG_CONFIG_INVALID', `payment gateway: ${body.error?.message ?? 'invalid settings'}`);
    if (res.statusCode !== 200) throw new Error(`the payment gateway at ${url} answered ${res.statusCode} to ${method} /admin/config`);
    return { failureRate: body.failureRate, latencyMs: body.latencyMs };
  };
  return {
    url,
    getConfig: () => call('GET'),
    setConfig: (change) => call('PUT', change),
    close: async () => undefined,
  };
}
