/**
 * The `freezes:` section of shipshape.yaml: windows in which deploys are refused, one-off
 * (from/to) or recurring (days, start, end), each in an IANA time zone and for some environments
 * or all. Two windows that could both be open for one environment are refused here: which one's
 * end a refusal names, and which one an override overrides, would otherwise be a guess.
 */
import { z } from "zod";
import { expecting, formatPath } from "../config/errors.js";
import { quoted } from "../../src/project/problem.js";
import { boundOf, firstOverlap, LOCAL_OR_ISO, spansOf, TIME_OF_DAY, WEEKDAYS, type Span } from "./windows.js";
import { isTimeZone } from "./zoned.js";

const DAY = 86_400_000;
/** Bounds the overlap check's work and catches a year typed wrong (2062 for 2026). */
const MAX_ONE_OFF_DAYS = 366;
/** Recurring windows are compared over a year from this Monday: every weekday meets every DST state of a zone. */
const REFERENCE_START = Date.UTC(2026, 0, 5);
const REFERENCE_END = REFERENCE_START + 371 * DAY;

const bound = (description: string) =>
  expecting(
    z.string().regex(LOCAL_OR_ISO).describe(description),
    'a date or date and time like "2026-12-24" or "2026-12-24T18:00" (local to timeZone), or with an offset like "2026-12-24T17:00:00Z"',
  );

const timeOfDay = (description: string) =>
  expecting(z.string().regex(TIME_OF_DAY).describe(description), 'a quoted 24-hour time like "18:00"');

const environmentName = expecting(
  z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,39}$/)
    .describe("Environment name from environments:."),
  'an environment name like "prod"',
);

export const FreezeSchema = z
  .strictObject({
    name: expecting(
      z
        .string()
        .regex(/^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$/)
        .describe('What the window is called in refusals and the audit trail, e.g. "year-end".'),
      'a short name like "year-end" (letters, digits, space . _ -, at most 64)',
    ),
    reason: expecting(z.string().trim().min(1).max(300).describe("Why deploys are frozen, shown in the refusal."), "one line of text")
      .optional()
      .describe("Why deploys are frozen, shown in the refusal."),
    environments: z.array(environmentName).min(1).optional().describe("Environments the window freezes; absent means every environment."),
    timeZone: expecting(
      z.string().refine(isTimeZone).describe('IANA time zone the times are local to, e.g. "Europe/Berlin"; DST is followed.'),
      'an IANA time zone like "Europe/Berlin", "America/New_York" or "UTC"',
    ).default("UTC"),
    from: bound("One-off: when the window opens.").optional(),
    to: bound("One-off: when the window closes (exclusive).").optional(),
    days: z
      .array(z.enum(WEEKDAYS).describe("A weekday: sun, mon, tue, wed, thu, fri or sat."))
      .min(1)
      .optional()
      .describe("Recurring: the weekdays the window opens on (sun … sat); absent means every day."),
    start: timeOfDay("Recurring: local time the window opens on each of its days.").optional(),
    end: timeOfDay("Recurring: local time it closes; not after start means the next day (22:00 to 06:00 is overnight).").optional(),
  })
  .superRefine((f, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: "custom", path: [path], message, input: f });
    const oneOff = f.from !== undefined || f.to !== undefined;
    const recurring = f.days !== undefined || f.start !== undefined || f.end !== undefined;
    if (oneOff && recurring)
      return issue("from", "a freeze is one-off (from, to) or recurring (days, start, end), not both: split it in two");
    if (!oneOff && !recurring) return issue("from", 'required: from and to (one-off), or start and end (recurring, e.g. start: "18:00")');
    if (oneOff) {
      if (f.from === undefined || f.to === undefined)
        return issue(f.from === undefined ? "from" : "to", "required: a one-off freeze has both from and to");
      const [from, to] = [boundOf(f.from, f.timeZone), boundOf(f.to, f.timeZone)];
      if (Number.isNaN(from)) return issue("from", `${quoted(f.from)} is not a calendar date`);
      if (Number.isNaN(to)) return issue("to", `${quoted(f.to)} is not a calendar date`);
      if (to <= from) return issue("to", `must be after from (${f.from}); swap them if they are the wrong way round`);
      if (to - from > MAX_ONE_OFF_DAYS * DAY) issue("to", `the window is longer than ${MAX_ONE_OFF_DAYS} days; check the year`);
    } else if (f.start === undefined || f.end === undefined) {
      issue(
        f.start === undefined ? "start" : "end",
        'required: a recurring freeze has both start and end, like start: "18:00", end: "08:00"',
      );
    }
  })
  .describe("A window in which deploys are refused unless overridden with a reason.");

export type Freeze = z.output<typeof FreezeSchema>;

export const FreezesConfigSchema = z
  .array(FreezeSchema)
  .default([])
  .superRefine((freezes, ctx) => {
    const names = new Map<string, number>();
    freezes.forEach((f, i) => {
      const earlier = names.get(f.name);
      if (earlier !== undefined)
        ctx.addIssue({
          code: "custom",
          path: [i, "name"],
          message: `${quoted(f.name)} is also freezes[${earlier}]'s name: rename one`,
          input: f.name,
        });
      names.set(f.name, i);
    });
    const overlap = firstOverlapping(freezes);
    if (overlap) ctx.addIssue({ code: "custom", path: [overlap.later], message: overlap.message, input: freezes[overlap.later] });
  })
  .describe("Deploy freeze windows: one-off or recurring, time-zone aware, per environment or for all.");

/** Which environment two freezes both cover: the first they share, or every one when neither names any. */
function sharedEnvironment(a: Freeze, b: Freeze): string | undefined {
  if (!a.environments && !b.environments) return "every environment";
  if (!a.environments) return b.environments?.[0];
  if (!b.environments) return a.environments[0];
  return a.environments.find((e) => b.environments?.includes(e));
}

/** Where the pair's spans are compared: a one-off's own span, else the reference year. */
function compareSpan(a: Freeze, b: Freeze): Span {
  const spanOf = (f: Freeze) => spansOf(f, -Infinity, Infinity)[0];
  const [x, y] = [a.from !== undefined ? spanOf(a) : undefined, b.from !== undefined ? spanOf(b) : undefined];
  if (x && y) return { start: Math.max(x.start, y.start), end: Math.min(x.end, y.end) };
  return x ?? y ?? { start: REFERENCE_START, end: REFERENCE_END };
}

/** The first pair of freezes that can be open at once for one environment, as its config message. */
export function firstOverlapping(freezes: readonly Freeze[]): { later: number; message: string } | undefined {
  // zod runs this refinement even when an entry failed its own checks; those are reported already, and unusable here.
  const usable = freezes.map((f) => FreezeSchema.safeParse(f).success);
  for (let j = 1; j < freezes.length; j++) {
    for (let i = 0; i < j; i++) {
      if (!usable[i] || !usable[j]) continue;
      const [a, b] = [freezes[i] as Freeze, freezes[j] as Freeze];
      const env = sharedEnvironment(a, b);
      if (env === undefined) continue;
      const span = compareSpan(a, b);
      if (span.end <= span.start) continue;
      const at = firstOverlap(spansOf(a, span.start, span.end), spansOf(b, span.start, span.end));
      if (at === undefined) continue;
      const where = formatPath([i]);
      return {
        later: j,
        message: `overlaps freezes${where} (${quoted(a.name)}) for ${env === "every environment" ? env : `environment ${env}`}: both are open at ${new Date(at).toISOString().replace(".000Z", "Z")}; merge them into one window, or give them different environments`,
      };
    }
  }
  return undefined;
}
