import { request } from 'undici';
import { SurgeError } from '../../errors.js';
import { isHttpUrl } from '../../util/url.js';
import type { UnleashFeature, UnleashPort, UnleashStrategy } from './port.js';
import { transportFailureReason } from '../../util/transport-failure.js';

export interface UnleashOptions {
  /** Base URL of the Unleash server, e.g. `http://127.0.0.1:4242` (a trailing `/api` is not needed). */
  url: string;
  /** An admin API token (or a personal access token); sent as `Authorization`, never printed. */
  token: string;
  /** Per-call timeout, ms. Default 10 000. */
  timeoutMs?: number;
}

type Method = 'GET' | 'POST';

/**
 * The real Unleash Admin API client, on undici.
 * @throws SurgeError SRG_CLI_USAGE when `url` is not an http(s) URL (before any request).
 */
export function createUnleash(opts: UnleashOptions): UnleashPort {
  if (!isHttpUrl(opts.url)) {
    throw new SurgeError('SRG_CLI_USAGE', `Not a URL: '${opts.url}'`, { hint: 'Pass the Unleash server URL, e.g. --unleash-url http://127.0.0.1:4242' });
  }
  const base = opts.url.replace(/\/+$/, '').replace(/\/api$/, '');
  const timeoutMs = opts.timeoutMs ?? 10_000;

  async function call<T>(method: Method, path: string, what: () => SurgeError | undefined = () => undefined): Promise<T> {
    let status: number;
    let text: string;
    try {
      const res = await request(base + path, {
        method,
        headers: { authorization: opts.token, accept: 'application/json', ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) },
        body: method === 'POST' ? '{}' : undefined,
        signal: AbortSignal.timeout(timeoutMs),
      });
      status = res.statusCode;
      text = await res.body.text();
    } catch (err) {
      const why = transportFailureReason(err, base, timeoutMs);
      throw new SurgeError('SRG_FLAGS_UNREACHABLE', `The Unleash server at ${base} did not answer ${method} ${path}: ${why}`, {
        hint: 'Check --unleash-url (or flags.unleashUrl) and that the server is running.',
        cause: err,
      });
    }
    if (status === 401 || status === 403) {
      throw new SurgeError('SRG_FLAGS_AUTH', `The Unleash server at ${base} refused the token with ${status} on ${method} ${path}: ${serverMessage(text)}`, {
        hint: 'The token needs admin rights (an admin API token `*:*.…` or a personal access token); a client or frontend token is refused. Set UNLEASH_ADMIN_TOKEN or flags.credentialsFile.',
      });
    }
    if (status === 404) {
      throw what() ?? new SurgeError('SRG_FLAGS_UNKNOWN', `The Unleash server at ${base} has no ${method} ${path}: ${serverMessage(text)}`);
    }
    if (status >= 400) {
      throw new SurgeError('SRG_FLAGS_API', `The Unleash server at ${base} answered ${status} to ${method} ${path}: ${serverMessage(text)}`);
    }
    if (text === '') return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch (cause) {
      throw new SurgeError('SRG_FLAGS_API', `The server at ${base} answered ${method} ${path} with a body that is not JSON`, {
        hint: 'Check that --unleash-url points at an Unleash server.',
        cause,
      });
    }
  }

  const enc = encodeURIComponent;
  const projects = async () => (await call<{ projects: { id: string }[] }>('GET', '/api/admin/projects')).projects.map((p) => p.id);
  async function requireProject(project: string): Promise<void> {
    const known = await projects();
    if (!known.includes(project)) {
      throw new SurgeError('SRG_FLAGS_UNKNOWN', `The Unleash server at ${base} has no project '${project}'`, {
        hint: `Projects there: ${known.join(', ') || '(none)'}. Pass --project or set flags.project.`,
      });
    }
  }

  return {
    url: base,
    projects,
    environments: async () => (await call<{ environments: { name: string; enabled: boolean }[] }>('GET', '/api/admin/environments')).environments.filter((e) => e.enabled).map((e) => e.name),
    async listFeatures(project) {
      await requireProject(project);
      const doc = await call<{ features: { name: string; description?: string | null; type?: string; environments?: { name: string; enabled: boolean; hasStrategies?: boolean }[] }[] }>(
        'GET',
        `/api/admin/projects/${enc(project)}/features`,
      );
      return doc.features.map(
        (f): UnleashFeature => ({
          name: f.name,
          description: f.description ?? '',
          type: f.type ?? 'release',
          environments: (f.environments ?? []).map((e) => ({ name: e.name, enabled: e.enabled, hasStrategies: e.hasStrategies === true })),
        }),
      );
    },
    async strategies(project, name, environment) {
      const list = await call<{ id: string; name: string; disabled?: boolean | null; parameters?: Record<string, string> }[]>(
        'GET',
        `/api/admin/projects/${enc(project)}/features/${enc(name)}/environments/${enc(environment)}/strategies`,
        () => new SurgeError('SRG_FLAGS_UNKNOWN', `The Unleash server at ${base} has no flag '${name}' with environment '${environment}' in project '${project}'`),
      );
      return list.map((s): UnleashStrategy => ({ id: s.id, name: s.name, disabled: s.disabled === true, parameters: s.parameters ?? {} }));
    },
    async toggle(project, name, environment, enabled) {
      await call<void>('POST', `/api/admin/projects/${enc(project)}/features/${enc(name)}/environments/${enc(environment)}/${enabled ? 'on' : 'off'}`, () =>
        new SurgeError('SRG_FLAGS_UNKNOWN', `The Unleash server at ${base} has no flag '${name}' with environment '${environment}' in project '${project}'`, {
          hint: 'List what exists with `surgectl flags list --provider unleash`.',
        }),
      );
    },
  };
}

/** The `message` of an Unleash error body, else the start of the body. */
function serverMessage(text: string): string {
  try {
    const doc = JSON.parse(text) as { message?: unknown };
    if (typeof doc.message === 'string') return doc.message;
  } catch {
    // not JSON: fall through to the raw text
  }
  return text.slice(0, 200) || '(empty body)';
}
