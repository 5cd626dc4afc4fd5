/**
 * Library entry `surgectl/forecast`: demand forecasting and capacity planning as plain functions
 * returning data. No CLI code here.
 */
export { forecast, type ForecastOptions } from './forecast.js';
export { MODEL_NAMES } from './models/index.js';
export { regularise, type RegulariseOptions } from './series.js';
export { readSeriesFile, parseSeriesCsv, parseSeriesJson } from './sources/file.js';
export { readPrometheus, type PrometheusQueryOptions } from './sources/prometheus.js';
export { readCampaigns, parseCampaigns, CampaignCalendarSchema, type Campaign } from './campaigns.js';
export { loadHolidays, knownHolidayCountries, type Holiday, type HolidayEffect } from './holidays.js';
export { type Regressor, type RegressorEffect } from './regressors.js';
export { generateSample, sampleToCsv, sampleCampaignsYaml, type SampleOptions, type Sample, type SampleCampaign } from './sample.js';
export {
  capacityPlan,
  parseForecastDocument,
  perReplicaFromLoadTest,
  ScalePlanSchema,
  ServicePlanSchema,
  type CapacityPlanOptions,
  type ScalePlan,
  type ServicePlan,
  type ServiceDemand,
  type SizeOn,
} from './capacity-plan.js';
export { parseDuration, formatDuration } from './duration.js';
export type * from './types.js';
