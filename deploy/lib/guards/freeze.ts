/**
 * Whether a deploy to an environment falls in one of its freeze windows now, as a gate decision:
 * passed (none open), failed (refused, saying when the window ends, in its zone and in UTC), or
 * overridden (the caller's reason is in the decision, so in the audit record and the news).
 */
import type { GateDecision } from "../deploy/hooks.js";
import { Problem, printableLine } from "../../src/project/problem.js";
import type { Freeze } from "./freeze-config.js";
import { spansOf, type Span } from "./windows.js";
import { describeInstant } from "./zoned.js";

/** Windows that touch (a Saturday one ending where Sunday's starts) are one freeze to the person waiting. */
const MAX_CHAINED = 400;
export const MAX_OVERRIDE_REASON = 300;

export interface FreezeVerdict {
  decision: GateDecision;
  /** Set when the deploy must not go ahead. */
  refusal?: Problem;
}

export const appliesTo = (f: Freeze, environment: string) => f.environments === undefined || f.environments.includes(environment);

/** The window open at `now` and where the run of touching windows it starts ends; undefined when none is open. */
export function openFreeze(
  freezes: readonly Freeze[],
  environment: string,
  now: number,
): { freeze: Freeze; span: Span; endsAt: number; last: Freeze } | undefined {
  const mine = freezes.filter((f) => appliesTo(f, environment));
  const openAt = (t: number) => {
    for (const f of mine) for (const s of spansOf(f, t, t + 1)) if (s.start <= t && t < s.end) return { freeze: f, span: s };
    return undefined;
  };
  const first = openAt(now);
  if (!first) return undefined;
  let [endsAt, last] = [first.span.end, first.freeze];
  for (let i = 0; i < MAX_CHAINED; i++) {
    const next = openAt(endsAt);
    if (!next) break;
    [endsAt, last] = [next.span.end, next.freeze];
  }
  return { ...first, endsAt, last };
}

/** The caller's override reason, checked: one printable line, of bounded length; "" means no override. */
export function overrideReason(raw: string): string {
  const reason = raw.trim();
  if (raw !== "" && reason === "")
    throw new Problem("--freeze-override is blank, so it gives no reason", 'pass the reason, e.g. --freeze-override "hotfix for INC-123"');
  if (reason.length > MAX_OVERRIDE_REASON)
    throw new Problem(
      `--freeze-override is ${reason.length} characters long, more than ${MAX_OVERRIDE_REASON}`,
      "give a one-line reason and link the rest",
    );
  return printableLine(reason);
}

export function checkFreeze(
  freezes: readonly Freeze[],
  environment: string,
  opts: { now: number; override: string; actor: string },
): FreezeVerdict {
  const override = overrideReason(opts.override);
  const base = { at: new Date(opts.now).toISOString(), gate: "freeze" as const, stage: "before deploy", step: 0, values: [] };
  const open = openFreeze(freezes, environment, opts.now);
  if (!open) {
    const unused = override ? `; the override (${override}) was not needed` : "";
    return { decision: { ...base, verdict: "passed", reason: `no freeze window is open for ${environment}${unused}` } };
  }
  const why = open.freeze.reason ? ` (${open.freeze.reason})` : "";
  const until = describeInstant(open.endsAt, open.last.timeZone);
  const frozen = `${environment} is frozen by ${JSON.stringify(open.freeze.name)}${why} until ${until}`;
  if (override) {
    return { decision: { ...base, verdict: "overridden", reason: `${frozen}; overridden by ${opts.actor || "unknown"}: ${override}` } };
  }
  return {
    decision: { ...base, verdict: "failed", reason: frozen },
    refusal: new Problem(
      `refusing to deploy: ${frozen}`,
      'deploy after the window ends, or pass --freeze-override "<reason>" to deploy anyway (the reason goes into the audit trail and the notification)',
    ),
  };
}
