/**
 * What to tell a user whose experiment names a Python module that does not import: the pip package
 * that usually provides it and, where surgectl does the same natively, the provider to use instead.
 */

interface ModuleHint {
  /** The pip package that provides the top-level module. */
  package: string;
  /** surgectl's native equivalent, when there is one, by function-name pattern (first match wins). */
  native?: readonly (readonly [RegExp, string])[];
}

const HINTS: Readonly<Record<string, ModuleHint>> = {
  chaosk8s: {
    package: 'chaostoolkit-kubernetes',
    native: [
      [/terminate_pods|kill|delete_pods?/, '{type: kubernetes, func: delete-pods, arguments: {labelSelector, mode}}'],
      [/pods_in_phase|count_pods|pods_not_in_phase|read_pod|all_pods_healthy/, '{type: kubernetes, func: pods, arguments: {labelSelector}} with a tolerance such as {type: range, range: [2, 100], target: ready}'],
      [/deployment|microservice_available|available_and_healthy|rollout/, '{type: kubernetes, func: wait-ready, arguments: {labelSelector, count}}'],
      [/network|latency|partition/, '{type: chaos-mesh, func: network-chaos}'],
    ],
  },
  chaosaws: { package: 'chaostoolkit-aws' },
  chaosazure: { package: 'chaostoolkit-azure' },
  chaosgcp: { package: 'chaostoolkit-google-cloud-platform' },
  chaosprometheus: { package: 'chaostoolkit-prometheus', native: [[/./, '{type: stack, func: metric} for the bundled stack, or an http probe of the Prometheus query API']] },
  chaostoxi: { package: 'chaostoolkit-toxiproxy', native: [[/./, '{type: stack, func: payment-fault, arguments: {latencyMs}} or {type: chaos-mesh, func: network-chaos}']] },
  chaosistio: { package: 'chaostoolkit-istio', native: [[/./, '{type: chaos-mesh, func: network-chaos} (delay, loss, partition)']] },
  chaosaddons: { package: 'chaostoolkit-addons' },
  chaosreliably: { package: 'chaostoolkit-reliably' },
  chaosspring: { package: 'chaostoolkit-spring' },
  chaoswm: { package: 'chaostoolkit-wiremock' },
  chaosgrafana: { package: 'chaostoolkit-grafana' },
  chaosdatadog: { package: 'chaostoolkit-datadog' },
  chaosslack: { package: 'chaostoolkit-slack' },
  chaostracing: { package: 'chaostoolkit-opentracing' },
  chaosotel: { package: 'chaostoolkit-opentelemetry' },
  chaosk6: { package: 'chaostoolkit-k6', native: [[/./, '`surgectl loadtest run <script.js>` alongside the drill, or the experiment\'s load section']] },
  chaosgremlin: { package: 'chaostoolkit-gremlin' },
  chaoshumio: { package: 'chaostoolkit-humio' },
  chaosservicefabric: { package: 'chaostoolkit-service-fabric' },
  chaoscf: { package: 'chaostoolkit-cloudfoundry' },
  chaosiq: { package: 'chaosiq-cloud' },
  chaoslib: { package: 'chaostoolkit-lib' },
};

/** `could not be imported ...; it usually comes from pip package X; surgectl's native equivalent: Y`. */
export function moduleHint(module: string, func: string): string {
  const top = module.split('.')[0] ?? module;
  const h = HINTS[top];
  const parts: string[] = [];
  if (h) parts.push(`it usually comes from the pip package ${h.package} (pip install ${h.package} into the interpreter surgectl runs: python3, or the one passed with --python)`);
  else parts.push('install the package that provides it into the interpreter surgectl runs (python3, or the one passed with --python), or add its folder to PYTHONPATH');
  const native = h?.native?.find(([re]) => re.test(func))?.[1];
  if (native) parts.push(`surgectl's native equivalent: provider ${native}`);
  return parts.join('; ');
}
