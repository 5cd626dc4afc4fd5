import { SurgeError } from '../../errors.js';
import type { PromSample, PrometheusPort } from './port.js';

export interface FakePrometheus extends PrometheusPort {
  /** Every query asked, in order (interrupted ones too). */
  readonly queries: string[];
}

/**
 * An in-memory Prometheus answering each query with `answers(promql)`, with the real adapter's
 * errors (contract.test.ts runs the same cases against both): a SurgeError the function returns
 * is thrown as it is (e.g. SRG_PROMETHEUS_UNREACHABLE to play a server that is down); any other
 * Error is Prometheus refusing the query, SRG_DATA_SOURCE quoting its message and the query, as
 * a PromQL syntax error is; an aborted `signal` is SRG_CLI_INTERRUPTED. Samples are copied, so a
 * caller changing them does not change the next answer.
 */
export function createFakePrometheus(answers: (promql: string) => PromSample[] | Error, init: { url?: string } = {}): FakePrometheus {
  const url = init.url ?? 'http://prometheus.fake';
  const queries: string[] = [];
  return {
    url,
    queries,
    query(promql, o = {}) {
      queries.push(promql);
      if (o.signal?.aborted) return Promise.reject(new SurgeError('SRG_CLI_INTERRUPTED', `interrupted while querying Prometheus at ${url}`));
      let answer: PromSample[] | Error;
      try {
        answer = answers(promql);
      } catch (err) {
        return Promise.reject(err);
      }
      if (answer instanceof SurgeError) return Promise.reject(answer);
      if (answer instanceof Error) {
        return Promise.reject(
          new SurgeError('SRG_DATA_SOURCE', `Prometheus at ${url} refused the query ${JSON.stringify(promql)}: ${answer.message}`, {
            hint: 'Check the PromQL in the Prometheus UI (Graph tab) or with `promtool query instant`.',
          }),
        );
      }
      return Promise.resolve(answer.map((s) => ({ metric: { ...s.metric }, value: s.value })));
    },
  };
}
