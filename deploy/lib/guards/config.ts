/**
 * Checks across sections that a field's own schema cannot see: `requires` must name other
 * environments of this file that have smoke checks (their health is proved by them just before a
 * promotion) and must not go round in a circle; a freeze must name environments that exist.
 */
import type { z } from "zod";
import { suggestKey } from "../config/errors.js";
import { quoted } from "../../src/project/problem.js";

type Ctx<T> = z.core.$RefinementCtx<T>;

interface RequiringEnv {
  requires?: readonly string[];
  smoke?: unknown;
}

function unknownName(name: string, known: readonly string[]): string {
  const guess = suggestKey(name, known);
  const tail = guess ? `; did you mean ${JSON.stringify(guess)}?` : known.length ? ` (known: ${known.join(", ")})` : "";
  return `unknown environment ${quoted(name)}${tail}: add it under environments:, or fix the name`;
}

/** For `environments:` (before its defaults transform): every `requires` entry is a sibling with smoke checks, and there is no cycle. */
export function checkRequires<T extends Readonly<Record<string, RequiringEnv>>>(envs: T, ctx: Ctx<T>): void {
  const known = Object.keys(envs);
  const issue = (path: PropertyKey[], message: string, input: unknown) => ctx.addIssue({ code: "custom", path, message, input });
  for (const [name, env] of Object.entries(envs)) {
    (env.requires ?? []).forEach((req, k) => {
      const path = [name, "requires", k];
      if (req === name) issue(path, `${name} cannot require itself: list the environments a digest must pass before ${name}`, req);
      else if (!Object.hasOwn(envs, req)) issue(path, unknownName(req, known), req);
      else if (envs[req]?.smoke === undefined)
        issue(path, `${req} has no smoke checks, so its health cannot be proved before a promotion: add environments.${req}.smoke`, req);
    });
  }
  const cycle = findCycle(envs);
  if (cycle) {
    const [first = ""] = cycle;
    issue([first, "requires"], `${cycle.join(" requires ")}: a cycle refuses every deploy to them; remove one of the requires`, cycle);
  }
}

/** One requires-cycle as a path that ends where it starts (prod, staging, prod), if there is one. */
function findCycle(envs: Readonly<Record<string, RequiringEnv>>): string[] | undefined {
  const done = new Set<string>();
  const visit = (name: string, path: string[]): string[] | undefined => {
    const at = path.indexOf(name);
    if (at >= 0) return [...path.slice(at), name];
    if (done.has(name) || !Object.hasOwn(envs, name)) return undefined;
    for (const next of envs[name]?.requires ?? []) {
      if (next === name) continue; // reported as "cannot require itself"
      const found = visit(next, [...path, name]);
      if (found) return found;
    }
    done.add(name);
    return undefined;
  };
  for (const name of Object.keys(envs)) {
    const found = visit(name, []);
    if (found) return found;
  }
  return undefined;
}

/** For the root: every environment a freeze names is one of environments:. */
export function checkFreezeEnvironments<
  T extends { freezes: ReadonlyArray<{ environments?: readonly string[] | undefined }>; environments: Readonly<Record<string, unknown>> },
>(config: T, ctx: Ctx<T>): void {
  const known = Object.keys(config.environments);
  config.freezes.forEach((f, i) =>
    (f.environments ?? []).forEach((env, k) => {
      if (!Object.hasOwn(config.environments, env))
        ctx.addIssue({ code: "custom", path: ["freezes", i, "environments", k], message: unknownName(env, known), input: env });
    }),
  );
}
