/**
 * DORA performance bands. The State of DevOps reports publish clusters found in survey answers,
 * not cut points, and the clusters move from year to year (in 2024 the "medium" change failure
 * rate, 10%, is better than the "high" one, 20%). So each metric takes the most recent report
 * whose four levels form ordered, contiguous ranges, and the boundary between two levels is the
 * limit the report states for the better one:
 *
 * - Deployment frequency, lead time: 2024 Accelerate State of DevOps Report (DORA/Google Cloud),
 *   "Software delivery performance levels": on demand / daily–weekly / weekly–monthly /
 *   monthly–six-monthly; lead time < 1 day / 1 day–1 week / 1 week–1 month / 1–6 months.
 * - Time to restore: 2021 Accelerate State of DevOps Report: < 1 hour / < 1 day / 1 day–1 week /
 *   longer (2024's medium equals its high, < 1 day, so it cannot separate them).
 * - Change failure rate: 2021 report: elite 0–15%, high 16–30% (its medium and low repeat
 *   16–30%); above that, the 2019 report's low cluster (46–60%) and the DORA Four Keys
 *   dashboard's 16–45% / 46–60% buckets put the medium/low boundary at 45%.
 */

export const LEVELS = ["elite", "high", "medium", "low"] as const;
export type Level = (typeof LEVELS)[number];
export type Band = Level | "no data";

export type MetricName = "deploymentFrequency" | "leadTime" | "changeFailureRate" | "timeToRestore";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export interface BandRule {
  /** What the number measures, in the unit of `limits`. */
  unit: string;
  higherIsBetter: boolean;
  /** A value on a limit belongs to the better level (≤ 15% is elite); otherwise it must be strictly inside. */
  limitIsInclusive: boolean;
  /** Limits of elite, high and medium, in that order; anything past medium's is low. */
  limits: readonly [number, number, number];
  /** Each level in words, for the report. */
  words: Record<Level, string>;
  source: string;
}

export const BAND_RULES: Record<MetricName, BandRule> = {
  deploymentFrequency: {
    unit: "successful deploys per day",
    higherIsBetter: true,
    limitIsInclusive: true,
    limits: [1, 1 / 7, 1 / 30],
    words: {
      elite: "on demand (daily or more)",
      high: "between once per day and once per week",
      medium: "between once per week and once per month",
      low: "less than once per month",
    },
    source: "2024 Accelerate State of DevOps Report",
  },
  leadTime: {
    unit: "milliseconds (median)",
    higherIsBetter: false,
    limitIsInclusive: false,
    limits: [DAY, 7 * DAY, 30 * DAY],
    words: {
      elite: "less than one day",
      high: "between one day and one week",
      medium: "between one week and one month",
      low: "more than one month",
    },
    source: "2024 Accelerate State of DevOps Report",
  },
  changeFailureRate: {
    unit: "fraction of deploys",
    higherIsBetter: false,
    limitIsInclusive: true,
    limits: [0.15, 0.3, 0.45],
    words: { elite: "0–15%", high: "16–30%", medium: "31–45%", low: "over 45%" },
    source: "2021 Accelerate State of DevOps Report; 2019 report and DORA Four Keys for the 45% boundary",
  },
  timeToRestore: {
    unit: "milliseconds (median)",
    higherIsBetter: false,
    limitIsInclusive: false,
    limits: [HOUR, DAY, 7 * DAY],
    words: {
      elite: "less than one hour",
      high: "less than one day",
      medium: "between one day and one week",
      low: "more than one week",
    },
    source: "2021 Accelerate State of DevOps Report",
  },
};

/** The level a value reaches; "no data" when there is nothing to judge. */
export function bandOf(metric: MetricName, value: number | null): Band {
  if (value === null || Number.isNaN(value)) return "no data";
  const rule = BAND_RULES[metric];
  const within = (limit: number) => {
    if (rule.higherIsBetter) return rule.limitIsInclusive ? value >= limit : value > limit;
    return rule.limitIsInclusive ? value <= limit : value < limit;
  };
  const index = rule.limits.findIndex(within);
  return index === -1 ? "low" : (LEVELS[index] as Level);
}
