/**
 * The line of a failed install that says why, as each package manager prints it, and the fix that
 * goes with it. Never the "A complete log of this run can be found in" pointer npm ends with, nor
 * a summary line. Formats as captured on this machine (test/bad-input/fixtures/install/):
 * - npm 7+ writes `npm error code E404` then the message on `npm error` lines, to stderr
 *   (npm 6 and earlier: `npm ERR!`); `errno`/`syscall`/`path` lines may sit in between;
 * - pnpm writes ` ERR_PNPM_<CODE>  <message>` (thin spaces around the code) to stdout;
 * - Yarn 1 writes `error <message>` to stderr;
 * - Yarn 2+ writes `➤ YN0028: │ <message>` to stdout; YN0000 is its informational code, and a
 *   YN0028 report is preceded by the lockfile diff under the same code (yarnpkg/berry#2948 log).
 */
import type { PackageManagerInfo } from "../project/detect.js";
import { printableLine } from "../../src/project/problem.js";

export interface InstallFailure {
  cause: string;
  hint: string;
}

const MAX_CAUSE = 300;
const LOG_POINTER = /complete log of this run can be found|^For a full report see:?$|_logs\/.*\.(log|txt)$/i;
const lines = (text: string) =>
  text
    .split(/\r?\n/)
    .map((l) => l.replace(/[\u2009\s]+/gu, " ").trim())
    .filter(Boolean);

function npmCause(stderr: string): string | undefined {
  const body = lines(stderr)
    .filter((l) => /^npm (error|ERR!)( |$)/.test(l))
    .map((l) => l.replace(/^npm (error|ERR!) ?/, ""))
    .filter((l) => l && !LOG_POINTER.test(l));
  const at = body.findIndex((l) => /^code \S+$/.test(l));
  if (at < 0) return body[0];
  const code = body[at]!.slice(5);
  const message = body.slice(at + 1).find((l) => !/^(code|errno|syscall|path) /.test(l));
  return message ? `${code}: ${message}` : code;
}

const pnpmCause = (out: string) => lines(out).find((l) => /^ERR_PNPM_[A-Z0-9_]+ /.test(l));
const yarnClassicCause = (stderr: string) =>
  lines(stderr)
    .find((l) => l.startsWith("error "))
    ?.slice(6);

function yarnBerryCause(out: string): string | undefined {
  const reports = lines(out)
    .map((l) => /^➤ (YN\d{4}): (?:[│┌└] ?)?(.*)$/u.exec(l))
    .filter((m): m is RegExpExecArray => m !== null && m[1] !== "YN0000")
    .map((m) => `${m[1]}: ${m[2]}`);
  // A diff line of the lockfile starts with -, + or @@ after the code.
  return reports.find((r) => !/^YN\d{4}: [-+@ ]/.test(r));
}

/** What to do about the cause: the lockfile out of date, a name the registry lacks, a peer conflict. */
function hintFor(pm: PackageManagerInfo, cause: string, cmd: string): string {
  const lockfile = pm.lockfile || { npm: "package-lock.json", pnpm: "pnpm-lock.yaml", yarn: "yarn.lock" }[pm.name];
  const update = pm.name === "npm" ? "npm install" : `${pm.name} install`;
  if (/in sync|OUTDATED_LOCKFILE|lockfile needs to be updated|lockfile would have been (modified|created)|YN0028/i.test(cause))
    return `run \`${update}\` and commit the updated ${lockfile}`;
  if (/\bE?404\b|Couldn't find package|Package not found|FETCH_404|YN0035/i.test(cause))
    return "check the package name and version in package.json, and the registry and token in .npmrc/.yarnrc.yml";
  if (/ERESOLVE|peer/i.test(cause)) return "fix the dependency conflict it names (align the versions), then commit the updated lockfile";
  return `run ${cmd} locally to see the full output`;
}

/** One line of cause and a hint for a failed install, from the package manager's own output. */
export function installFailure(
  pm: PackageManagerInfo,
  cmd: string[],
  step: { exitCode: number; stdout: string; stderr: string },
): InstallFailure {
  const own =
    pm.name === "npm"
      ? npmCause(step.stderr)
      : pm.name === "pnpm"
        ? pnpmCause(`${step.stdout}\n${step.stderr}`)
        : pm.yarnBerry
          ? yarnBerryCause(`${step.stdout}\n${step.stderr}`)
          : yarnClassicCause(step.stderr);
  // Unknown format: the last line that is not a pointer to a log file.
  const last = lines(step.stderr || step.stdout)
    .filter((l) => !LOG_POINTER.test(l))
    .at(-1);
  const picked = printableLine(own ?? last ?? `exit code ${step.exitCode}`);
  const line = picked.length > MAX_CAUSE ? `${picked.slice(0, MAX_CAUSE)}…` : picked;
  return { cause: `dependencies failed to install (${cmd.join(" ")}): ${line}`, hint: hintFor(pm, line, cmd.join(" ")) };
}
