/**
 * How Shipshape recognises its own incident issue: never by title (people edit titles, and another
 * tool may use the same words), but by the label `shipshape-incident` (what the list is filtered
 * by) and a hidden HTML comment on the body's first line naming the environment and the kind of
 * incident, with when it started and, for a vulnerability incident, the findings already reported.
 * GitHub keeps an issue body as written, so the comment survives, unseen in the rendered issue.
 */
import { z } from "zod";

export const INCIDENT_LABEL = "shipshape-incident";
export const INCIDENT_KINDS = ["health", "vulnerability"] as const;
export type IncidentKind = (typeof INCIDENT_KINDS)[number];

const MarkerSchema = z.strictObject({
  v: z.literal(1),
  environment: z.string().min(1),
  kind: z.enum(INCIDENT_KINDS),
  /** When the incident began (the first failing run). */
  since: z.iso.datetime(),
  /** Blocking findings already reported ("CVE-… pkg"), so a later rescan reports only new ones. */
  findings: z.array(z.string()).default([]),
});
export type IncidentMarker = z.output<typeof MarkerSchema>;

const PREFIX = "<!-- shipshape:incident ";
const SUFFIX = " -->";

/** The hidden first line; a `-->` inside a value is escaped so it cannot end the comment early. */
export function markerLine(m: IncidentMarker): string {
  return `${PREFIX}${JSON.stringify(m).replace(/-->/g, "--\\u003e")}${SUFFIX}`;
}

/** The marker on the body's first line, if it is Shipshape's and well formed. */
export function readMarker(body: string): IncidentMarker | undefined {
  const first = body.replace(/\r\n/g, "\n").split("\n")[0] ?? "";
  if (!first.startsWith(PREFIX) || !first.endsWith(SUFFIX)) return undefined;
  try {
    const parsed = MarkerSchema.safeParse(JSON.parse(first.slice(PREFIX.length, -SUFFIX.length)));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** The body with its first line replaced by the marker (or the marker put in front). */
export function withMarker(body: string, m: IncidentMarker): string {
  const lines = body.replace(/\r\n/g, "\n").split("\n");
  const rest = readMarker(body) ? lines.slice(1) : lines;
  return [markerLine(m), ...rest].join("\n");
}

/** Whether the marker names this environment's incident of this kind. */
export const isIncidentOf = (m: IncidentMarker | undefined, environment: string, kind: IncidentKind): m is IncidentMarker =>
  m !== undefined && m.environment === environment && m.kind === kind;
