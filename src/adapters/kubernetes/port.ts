/**
 * The Kubernetes API calls surgectl's chaos drills make, and nothing more. Every method rejects
 * with SurgeError SRG_K8S_API when the API server refuses or fails the call.
 */
export interface KubernetesPort {
  /** Namespace of the current context (or the one asked for); used when an activity names none. */
  readonly namespace: string;
  listPods(namespace: string, labelSelector?: string): Promise<PodSummary[]>;
  /** Deletes one pod; a pod that is already gone counts as deleted (returns false). */
  deletePod(namespace: string, name: string, gracePeriodSeconds?: number): Promise<boolean>;
  /** API groups the server serves (GET /apis), e.g. `chaos-mesh.org` when Chaos Mesh is installed. */
  apiGroups(): Promise<ApiGroup[]>;
  /** Plural resource names of a group version (GET /apis/{group}/{version}); undefined when not served. */
  apiResources(group: string, version: string): Promise<string[] | undefined>;
  createCustomObject(ref: CustomObjectRef, body: Record<string, unknown>): Promise<Record<string, unknown>>;
  /** Deletes a custom object; one that is already gone returns false. */
  deleteCustomObject(ref: CustomObjectRef, name: string): Promise<boolean>;
}

export interface PodSummary {
  name: string;
  namespace: string;
  /** Pending, Running, Succeeded, Failed, Unknown. */
  phase: string;
  /** True when the Ready condition is True. */
  ready: boolean;
  labels: Record<string, string>;
}

export interface ApiGroup {
  name: string;
  /** groupVersions without the group, e.g. `v1alpha1`. */
  versions: string[];
}

export interface CustomObjectRef {
  group: string;
  version: string;
  namespace: string;
  /** Plural resource name, e.g. `podchaos`. */
  plural: string;
}
