import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { SurgeError } from '../errors.js';

const k8sTarget = {
  name: z.string().min(1),
  /** Default: --namespace, else the kubeconfig context's namespace, else `default`. */
  namespace: z.string().min(1).optional(),
  /** kubeconfig context; default --context, else the current context. */
  context: z.string().min(1).optional(),
};

/**
 * One object a service maps to: what `scale apply` changes for it. Given per service in the plan
 * (`spec.services[].targets`) or in surgectl.yaml (`scale.targets.<service>`).
 */
export const ScaleTargetSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('Deployment'), ...k8sTarget }).strict(),
  z.object({ kind: z.literal('StatefulSet'), ...k8sTarget }).strict(),
  z.object({ kind: z.literal('HorizontalPodAutoscaler'), ...k8sTarget }).strict(),
  /** Region: default the AWS chain's (AWS_REGION, profile). */
  z.object({ kind: z.literal('AutoScalingGroup'), name: z.string().min(1), region: z.string().min(1).optional() }).strict(),
  /** The bundled stack's worker pool; url default http://127.0.0.1:<stack.port>. */
  z.object({ kind: z.literal('BundledStack'), url: z.string().url().optional(), role: z.literal('workers').default('workers') }).strict(),
]);
export type ScaleTarget = z.infer<typeof ScaleTargetSchema>;

/** `scale.targets` of surgectl.yaml: service name -> its targets. */
export const ScaleTargetsSchema = z.record(z.string().min(1), z.array(ScaleTargetSchema).min(1));

const isoTime = z.string().refine((v) => Number.isFinite(Date.parse(v)), 'expected an ISO-8601 time such as 2026-11-27T06:00:00Z');
const count = z.number().int().min(0);

/**
 * What `surgectl scale` reads of a ScalePlan: the file `capacity plan` writes (its other fields
 * are kept but not needed) or a hand-written one with just these keys.
 */
export const ScalePlanFileSchema = z.object({
  apiVersion: z.literal('surgectl/v1'),
  kind: z.literal('ScalePlan'),
  metadata: z.object({ name: z.string().regex(/^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$/, 'expected a lower-case name (a-z, 0-9, . and -), at most 63 characters') }).passthrough(),
  spec: z
    .object({
      /** When capacity must be in place, and until when (ISO-8601); needed by `scale schedule`. */
      window: z.object({ start: isoTime, end: isoTime }).optional(),
      services: z
        .array(
          z
            .object({
              name: z.string().min(1),
              /** Replicas (Kubernetes, stack workers) the service needs. */
              replicas: count,
              /** Auto Scaling group sizes, instances; default min = desired = replicas, max unchanged. */
              asg: z.object({ min: count, desired: count, max: count }).optional(),
              targets: z.array(ScaleTargetSchema).optional(),
            })
            .passthrough(),
        )
        .min(1),
    })
    .passthrough(),
});

/** A service of the plan with the objects it maps to. */
export interface PlannedService {
  name: string;
  replicas: number;
  asg?: { min: number; desired: number; max: number };
  targets: ScaleTarget[];
}

/** A validated plan file, targets resolved. */
export interface ScalePlanFile {
  /** Absolute path of the file. */
  path: string;
  name: string;
  /** Epoch ms. */
  window?: { start: number; end: number };
  services: PlannedService[];
}

/**
 * Reads and validates a ScalePlan; each service's targets come from the file, else from
 * `configTargets` (surgectl.yaml `scale.targets`). Every problem is listed at once:
 * SRG_SCALE_PLAN (exit 10) with one detail per bad field, named by its path.
 */
export async function readScalePlanFile(path: string, configTargets: Readonly<Record<string, readonly ScaleTarget[]>> = {}): Promise<ScalePlanFile> {
  const abs = resolve(path);
  let text: string;
  try {
    text = await readFile(abs, 'utf8');
  } catch (cause) {
    throw new SurgeError('SRG_SCALE_PLAN', `Cannot read the scale plan ${abs}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`, {
      hint: 'Write one with `surgectl capacity plan --out plan.yaml`, or see docs/scale.md for the format.',
      cause,
    });
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (cause) {
    throw new SurgeError('SRG_SCALE_PLAN', `${abs} is not YAML or JSON: ${(cause as Error).message.split('\n')[0]}`, { cause });
  }
  return parseScalePlan(doc, abs, configTargets);
}

/** Validates a parsed plan document; see {@link readScalePlanFile}. */
export function parseScalePlan(doc: unknown, where: string, configTargets: Readonly<Record<string, readonly ScaleTarget[]>> = {}): ScalePlanFile {
  const parsed = ScalePlanFileSchema.safeParse(doc);
  const problems: string[] = parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  if (!parsed.success) throw planError(where, problems);
  const spec = parsed.data.spec;
  const seen = new Map<string, string>();
  const services: PlannedService[] = spec.services.map((s, i) => {
    const at = `spec.services.${i}`;
    if (s.asg && !(s.asg.min <= s.asg.desired && s.asg.desired <= s.asg.max)) problems.push(`${at}.asg: expected min <= desired <= max, got ${s.asg.min}/${s.asg.desired}/${s.asg.max}`);
    if (spec.services.findIndex((o) => o.name === s.name) !== i) problems.push(`${at}.name: service "${s.name}" is listed twice`);
    const targets = s.targets ?? [...(configTargets[s.name] ?? [])];
    if (targets.length === 0) problems.push(`${at}: service "${s.name}" has no targets: add ${at}.targets, or scale.targets.${s.name} in surgectl.yaml`);
    targets.forEach((t, j) => {
      const id = targetId(t);
      const other = seen.get(id);
      if (other !== undefined) problems.push(`${at}.targets.${j}: ${id} is also a target of service "${other}"`);
      seen.set(id, s.name);
    });
    return { name: s.name, replicas: s.replicas, ...(s.asg ? { asg: s.asg } : {}), targets };
  });
  let window: ScalePlanFile['window'];
  if (spec.window) {
    window = { start: Date.parse(spec.window.start), end: Date.parse(spec.window.end) };
    if (!(window.start < window.end)) problems.push(`spec.window: start (${spec.window.start}) must be before end (${spec.window.end})`);
  }
  if (problems.length > 0) throw planError(where, problems);
  return { path: where, name: parsed.data.metadata.name, ...(window ? { window } : {}), services };
}

function planError(where: string, problems: string[]): SurgeError {
  return new SurgeError('SRG_SCALE_PLAN', `${where} is not a valid ScalePlan (${problems.length} problem${problems.length === 1 ? '' : 's'})`, {
    details: problems,
    hint: 'See docs/scale.md for the format; `surgectl capacity plan --out plan.yaml` writes one.',
  });
}

/** How a target is named in messages: `Deployment shop/api`, `AutoScalingGroup web-asg`. */
export function targetId(t: ScaleTarget): string {
  switch (t.kind) {
    case 'AutoScalingGroup':
      return `AutoScalingGroup ${t.region ? `${t.region}/` : ''}${t.name}`;
    case 'BundledStack':
      return `BundledStack ${t.url ?? '(configured)'}`;
    default:
      return `${t.kind} ${t.context ? `${t.context}:` : ''}${t.namespace ? `${t.namespace}/` : ''}${t.name}`;
  }
}
