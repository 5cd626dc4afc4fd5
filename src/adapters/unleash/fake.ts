import { SurgeError } from '../../errors.js';
import type { UnleashFeature, UnleashPort, UnleashStrategy } from './port.js';

interface FakeFlag {
  project: string;
  name: string;
  description: string;
  type: string;
  /** environment -> enabled + strategies. */
  envs: Map<string, { enabled: boolean; strategies: UnleashStrategy[] }>;
}

export interface FakeUnleash extends UnleashPort {
  /** Adds a flag (off everywhere) to `project` (default `default`). */
  createFeature(f: { name: string; description?: string; project?: string; type?: string }): void;
  /** Every call made, in order, e.g. `toggle(default, a, development, false)`. */
  readonly calls: string[];
  /** Makes the next calls fail: `unreachable` (SRG_FLAGS_UNREACHABLE) or `auth` (SRG_FLAGS_AUTH); `undefined` heals. */
  fail(mode: 'unreachable' | 'auth' | undefined, opts?: { afterCalls?: number }): void;
}

/**
 * An in-memory Unleash with the same answers as the real server for the calls surgectl makes
 * (contract.test.ts runs the same cases against both): projects `default`, environments
 * `development` and `production`; switching a flag on where it has no strategy adds a
 * flexibleRollout at 100 %, as Unleash does.
 */
export function createFakeUnleash(init: { url?: string; projects?: string[]; environments?: string[] } = {}): FakeUnleash {
  const url = init.url ?? 'http://unleash.fake';
  const projects = init.projects ?? ['default'];
  const environments = init.environments ?? ['development', 'production'];
  const flags: FakeFlag[] = [];
  const calls: string[] = [];
  let failure: { mode: 'unreachable' | 'auth'; after: number } | undefined;
  let seq = 0;

  function op<T>(name: string, fn: () => T): Promise<T> {
    calls.push(name);
    if (failure) {
      if (failure.after > 0) failure.after--;
      else if (failure.mode === 'unreachable') return Promise.reject(new SurgeError('SRG_FLAGS_UNREACHABLE', `The Unleash server at ${url} did not answer ${name}: ECONNREFUSED`));
      else return Promise.reject(new SurgeError('SRG_FLAGS_AUTH', `The Unleash server at ${url} refused the token with 403 on ${name}`, { hint: 'The token needs admin rights (an admin API token `*:*.…` or a personal access token).' }));
    }
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(err);
    }
  }
  const requireProject = (project: string) => {
    if (!projects.includes(project)) {
      throw new SurgeError('SRG_FLAGS_UNKNOWN', `The Unleash server at ${url} has no project '${project}'`, { hint: `Projects there: ${projects.join(', ')}.` });
    }
  };
  const find = (project: string, name: string, environment: string) => {
    const f = flags.find((x) => x.project === project && x.name === name);
    const env = f?.envs.get(environment);
    if (!f || !env) throw new SurgeError('SRG_FLAGS_UNKNOWN', `The Unleash server at ${url} has no flag '${name}' with environment '${environment}' in project '${project}'`);
    return env;
  };

  return {
    url,
    calls,
    createFeature(f) {
      const project = f.project ?? 'default';
      requireProject(project);
      flags.push({ project, name: f.name, description: f.description ?? '', type: f.type ?? 'release', envs: new Map(environments.map((e) => [e, { enabled: false, strategies: [] }])) });
    },
    fail(mode, opts = {}) {
      failure = mode ? { mode, after: opts.afterCalls ?? 0 } : undefined;
    },
    projects: () => op('projects()', () => [...projects]),
    environments: () => op('environments()', () => [...environments]),
    listFeatures: (project) =>
      op(`listFeatures(${project})`, () => {
        requireProject(project);
        return flags
          .filter((f) => f.project === project)
          .map(
            (f): UnleashFeature => ({
              name: f.name,
              description: f.description,
              type: f.type,
              environments: [...f.envs].map(([name, e]) => ({ name, enabled: e.enabled, hasStrategies: e.strategies.length > 0 })),
            }),
          );
      }),
    strategies: (project, name, environment) => op(`strategies(${project}, ${name}, ${environment})`, () => find(project, name, environment).strategies.map((s) => ({ ...s, parameters: { ...s.parameters } }))),
    toggle: (project, name, environment, enabled) =>
      op(`toggle(${project}, ${name}, ${environment}, ${enabled})`, () => {
        const env = find(project, name, environment);
        if (enabled && env.strategies.length === 0) {
          env.strategies.push({ id: `fake-${++seq}`, name: 'flexibleRollout', disabled: false, parameters: { groupId: name, rollout: '100', stickiness: 'default' } });
        }
        env.enabled = enabled;
      }),
  };
}
