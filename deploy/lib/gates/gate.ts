/** The shape every gate shares, and the wrapper that times it and turns bad input into a report. */
import { dag, type Container, type Directory } from "@dagger.io/dagger";
import type { Project } from "../project/load.js";
import { describeError } from "../../src/project/problem.js";
import type { Diagnostic } from "../../src/report/diagnostic.js";
import { errored, MAX_FINDINGS, type GateOutcome } from "../../src/report/outcome.js";
import { progress } from "./progress.js";

export interface GateContext {
  project: Project;
  source: Directory;
  installed(): Promise<Container>;
}

export type Verdict = Omit<GateOutcome, "gate" | "durationMs">;
export interface GateRun {
  outcome: GateOutcome;
  files: Directory;
}
export type Gate = (ctx: GateContext) => Promise<{ verdict: Verdict; files: Directory }>;

/** Runs a gate; whatever goes wrong (bad input, tool crash) becomes an ERROR report, never a throw. */
export async function runGate<C = GateContext>(
  name: string,
  load: () => Promise<C>,
  gate: (ctx: C) => Promise<{ verdict: Verdict; files: Directory }>,
): Promise<GateRun> {
  const started = Date.now();
  try {
    const ctx = await load();
    const { verdict, files } = await gate(ctx);
    const outcome = { gate: name, durationMs: Date.now() - started, ...verdict };
    progress(name, `${outcome.status}: ${outcome.summary}`);
    return { outcome, files };
  } catch (e) {
    const { cause, hint } = describeError(e);
    progress(name, `error: ${cause}`);
    return { outcome: errored(name, Date.now() - started, cause, hint), files: dag.directory() };
  }
}

export function formatFinding(d: Diagnostic): string {
  const where = d.file ? `${d.file}${d.line ? `:${d.line}${d.column ? `:${d.column}` : ""}` : ""} ` : "";
  return `${where}${d.ruleId} ${d.message.split("\n")[0]}`;
}

export const findings = (diags: Diagnostic[]) => diags.slice(0, MAX_FINDINGS).map(formatFinding);

export const firstLine = (text: string, fallback: string) =>
  text
    .trim()
    .split("\n")
    .find((l) => l.trim()) ?? fallback;
