/** Numbers as people read them in a report; the table and the chart share these so they agree. */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** 45s, 12m, 3h 20m, 2d 4h; a dash when there is nothing to show. */
export function formatDuration(ms: number | null): string {
  if (ms === null) return "—";
  // Rounded before choosing the unit, so 59.7 seconds reads 1m rather than 60s.
  if (Math.round(ms / 1000) < 60) return `${Math.round(ms / 1000)}s`;
  const minutes = Math.round(ms / MINUTE);
  if (minutes < 60) return `${minutes}m`;
  if (minutes < 24 * 60) return minutes % 60 === 0 ? `${minutes / 60}h` : `${Math.floor(minutes / 60)}h ${minutes % 60}m`;
  const hours = Math.round(ms / HOUR);
  return hours % 24 === 0 ? `${hours / 24}d` : `${Math.floor(hours / 24)}d ${hours % 24}h`;
}

/** 25%, 33.3%; a dash for a rate of nothing (no deploys). */
export function formatRate(rate: number | null): string {
  if (rate === null) return "—";
  return `${Math.round(rate * 1000) / 10}%`;
}

/** Two significant decimals are enough for "deploys per day". */
export const formatPerDay = (perDay: number): string => (Math.round(perDay * 100) / 100).toString();

/** 2026-11-20 at midnight, 2026-11-20 10:15 otherwise (UTC); text that is not a time comes back as it is. */
export function formatInstant(text: string): string {
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) return text;
  const iso = new Date(ms).toISOString();
  return ms % 86_400_000 === 0 ? iso.slice(0, 10) : `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
}
