/**
 * The instants a freeze covers. A one-off freeze is one span; a recurring one opens on each of
 * its days at `start` local time and closes at `end` (the next day when end is not after start),
 * in its own time zone, so a 22:00–06:00 freeze in Europe/Berlin lasts 7 hours on the night the
 * clocks spring forward and 9 on the night they fall back.
 */
import { addDays, instantOf, localOf, weekdayOf, type LocalTime } from "./zoned.js";

const DAY = 86_400_000;

export const WEEKDAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** What windows.ts needs of a freeze (the config's parsed entry). */
export interface FreezeSpec {
  name: string;
  timeZone: string;
  from?: string;
  to?: string;
  days?: readonly Weekday[];
  start?: string;
  end?: string;
}

/** One span a freeze covers, [start, end) in epoch milliseconds. */
export interface Span {
  start: number;
  end: number;
}

// Local "2026-12-24", "2026-12-24T18:00" or "…:30", optionally with Z or an offset (then the zone is not needed).
export const LOCAL_OR_ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?(Z|[+-]\d{2}:\d{2})?$/;
export const TIME_OF_DAY = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** The instant a one-off bound names: its own offset when it has one, else wall time in the freeze's zone. NaN when not a time. */
export function boundOf(text: string, timeZone: string): number {
  const m = LOCAL_OR_ISO.exec(text);
  if (!m) return Number.NaN;
  const [, y, mo, d, h = "00", mi = "00", s = "00", zone] = m;
  const local: LocalTime = { year: Number(y), month: Number(mo), day: Number(d), hour: Number(h), minute: Number(mi) };
  // Date.UTC rolls 2026-02-30 over to March; a date that does not round-trip is not a date.
  const probe = new Date(Date.UTC(local.year, local.month - 1, local.day));
  if (probe.getUTCMonth() !== local.month - 1 || probe.getUTCDate() !== local.day) return Number.NaN;
  if (zone) return Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s}${zone}`);
  return instantOf(local, timeZone) + Number(s) * 1000;
}

const minutesOf = (hhmm: string): number => {
  const m = TIME_OF_DAY.exec(hhmm);
  return m ? Number(m[1]) * 60 + Number(m[2]) : Number.NaN;
};

/** The spans of `freeze` that intersect [from, to), in order. */
export function spansOf(freeze: FreezeSpec, from: number, to: number): Span[] {
  if (freeze.from !== undefined && freeze.to !== undefined) {
    const span = { start: boundOf(freeze.from, freeze.timeZone), end: boundOf(freeze.to, freeze.timeZone) };
    return span.start < to && span.end > from ? [span] : [];
  }
  if (freeze.start === undefined || freeze.end === undefined) return [];
  const [startMin, endMin] = [minutesOf(freeze.start), minutesOf(freeze.end)];
  const days = new Set((freeze.days ?? WEEKDAYS).map((d) => WEEKDAYS.indexOf(d)));
  const spans: Span[] = [];
  // A span opened on the day before `from` (local) can still be open at `from`.
  const first = localOf(from - DAY, freeze.timeZone);
  const lastDay = Math.ceil((to - from) / DAY) + 2;
  for (let i = 0; i <= lastDay; i++) {
    const date = addDays(first, i);
    if (!days.has(weekdayOf(date))) continue;
    const endDate = endMin > startMin ? date : addDays(date, 1);
    const start = instantOf({ ...date, hour: Math.floor(startMin / 60), minute: startMin % 60 }, freeze.timeZone);
    const end = instantOf({ ...endDate, hour: Math.floor(endMin / 60), minute: endMin % 60 }, freeze.timeZone);
    // A start moved past its end by a spring-forward gap leaves nothing to freeze that day.
    if (end > start && start < to && end > from) spans.push({ start, end });
  }
  return spans;
}

/** The first instant both lists cover, if any (each list in order and free of overlaps of its own). */
export function firstOverlap(a: readonly Span[], b: readonly Span[]): number | undefined {
  let [i, j] = [0, 0];
  while (i < a.length && j < b.length) {
    const [x, y] = [a[i] as Span, b[j] as Span];
    if (x.start < y.end && y.start < x.end) return Math.max(x.start, y.start);
    if (x.end <= y.end) i++;
    else j++;
  }
  return undefined;
}
