/**
 * The condition evaluator shared by load-test thresholds, chaos steady-state hypotheses and
 * analysis gates. Stable API: parse once with {@link parseCondition} / {@link parseThreshold},
 * evaluate with {@link evaluateCondition} (pure, never throws, returns `{phase, value}`).
 *
 * @example
 *   const c = parseCondition('p(95)<200');
 *   evaluateCondition(c, { type: 'trend', values: { 'p(95)': 180 } }); // { phase: 'pass', value: 180, ... }
 *   const t = parseCondition([0, 0.01], { context: 'tolerance' });
 *   evaluateCondition(t, 0.2); // { phase: 'fail', value: 0.2, message: '0.2 is outside [0, 0.01]' }
 */
export {
  parseCondition,
  parseThreshold,
  parseMetricSelector,
  parseJsonPath,
  formatCondition,
  type Aggregation,
  type Condition,
  type EqualsCondition,
  type JsonPathCondition,
  type ListCondition,
  type PathFilter,
  type MetricSelector,
  type Operator,
  type ParseOptions,
  type PathSegment,
  type RangeCondition,
  type RegexCondition,
  type ThresholdCondition,
  type ThresholdSpec,
} from './condition.js';
export {
  evaluateCondition,
  aggregationAllowed,
  aggregationKey,
  AGGREGATIONS_BY_TYPE,
  type ConditionResult,
  type MetricObservation,
  type MetricType,
} from './evaluate.js';
