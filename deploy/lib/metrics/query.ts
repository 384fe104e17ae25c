/**
 * Which slice of the trail the metrics cover: an environment (or all), a bucket size and a
 * [from, to) window. Validated like the config so a bad argument gets a plain-words message.
 */
import { z } from "zod";
import { configErrorMap, expecting, formatZodIssues } from "../config/errors.js";
import { Problem } from "../../src/project/problem.js";
import { addPeriods, bucketsBetween, periodStart, PERIODS, type Bucket, type Period } from "./periods.js";
import { parseInstant } from "./records.js";

/** A chart of more bars than this is unreadable, and a table that long is not a report. */
export const MAX_BUCKETS = 400;
/** Without `from`, the window holds this many buckets, the current one included. */
export const DEFAULT_BUCKETS = 12;

const instant = (description: string) =>
  expecting(
    z
      .string()
      .refine((s) => parseInstant(s) !== undefined)
      .describe(description),
    "an ISO 8601 date or time with zone, like 2026-11-01 or 2026-11-01T00:00:00Z",
  );

export const MetricsQuerySchema = z
  .strictObject({
    environment: expecting(
      z.string().min(1).max(200).describe("Only this environment; every environment in the trail, each on its own, when omitted."),
      'an environment name like "production"',
    ).optional(),
    period: z.enum(PERIODS).default("week").describe("Bucket size: day, week (ISO 8601, Monday start) or month; all in UTC."),
    from: instant(
      `Start of the window (inclusive); defaults to the start of the bucket ${DEFAULT_BUCKETS - 1} buckets before the current one.`,
    ).optional(),
    to: instant("End of the window (exclusive); defaults to now.").optional(),
  })
  .describe("Which environment, bucket size and time window the delivery metrics cover.");

export type MetricsQueryInput = z.input<typeof MetricsQuerySchema>;
export type MetricsQuery = z.output<typeof MetricsQuerySchema>;

export interface MetricsWindow {
  environment?: string;
  period: Period;
  from: number;
  to: number;
  buckets: Bucket[];
}

/** Validates the query and pins the window to `now`; bad input is a Problem naming the field. */
export function resolveWindow(input: unknown, now: number): MetricsWindow {
  const parsed = MetricsQuerySchema.safeParse(input ?? {}, { error: configErrorMap, reportInput: true });
  if (!parsed.success) {
    const issues = formatZodIssues(parsed.error, MetricsQuerySchema);
    throw new Problem(`metrics: ${issues.join("; ")}`, "fix the argument; times are ISO 8601 like 2026-11-01 or 2026-11-01T00:00:00Z");
  }
  const { environment, period } = parsed.data;
  const to = parsed.data.to === undefined ? now : (parseInstant(parsed.data.to) as number);
  const from =
    parsed.data.from === undefined
      ? addPeriods(periodStart(to - 1, period), period, -(DEFAULT_BUCKETS - 1))
      : (parseInstant(parsed.data.from) as number);
  if (from >= to) {
    throw new Problem(
      `metrics: the window is empty (from ${new Date(from).toISOString()} is not before to ${new Date(to).toISOString()})`,
      "give a from time earlier than to (to defaults to now)",
    );
  }
  const buckets = bucketsBetween(from, to, period);
  if (buckets.length > MAX_BUCKETS) {
    throw new Problem(
      `metrics: ${buckets.length} ${period}s between from and to; at most ${MAX_BUCKETS} fit a table and a chart`,
      `narrow the window or use a longer period (${period === "day" ? "week or month" : "month"})`,
    );
  }
  return environment === undefined ? { period, from, to, buckets } : { environment, period, from, to, buckets };
}
