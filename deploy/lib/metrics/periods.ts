/**
 * Calendar buckets in UTC: days, ISO 8601 weeks (Monday start, week 1 holds the year's first
 * Thursday) and months. UTC so a report reads the same wherever the pipeline ran.
 */

export const PERIODS = ["day", "week", "month"] as const;
export type Period = (typeof PERIODS)[number];

export const DAY_MS = 86_400_000;

/** Start of the bucket holding `ms`. */
export function periodStart(ms: number, period: Period): number {
  const d = new Date(ms);
  const day = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  if (period === "day") return day;
  if (period === "week") return day - ((d.getUTCDay() + 6) % 7) * DAY_MS;
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

/** Start of the bucket `count` buckets after the one starting at `start` (negative goes back). */
export function addPeriods(start: number, period: Period, count: number): number {
  if (period === "day") return start + count * DAY_MS;
  if (period === "week") return start + count * 7 * DAY_MS;
  const d = new Date(start);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + count, 1);
}

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/** ISO week-numbering year and week of the week starting (Monday) at `monday`. */
export function isoWeek(monday: number): { year: number; week: number } {
  const thursday = new Date(monday + 3 * DAY_MS);
  const year = thursday.getUTCFullYear();
  const dayOfYear = (thursday.getTime() - Date.UTC(year, 0, 1)) / DAY_MS;
  return { year, week: Math.floor(dayOfYear / 7) + 1 };
}

/** 2026-11-20, 2026-W47 or 2026-11. */
export function periodLabel(start: number, period: Period): string {
  const d = new Date(start);
  if (period === "day") return d.toISOString().slice(0, 10);
  if (period === "month") return d.toISOString().slice(0, 7);
  const { year, week } = isoWeek(start);
  return `${year}-W${pad(week)}`;
}

export interface Bucket {
  label: string;
  start: number;
  end: number;
  /** The window cuts this bucket short (the current period, or a window not on a boundary). */
  partial: boolean;
}

/** Every bucket overlapping [from, to), oldest first. */
export function bucketsBetween(from: number, to: number, period: Period): Bucket[] {
  const buckets: Bucket[] = [];
  for (let start = periodStart(from, period); start < to; start = addPeriods(start, period, 1)) {
    const end = addPeriods(start, period, 1);
    buckets.push({ label: periodLabel(start, period), start, end, partial: start < from || end > to });
  }
  return buckets;
}

/** The bucket holding `ms`, or undefined when it is outside them all. */
export function bucketIndex(buckets: readonly Bucket[], ms: number): number | undefined {
  const i = buckets.findIndex((b) => ms >= b.start && ms < b.end);
  return i === -1 ? undefined : i;
}
