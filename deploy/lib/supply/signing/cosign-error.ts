/**
 * cosign's own reason for a failure. cosign (cobra) prints warnings first ("WARNING: Could not
 * fetch trusted_root.json ..."), then `Error: <reason>`, then the same reason again as
 * `error during command execution: <reason>` (cmd/cosign/main.go); captured from cosign 3 on this
 * machine in test/bad-input/fixtures/cosign/. The reason is the line to show: not a warning, not
 * a guess at what went wrong.
 */
import { printableLine } from "../../../src/project/problem.js";

const MAX = 300;

export function cosignError(run: { exitCode: number; stderr?: string }): string {
  const lines = (run.stderr ?? "")
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
  const own =
    lines.find((l) => l.startsWith("Error: "))?.slice(7) ??
    lines.find((l) => l.startsWith("error during command execution: "))?.slice(32) ??
    lines.filter((l) => !l.startsWith("WARNING")).at(-1);
  const line = printableLine(own ?? `exit code ${run.exitCode}`);
  return line.length > MAX ? `${line.slice(0, MAX)}…` : line;
}
