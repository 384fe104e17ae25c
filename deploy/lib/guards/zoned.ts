/**
 * Wall-clock time in an IANA time zone, from the Intl API alone (Node ships full ICU): which local
 * date and time an instant is, and which instant a local date and time is. The second is not a
 * function of the first: on a spring-forward day a local time can be missing (02:30 in
 * Europe/Berlin on 2026-03-29), on a fall-back day it happens twice. Both follow Temporal's
 * "compatible" disambiguation (tc39 proposal-temporal, ToTemporalDisambiguation): a missing time
 * moves forward by the gap, a repeated one takes the earlier instant.
 */

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/** A local calendar date and time of day, month 1-based. */
export interface LocalTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
}

// One formatter per zone: constructing one costs far more than formatting with it.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Whether Intl knows the zone (an IANA name like Europe/Berlin, or UTC). */
export function isTimeZone(name: string): boolean {
  try {
    formatter(name);
    return true;
  } catch {
    return false;
  }
}

/** The local date and time the instant `ms` is in `timeZone` (seconds dropped). */
export function localOf(ms: number, timeZone: string): LocalTime {
  const parts = Object.fromEntries(
    formatter(timeZone)
      .formatToParts(new Date(ms))
      .map((p) => [p.type, Number(p.value)]),
  );
  return { year: parts.year ?? 0, month: parts.month ?? 0, day: parts.day ?? 0, hour: parts.hour ?? 0, minute: parts.minute ?? 0 };
}

/** Local fields read as if they were UTC: the arithmetic form of a wall-clock time. */
const asUtc = (t: LocalTime): number => Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute);

/** The zone's offset from UTC at the instant, in milliseconds (whole minutes; seconds of old LMT offsets dropped). */
function offsetAt(ms: number, timeZone: string): number {
  const floored = Math.floor(ms / MINUTE) * MINUTE;
  return asUtc(localOf(floored, timeZone)) - floored;
}

/** The instant a local time is in `timeZone`: a missing time moves forward by the gap, a repeated one is the earlier. */
export function instantOf(local: LocalTime, timeZone: string): number {
  const wall = asUtc(local);
  // The offsets a day either side bracket any transition near this wall time (zones change at most once a day).
  const before = offsetAt(wall - DAY, timeZone);
  const after = offsetAt(wall + DAY, timeZone);
  const candidates = [...new Set([wall - before, wall - after])].filter((t) => asUtc(localOf(t, timeZone)) === wall).sort((a, b) => a - b);
  const [earliest] = candidates;
  if (earliest !== undefined) return earliest;
  // In the gap: the offset before the jump, read past it (02:30 with +01:00 is 01:30Z, which is 03:30 CEST).
  return wall - before;
}

/** The local date `days` after the given one (month and year roll over). */
export function addDays(local: Pick<LocalTime, "year" | "month" | "day">, days: number): { year: number; month: number; day: number } {
  const d = new Date(Date.UTC(local.year, local.month - 1, local.day + days));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/** 0 for Sunday to 6 for Saturday, as Date.getUTCDay counts. */
export const weekdayOf = (local: Pick<LocalTime, "year" | "month" | "day">): number =>
  new Date(Date.UTC(local.year, local.month - 1, local.day)).getUTCDay();

const pad = (n: number) => String(n).padStart(2, "0");

/** "2026-12-24 18:00 Europe/Berlin (2026-12-24T17:00:00Z)": how a refusal says when a window ends. */
export function describeInstant(ms: number, timeZone: string): string {
  const l = localOf(ms, timeZone);
  const utc = new Date(ms).toISOString().replace(".000Z", "Z");
  return `${l.year}-${pad(l.month)}-${pad(l.day)} ${pad(l.hour)}:${pad(l.minute)} ${timeZone} (${utc})`;
}
