/** One series of an instant query's answer: its labels and its value at the evaluation time. */
export interface PromSample {
  /** The series labels (with `__name__` when the query keeps it); empty for a scalar result. */
  metric: Record<string, string>;
  /** The value; Prometheus' `NaN`, `+Inf` and `-Inf` come back as NaN, Infinity and -Infinity. */
  value: number;
}

/**
 * The Prometheus HTTP API calls surgectl makes: instant queries, shared by the cutover analysis
 * gate (src/runbooks/analysis.ts) and `surgectl watch --prometheus`. `query` rejects with a
 * SurgeError: SRG_PROMETHEUS_UNREACHABLE (exit 3) when Prometheus does not answer (connection
 * refused, unknown host, timeout, a proxy in front saying 502/503/504), naming the URL without
 * credentials; SRG_DATA_SOURCE (exit 2) on 401/403 (with a hint about --bearer-token-file and
 * --header), on a query Prometheus refuses (quoting its `error` and the query) and on an answer
 * that is not an instant vector or scalar; SRG_CLI_INTERRUPTED (exit 130) when `signal` aborts it.
 */
export interface PrometheusPort {
  /** Base URL without credentials (safe to print). */
  readonly url: string;
  /** Instant query, GET /api/v1/query. A vector result is one sample per series; a scalar result is one sample with no labels; NaN/Inf values are kept as numbers. */
  query(promql: string, opts?: { signal?: AbortSignal }): Promise<PromSample[]>;
}
