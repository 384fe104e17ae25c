/**
 * Hostile values against the exact argv Shipshape builds, run for real: a value starting with "-"
 * is never an option to git, and no package name is ever shell syntax. Each case first shows the
 * hazard is real (the unguarded form does write the file), so the guarded run proves something.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { APT_INSTALL, systemPackagesCommand } from "../../deploy/lib/gates/commands.js";
import { gitLogCommand, verifyCommitCommand } from "../../deploy/lib/release/commits/git.js";
import { GitRepo, run } from "../helpers/git-repo.js";

const scratch = () => mkdtempSync(join(tmpdir(), "shipshape-inject-"));

describe("a ref that starts with '-' is never a git option", () => {
  const repo = GitRepo.init();
  repo.commit("feat: one");

  it.each<[string, (out: string) => string[]]>([
    ["rev-parse --verify", (out) => verifyCommitCommand(`--output=${out}`)],
    ["log of a base", (out) => gitLogCommand(`--output=${out}`)],
    ["log of a range", (out) => gitLogCommand(`--output=${out}..HEAD`)],
  ])("%s: git refuses it as a revision and writes nothing", (_name, argv) => {
    const hazard = join(scratch(), "x");
    run(["git", "log", `--output=${hazard}`], repo.dir); // without --end-of-options git writes it
    expect(existsSync(hazard)).toBe(true);
    const out = join(scratch(), "x");
    const r = run(argv(out), repo.dir);
    expect(r.status).not.toBe(0);
    expect(existsSync(out)).toBe(false);
  });
});

describe("system packages: names are data, never shell syntax", () => {
  const HOSTILE = ["git; touch PWNED1", "$(touch PWNED2)", "`touch PWNED3`", "--allow-unauthenticated", "a b"];

  it("apt-get gets every name verbatim after --, and nothing else runs", () => {
    const dir = scratch();
    const bin = join(dir, "bin");
    mkdirSync(bin);
    // Stand-ins for apt-get and rm (the real rm would empty this host's apt lists): they log argv.
    for (const tool of ["apt-get", "rm"]) {
      writeFileSync(join(bin, tool), `#!/bin/sh\nfor a in "$@"; do printf '%s\\n' "$a"; done >> "${dir}/${tool}.log"\n`);
      chmodSync(join(bin, tool), 0o755);
    }
    const [sh = "", ...args] = systemPackagesCommand("node:22-bookworm-slim", HOSTILE) ?? [];
    const env = { ...process.env, PATH: `${bin}:/usr/bin:/bin` };
    // The hazard: the same names pasted into the shell line run their commands.
    spawnSync("sh", ["-c", `true ${HOSTILE[1]}`], { cwd: dir, env });
    expect(existsSync(join(dir, "PWNED2"))).toBe(true);
    const work = scratch();
    expect(spawnSync(sh, args, { cwd: work, env }).status).toBe(0);
    expect(readFileSync(join(dir, "apt-get.log"), "utf8").split("\n").slice(0, -1)).toEqual([
      "update",
      "-qq",
      "install",
      "-y",
      "-qq",
      "--no-install-recommends",
      "--",
      ...HOSTILE,
    ]);
    for (const n of [1, 2, 3]) expect(existsSync(join(work, `PWNED${n}`))).toBe(false);
    expect(args.slice(0, 2)).toEqual(["-c", APT_INSTALL]); // the shell line is a constant, whatever the names
  });

  it("apk gets them as argv, no shell, after --", () => {
    expect(systemPackagesCommand("node:22-alpine", HOSTILE)).toEqual(["apk", "add", "--no-cache", "--", ...HOSTILE]);
  });
});
