/** One environment of a feature flag, as the Unleash Admin API lists it. */
export interface UnleashFeatureEnvironment {
  /** e.g. `development`, `production`. */
  name: string;
  enabled: boolean;
  /** Whether the flag has any activation strategy in this environment (Unleash adds a default one when it is first switched on). */
  hasStrategies: boolean;
}

/** A feature flag of a project, with its state in every environment of the project. */
export interface UnleashFeature {
  name: string;
  description: string;
  /** Unleash flag type: release, experiment, operational, kill-switch, permission. */
  type: string;
  environments: UnleashFeatureEnvironment[];
}

/** An activation strategy of a flag in one environment (read only: surgectl never changes strategies). */
export interface UnleashStrategy {
  id: string;
  /** e.g. `flexibleRollout`, `default`. */
  name: string;
  disabled: boolean;
  parameters: Record<string, string>;
}

/**
 * The Unleash Admin API calls surgectl makes (header `Authorization: <admin token>`). Every method
 * rejects with a SurgeError: SRG_FLAGS_UNREACHABLE when the server does not answer,
 * SRG_FLAGS_AUTH on 401/403 (the token needs admin rights), SRG_FLAGS_UNKNOWN for a project, flag
 * or environment that does not exist (naming which), SRG_FLAGS_API for any other refusal.
 */
export interface UnleashPort {
  /** Base URL of the server, without a trailing slash, e.g. `http://127.0.0.1:4242`. */
  readonly url: string;
  /** Project ids the server has (GET /api/admin/projects). */
  projects(): Promise<string[]>;
  /** Names of the environments enabled on the server (GET /api/admin/environments). */
  environments(): Promise<string[]>;
  /**
   * Every flag of `project` with its per-environment state (GET /api/admin/projects/:project/features).
   * Unleash answers an empty list for a project that does not exist, so this checks the project first.
   */
  listFeatures(project: string): Promise<UnleashFeature[]>;
  /** The strategies of flag `name` in `environment`. */
  strategies(project: string, name: string, environment: string): Promise<UnleashStrategy[]>;
  /** Switches flag `name` on or off in `environment`; idempotent (switching an off flag off is a no-op). */
  toggle(project: string, name: string, environment: string, enabled: boolean): Promise<void>;
}
