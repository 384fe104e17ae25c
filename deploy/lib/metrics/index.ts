/** Delivery metrics (DORA) from the audit trail: numbers, tables and a chart. */
export { BAND_RULES, bandOf, LEVELS, type Band, type BandRule, type Level, type MetricName } from "./bands.js";
export { metricsChartSvg, type ChartRequest } from "./chart.js";
export {
  DEFAULT_FIX_PATTERN,
  deliveryMetrics,
  type ChangeFailure,
  type DeliveryMetrics,
  type DeliveryMetricsOptions,
  type EnvironmentMetrics,
  type PeriodMetrics,
  type WindowMetrics,
} from "./dora.js";
export { PERIODS, type Period } from "./periods.js";
export { metricsChartPng } from "./png.js";
export { MetricsQuerySchema, type MetricsQuery, type MetricsQueryInput } from "./query.js";
export { DELIVERY_KINDS, DELIVERY_OUTCOMES, DELIVERY_PHASES, type DeliveryRecord, type UnresolvedRun } from "./records.js";
export { metricsMarkdown, metricsText } from "./table.js";
export { pipelineMetrics, type GateStats, type PipelineMetrics, type PipelinePeriod, type PipelineRunLike } from "./pipeline.js";
export { pipelineChartModel, pipelineChartPng, pipelineChartSvg } from "./pipeline-chart.js";
