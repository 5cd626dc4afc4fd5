/**
 * The Kubernetes API calls surgectl's chaos drills, `surgectl scale` and the blue-green cutover make, and nothing more. Every method rejects
 * with SurgeError SRG_K8S_API when the API server refuses or fails the call.
 */
export interface KubernetesPort {
  /** Namespace of the current context (or the one asked for); used when an activity names none. */
  readonly namespace: string;
  /** The kubeconfig context in use (kubectl --context), so a snapshot can name the cluster it read. */
  readonly context: string;
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
  /** Whether the namespace exists (GET /api/v1/namespaces/{name}). */
  namespaceExists(name: string): Promise<boolean>;
  /** A Deployment or StatefulSet (apps/v1) with its replica counts; undefined when it does not exist. */
  getWorkload(ref: WorkloadRef): Promise<WorkloadState | undefined>;
  /**
   * Sets `spec.replicas` through the scale subresource (read, then replace with its
   * resourceVersion); a 409 Conflict (someone wrote in between) is re-read and retried, at most 5 times.
   */
  scaleWorkload(ref: WorkloadRef, replicas: number): Promise<void>;
  /** The autoscaling/v2 HorizontalPodAutoscalers of a namespace. */
  listHpas(namespace: string): Promise<HpaState[]>;
  /** Sets an HPA's replica bounds (read, then replace with its resourceVersion; 409 re-read and retried, at most 5 times). */
  setHpaBounds(namespace: string, name: string, bounds: { minReplicas: number; maxReplicas: number }): Promise<void>;
  /** The ResourceQuotas of a namespace, with their hard limits and usage as Kubernetes quantities. */
  listResourceQuotas(namespace: string): Promise<QuotaState[]>;
  /** A core/v1 Service with its endpoint counts; undefined when it does not exist. */
  getService(namespace: string, name: string): Promise<ServiceState | undefined>;
  /**
   * Replaces spec.selector with exactly `selector` (read, then replace with its resourceVersion; a 409 Conflict is
   * re-read and retried, at most 5 times — the same as scaleWorkload). A Service that does not exist → SRG_K8S_API
   * naming it. The endpoints follow asynchronously (the cluster's endpoints controller): poll getService until they
   * show the new pods rather than expecting them at once. An empty selector makes a Service without one, whose
   * Endpoints Kubernetes stops managing (they keep the pods they had), so a cutover should never pass one.
   */
  setServiceSelector(namespace: string, name: string, selector: Record<string, string>): Promise<void>;
}

export type WorkloadKind = 'Deployment' | 'StatefulSet';

export interface WorkloadRef {
  kind: WorkloadKind;
  namespace: string;
  name: string;
}

export interface WorkloadState extends WorkloadRef {
  /** spec.replicas. */
  replicas: number;
  /** status.readyReplicas (0 when absent). */
  readyReplicas: number;
  /** status.updatedReplicas: pods of the current pod template, ready or not (0 when absent). */
  updatedReplicas: number;
  /**
   * status.replicas: pods of every revision (0 when absent). During a rollout it counts the old ones too, so
   * "every pod is the new template and ready" is `generationObserved && totalReplicas === updatedReplicas && readyReplicas >= replicas`.
   */
  totalReplicas: number;
  /**
   * status.observedGeneration >= metadata.generation: the counts above describe the current spec. False right after a
   * spec change (a new image, a scale) until the controller has seen it; counts read then are stale, not a rollout done.
   */
  generationObserved: boolean;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** Sum of the pod template's container resource requests, per pod, as quantities (e.g. `{cpu: '250m', memory: '256Mi'}`). */
  podRequests: Record<string, string>;
}

export interface HpaState {
  namespace: string;
  name: string;
  /** spec.minReplicas (Kubernetes' default 1 when absent). */
  minReplicas: number;
  maxReplicas: number;
  /** spec.scaleTargetRef. */
  target: { kind: string; name: string };
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface QuotaState {
  name: string;
  /** status.hard (else spec.hard), e.g. `{pods: '20', 'requests.cpu': '4'}`. */
  hard: Record<string, string>;
  /** status.used. */
  used: Record<string, string>;
}

export interface ServiceState {
  namespace: string;
  name: string;
  /** spec.selector ({} when absent). */
  selector: Record<string, string>;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** Ready and not-ready endpoint addresses behind the Service right now (core/v1 Endpoints of the same name; 0/0 when it has none). */
  endpoints: { ready: number; notReady: number };
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
