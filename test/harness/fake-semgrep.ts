/**
 * A fake `semgrep` for the stub engine: Semgrep is not installable here, so the reports a scan
 * writes are Semgrep's own published test output (test/fixtures/semgrep, README there for the
 * sources), but the command line around them is judged as Semgrep 1.x judges it (read from
 * semgrep/semgrep@6568da5 cli/src/semgrep, modelled, not copied):
 * - Options are click's (commands/scan.py): an unknown one is a usage error, exit 2.
 * - `--config auto` with `--metrics=off` aborts before scanning: "Cannot create auto config when
 *   metrics are off..." on stderr, exit 2 (util.py abort), no report written.
 * - Configs are loaded one by one (config_resolver.py from_config_list); each failure is collected
 *   (a missing path: "unable to find a config; path `x` does not exist"; YAML that does not parse:
 *   code 5 "Invalid YAML file"; a registry id when semgrep.dev is unreachable: "Failed to download
 *   configuration from ..."), then run_scan.py raises "invalid configuration file found (N configs
 *   were invalid)", code 7. The report is still written, with only those errors.
 * - A target that does not exist: "File not found: <path>", code 2 (test_sarif_output_when_errors).
 * - Exit code (output.py output/_final_raise): the last error's code if it is level `error`, or a
 *   `warn` one with --strict; else 1 if a finding is not nosemgrep'd and --error is set; else 0.
 * - --exclude skips a file when a pattern matches its path or any parent directory (gitignore-like).
 * The fake refuses to report a file the scanned tree does not have: that would be a test bug.
 */
import picomatch from "picomatch";
import { parse } from "yaml";
import type { ExecContext, ExecResult } from "./model.js";
import type { StubEngine } from "./stub-engine.js";

/** Semgrep's own output for one scan: the JSON report and, when the run wrote one, its SARIF. */
export interface SemgrepRun {
  json: string;
  sarif?: string;
}

export interface FakeSemgrepOptions {
  /** What scanning with these configs finds (the fixture of the run that used them). */
  run: SemgrepRun | ((configs: string[], ctx: ExecContext) => SemgrepRun);
  /** Whether semgrep.dev answers for registry configs (p/, r/, s/); default true. */
  registry?: boolean;
}

export type SemgrepEvent = { configs: string[]; exitCode: number; args: string[] };

const VALUE_FLAGS = new Set(["--config", "-c", "--metrics", "--json-output", "--sarif-output", "--exclude", "--include", "--severity"]);
const BOOL_FLAGS = new Set([
  "--error",
  "--strict",
  "--json",
  "--sarif",
  "--quiet",
  "-q",
  "--disable-version-check",
  "--enable-version-check",
]);

interface Parsed {
  values: Map<string, string[]>;
  bools: Set<string>;
  targets: string[];
}

function parseArgs(args: string[]): Parsed | string {
  const values = new Map<string, string[]>();
  const bools = new Set<string>();
  const targets: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const eq = a.startsWith("--") ? a.indexOf("=") : -1;
    const name = eq > 0 ? a.slice(0, eq) : a;
    if (VALUE_FLAGS.has(name)) {
      const value = eq > 0 ? a.slice(eq + 1) : args[++i];
      if (value === undefined) return `Option '${name}' requires an argument.`;
      values.set(name === "-c" ? "--config" : name, [...(values.get(name === "-c" ? "--config" : name) ?? []), value]);
    } else if (BOOL_FLAGS.has(a)) bools.add(a);
    else if (a.startsWith("-")) return `No such option: ${name}`;
    else targets.push(a);
  }
  return { values, bools, targets };
}

const usage = (error: string): ExecResult => ({
  exitCode: 2,
  stderr: `Usage: semgrep scan [OPTIONS] [TARGETS]...\nTry 'semgrep scan --help' for help.\n\nError: ${error}\n`,
});

const semgrepError = (code: number, message: string) => ({ code, level: "error", message, type: "SemgrepError" });

/** A rules file is YAML with a `rules` list (rule_schema_v1.yaml requires it). */
function rulesProblem(path: string, text: string): string | undefined {
  try {
    const doc: unknown = parse(text);
    const rules = typeof doc === "object" && doc !== null ? (doc as { rules?: unknown }).rules : undefined;
    return Array.isArray(rules) ? undefined : `Invalid YAML file ${path}:\n\tno top-level "rules" list`;
  } catch (e) {
    return `Invalid YAML file ${path}:\n\t${(e as Error).message.split("\n")[0]}`;
  }
}

export function fakeSemgrep(engine: StubEngine, opts: FakeSemgrepOptions): SemgrepEvent[] {
  const events: SemgrepEvent[] = [];
  engine.onExec(
    (a) => a[0] === "semgrep",
    (ctx) => {
      // The binary is in the semgrep/semgrep image only (its Dockerfile: no ENTRYPOINT, CMD semgrep --help).
      if (!ctx.image?.startsWith("semgrep/semgrep:"))
        return { exitCode: 127, stderr: `exec: "semgrep": executable file not found in $PATH` };
      const parsed = parseArgs(ctx.args.slice(ctx.args[1] === "scan" ? 2 : 1));
      if (typeof parsed === "string") return usage(parsed);
      const configs = parsed.values.get("--config") ?? [];
      const metrics = (parsed.values.get("--metrics") ?? ["auto"]).at(-1);
      const done = (r: ExecResult) => (events.push({ configs, exitCode: r.exitCode ?? 0, args: ctx.args }), r);
      if (configs.includes("auto") && metrics === "off") {
        return done({
          exitCode: 2,
          stderr: "Cannot create auto config when metrics are off. Please allow metrics or run with a specific config.\n",
        });
      }
      const at = (p: string) => (p.startsWith("/") ? p : `${ctx.workdir}/${p}`.replace(/\/\.$/, "").replace(/\/\.\//g, "/"));
      const present = (p: string) => ctx.exists(at(p)) || Object.keys(ctx.filesUnder(at(p))).length > 0;
      const configErrors = configs.flatMap((c) => {
        if (/^[prs]\//.test(c))
          return opts.registry === false
            ? [semgrepError(2, `Failed to download configuration from https://semgrep.dev/${c} Failed after multiple attempts`)]
            : [];
        if (!present(c)) return [semgrepError(2, `WARNING: unable to find a config; path \`${c}\` does not exist`)];
        const files = ctx.exists(at(c)) ? { [at(c)]: ctx.read(at(c)) ?? "" } : ctx.filesUnder(at(c));
        return Object.entries(files)
          .filter(([p]) => /\.ya?ml$/.test(p))
          .flatMap(([p, text]) => (rulesProblem(p.slice(ctx.workdir.length + 1), text) ?? []) as string[])
          .map((m) => semgrepError(5, m));
      });
      const write = (report: object, sarif: string | undefined, extraErrors: object[]): ExecResult => {
        const errors = [...(report as { errors: object[] }).errors, ...extraErrors] as { code: number; level: string }[];
        const json = JSON.stringify({ ...report, errors }, null, 2);
        const files: Record<string, string> = {};
        for (const out of parsed.values.get("--json-output") ?? []) files[out] = json;
        for (const out of parsed.values.get("--sarif-output") ?? []) if (sarif !== undefined) files[out] = sarif;
        const last = errors.at(-1);
        const results = (report as { results: { extra: { is_ignored?: boolean } }[] }).results;
        let exitCode = 0;
        if (last && (last.level === "error" || parsed.bools.has("--strict"))) exitCode = last.code;
        else if (parsed.bools.has("--error") && results.some((r) => r.extra.is_ignored !== true)) exitCode = 1;
        return done({ exitCode, files, stdout: parsed.bools.has("--json") ? json : "" });
      };
      if (configs.length === 0)
        return write({ errors: [], results: [], paths: { scanned: [] } }, undefined, [
          semgrepError(
            7,
            "No config given. Run with `--config auto` or see https://semgrep.dev/docs/running-rules/ for instructions on running with a specific config\n",
          ),
        ]);
      if (configErrors.length > 0) {
        return write({ errors: [], results: [], paths: { scanned: [] }, skipped_rules: [] }, undefined, [
          ...configErrors,
          semgrepError(7, `invalid configuration file found (${configErrors.length} configs were invalid)`),
        ]);
      }
      const missing = parsed.targets.filter((t) => !present(t));
      if (missing.length > 0)
        return write(
          { errors: [], results: [], paths: { scanned: [] } },
          undefined,
          missing.map((t) => semgrepError(2, `File not found: ${t}`)),
        );

      const run = typeof opts.run === "function" ? opts.run(configs, ctx) : opts.run;
      const report = JSON.parse(run.json) as { results: { path: string; check_id: string; extra: object }[]; errors: object[] };
      const excluded = picomatch(parsed.values.get("--exclude") ?? [], { dot: true });
      const skip = (path: string) =>
        path.split("/").some((_, i, parts) => excluded(parts.slice(0, i + 1).join("/")) || excluded(parts[i]!));
      for (const r of report.results) {
        if (!present(r.path)) throw new Error(`fake semgrep: the fixture reports ${r.path}, which the scanned tree does not have`);
      }
      const kept = report.results.filter((r) => !skip(r.path));
      let sarif = run.sarif;
      if (sarif !== undefined) {
        const log = JSON.parse(sarif) as {
          runs: { results: { locations?: { physicalLocation?: { artifactLocation?: { uri?: string } } }[] }[] }[];
        };
        for (const r of log.runs)
          r.results = r.results.filter((x) => !skip(x.locations?.[0]?.physicalLocation?.artifactLocation?.uri ?? ""));
        sarif = JSON.stringify(log, null, 2);
      }
      return write({ ...report, results: kept }, sarif, []);
    },
  );
  return events;
}
