/**
 * A gate that could not judge (ERROR) fails its call instead of returning its report, so that the
 * engine never caches the flake (src/index.ts `reported`). What the report would have said is in
 * the call's error: its table row (gate, status, detail: the cause) and its fix hint, as
 * `dagger call <gate>` prints them.
 */
export interface GateError {
  gate: string;
  /** As the table prints it: ERROR. */
  status: string;
  /** The row's detail: an ERROR's summary is its cause. */
  cause: string;
  /** The row's fix hint ("" when it has none). */
  hint: string;
  message: string;
}

const VERDICT = /^(all gates passed|\d+ of \d+ gates did not pass)$/;

/** Reads the table a failed gate call ended with back into its parts. */
export function parseGateError(message: string): GateError {
  const lines = message.split("\n");
  const header = lines.findIndex((l) => /^GATE\s+STATUS\s+TIME\s+DETAIL$/.test(l));
  if (header < 0) throw new Error(`not a gate table:\n${message}`);
  const verdict = lines.findIndex((l, i) => i > header && VERDICT.test(l));
  const row = lines.slice(header + 1, verdict < 0 ? undefined : verdict - 1).join("\n");
  const m = /^(\S+)\s+([A-Z]+)\s+(\S+)\s{2}([\s\S]*)$/.exec(row) ?? /^(\S+)\s+([A-Z]+)\s+(\S+)()$/.exec(row);
  if (!m) throw new Error(`no gate row in:\n${message}`);
  const gate = m[1]!;
  const fix = lines.indexOf("how to fix:");
  const hint =
    fix < 0
      ? ""
      : (lines
          .slice(fix + 1)
          .find((l) => l.startsWith(`  ${gate}: `))
          ?.slice(gate.length + 4) ?? "");
  return { gate, status: m[2]!, cause: m[4]!, hint, message };
}

/** The error a gate call must end with (an ERROR, or a failed `sync`), read back as its table row. */
export async function gateError(call: Promise<unknown>): Promise<GateError> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof Error)) throw new Error("expected the gate call to fail");
  return parseGateError(err.message);
}
