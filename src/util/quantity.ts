const SUFFIX: Record<string, number> = { m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4 };

/**
 * A Kubernetes quantity (`250m`, `2`, `512Mi`, `1G`) as a number of base units (cores, bytes,
 * pods); undefined when it is not one. Exponent forms (`1e3`) are not used by quotas in practice.
 */
export function parseQuantity(q: string): number | undefined {
  const m = /^([0-9]*\.?[0-9]+)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(q.trim());
  if (!m) return undefined;
  return Number(m[1]) * (m[2] ? (SUFFIX[m[2]] ?? 1) : 1);
}
