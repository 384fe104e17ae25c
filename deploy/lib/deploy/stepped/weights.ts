/**
 * Pure logic over a rule's actions: is its forward action weighted between exactly the stable and
 * the canary target group, what split does it send, and the actions that send another split.
 * Everything else in the actions (authentication before the forward, stickiness) is kept as is.
 */
import type { Action } from "@aws-sdk/client-elastic-load-balancing-v2";
import { Problem } from "../../../src/project/problem.js";

export interface TargetGroups {
  stable: string;
  canary: string;
}

/** Percentages of the rule's traffic; they always add up to 100. */
export interface Split {
  stable: number;
  canary: number;
}

export const SAFE: Split = { stable: 100, canary: 0 };

export const canaryAt = (weight: number): Split => ({ stable: 100 - weight, canary: weight });

export const describeSplit = (s: Split): string => `stable ${s.stable}% / canary ${s.canary}%`;

const name = (arn: string): string =>
  arn
    .split(":")
    .pop()
    ?.replace(/^targetgroup\//, "") ?? arn;

/** The weighted action as a user would write it, for hints. */
export const setupHint = (tg: TargetGroups): string =>
  `make its forward action send to exactly two target groups: ${name(tg.stable)} weight 100 and ${name(tg.canary)} weight 0`;

/** The tuples a forward action sends to, whether written with ForwardConfig or a bare TargetGroupArn. */
function tuples(action: Action): { arn: string; weight: number }[] {
  const configured = action.ForwardConfig?.TargetGroups ?? [];
  if (configured.length > 0) return configured.map((t) => ({ arn: t.TargetGroupArn ?? "?", weight: t.Weight ?? 1 }));
  return action.TargetGroupArn ? [{ arn: action.TargetGroupArn, weight: 1 }] : [];
}

/**
 * The split the actions send now, or a Problem naming what is wrong with them; `where` names the
 * rule or listener. Weights are relative (0-999), so 1/0 counts as stable 100%.
 */
export function currentSplit(actions: Action[], tg: TargetGroups, where: string): Split {
  const forwards = actions.filter((a) => a.Type === "forward");
  const forward = forwards[0];
  if (!forward || forwards.length > 1) {
    const types = actions.map((a) => a.Type ?? "?").join(", ") || "none";
    throw new Problem(`${where} does not forward to target groups (its actions: ${types})`, setupHint(tg));
  }
  const sent = tuples(forward);
  const arns = sent.map((t) => t.arn);
  if (sent.length !== 2 || !arns.includes(tg.stable) || !arns.includes(tg.canary)) {
    throw new Problem(
      `${where} forwards to ${arns.map(name).join(", ") || "nothing"}, not to exactly the stable and canary target groups`,
      setupHint(tg),
    );
  }
  const stable = sent.find((t) => t.arn === tg.stable)?.weight ?? 0;
  const canary = sent.find((t) => t.arn === tg.canary)?.weight ?? 0;
  if (stable + canary === 0) return { stable: 0, canary: 0 };
  const canaryPercent = Math.round((canary / (stable + canary)) * 100);
  return canaryAt(canaryPercent);
}

/**
 * The same actions sending `split`. The forward action is rewritten with ForwardConfig only:
 * ELB refuses a TargetGroupArn next to a ForwardConfig of several target groups.
 */
export function withSplit(actions: Action[], tg: TargetGroups, split: Split): Action[] {
  return actions.map((action): Action => {
    if (action.Type === "forward") {
      const { TargetGroupArn: _single, ...rest } = action;
      return {
        ...rest,
        ForwardConfig: {
          ...action.ForwardConfig,
          TargetGroups: [
            { TargetGroupArn: tg.stable, Weight: split.stable },
            { TargetGroupArn: tg.canary, Weight: split.canary },
          ],
        },
      };
    }
    // DescribeRules never returns the OIDC client secret; ModifyRule then needs to be told to keep it.
    if (action.Type === "authenticate-oidc" && action.AuthenticateOidcConfig && !action.AuthenticateOidcConfig.ClientSecret) {
      return { ...action, AuthenticateOidcConfig: { ...action.AuthenticateOidcConfig, UseExistingClientSecret: true } };
    }
    return action;
  });
}
