/**
 * The generator through the SDK's real invocation path, on the fixture service and on a variant
 * without a Dockerfile: init returns the files (written here as `init export --path=.` would), the
 * generated shipshape.yaml then loads through the real loader (`config`), the generated workflows
 * pass the real validator, and a re-run changes nothing unless told to (--force), showing the diff.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { Changeset, type Directory } from "@dagger.io/dagger";
import { afterEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { fromId } from "../harness/invoke.js";
import { dirOf, drive, fileOf, type Driven } from "../helpers/drive.js";
import { prepareFixture } from "../helpers/fixture.js";
import { actionValidator, callerProblems, callsOf, type Workflow } from "./workflow-checks.js";

const SHA = "0123456789abcdef0123456789abcdef01234567";
const TARGET = { repo: "acme/shipshape", ref: SHA };
const WORKFLOWS = ["shipshape-ci", "shipshape-release", "shipshape-rollback", "shipshape-security"].map(
  (n) => `.github/workflows/${n}.yml`,
);

let current: Driven | undefined;
afterEach(() => current?.engine.uninstall());

/** Every file of a returned directory, by path. */
async function filesOf(dir: Directory): Promise<Record<string, string>> {
  const paths = await dir.glob("**/*");
  const files = await Promise.all(
    paths.map(
      async (p) =>
        [
          p,
          await dir
            .file(p)
            .contents()
            .catch(() => undefined),
        ] as const,
    ),
  );
  return Object.fromEntries(files.filter((f): f is readonly [string, string] => f[1] !== undefined));
}

/** What `dagger call shipshape init export --path=.` leaves in the repository. */
function exportTo(root: string, files: Record<string, string>): void {
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    writeFileSync(join(root, p), text);
  }
}

async function init(d: Driven, args: Record<string, unknown> = {}): Promise<Record<string, string>> {
  return filesOf(await dirOf((await d.call<string>("init", { ...TARGET, ...args })).json));
}

describe("init on the fixture service (its own Dockerfile)", () => {
  it("returns shipshape.yaml and the four thin workflows, never the project's Dockerfile", async () => {
    current = await drive();
    const files = await init(current);
    expect(Object.keys(files).sort()).toEqual([...WORKFLOWS, "shipshape.yaml"].sort());
    for (const path of WORKFLOWS) {
      expect(actionValidator(files[path]!, path.split("/").pop())).toBeUndefined();
      const wf = parse(files[path]!) as Workflow;
      expect(callerProblems(path, wf)).toEqual([]);
      expect(callsOf(path, wf)).toEqual([]);
      expect(files[path]!.trimEnd().split("\n").length).toBeLessThanOrEqual(30);
    }
    // Loaded by the real loader, through the function that prints the effective config.
    exportTo(current.root, files);
    const config = parse((await current.call<string>("config")).json) as {
      packageManager: string;
      database: { enabled: boolean };
      migrations: { paths: string[] };
    };
    expect(config.packageManager).toBe("npm");
    expect(config.database.enabled).toBe(true);
    expect(config.migrations.paths).toEqual(["migrations/**/*.sql"]);
  });

  it("a re-run changes nothing; an edited file is shown as a diff and written only with --force", async () => {
    current = await drive();
    exportTo(current.root, await init(current));
    const unchanged = (await current.call<string>("initDiff", TARGET)).json;
    expect(unchanged).toMatch(/^0 new, 0 different, 5 unchanged\n/);
    // No install record here: the deploy module the rollback workflow calls is not installed, and init-diff says how.
    expect(unchanged).toContain(
      "note: the deploy and rollback workflows call the shipshape-deploy module, which this workspace has not installed: dagger mod install github.com/acme/shipshape/deploy@<version>",
    );
    expect(await init(current)).toEqual({});

    const ci = join(current.root, ".github/workflows/shipshape-ci.yml");
    const generated = readFileSync(ci, "utf8");
    writeFileSync(ci, generated.replace("branches: [main]", "branches: [main, release]"));
    const diff = (await current.call<string>("initDiff", TARGET)).json;
    expect(diff).toMatch(/^0 new, 1 different, 4 unchanged\n/);
    expect(diff).toContain("--- a/.github/workflows/shipshape-ci.yml\n+++ b/.github/workflows/shipshape-ci.yml\n");
    expect(diff).toContain("-    branches: [main, release]\n+    branches: [main]");
    // Without consent nothing that exists is returned, so an export cannot overwrite it.
    expect(await init(current)).toEqual({});
    expect(await init(current, { force: true })).toEqual({ ".github/workflows/shipshape-ci.yml": generated });
  });

  it("scaffold (dagger generate) is a changeset that only adds the missing files", async () => {
    current = await drive({ files: { "shipshape.yaml": "gates:\n  lint: { maxWarnings: 5 }\n" } });
    const id = (await current.call<string>("scaffold", TARGET)).json;
    expect(id).toMatch(/^Changeset@/);
    const after = await filesOf(await (await fromId(Changeset, "Changeset", id)).after());
    for (const path of WORKFLOWS) expect(after[path], path).toContain(`acme/shipshape/.github/workflows/`);
    // The team's shipshape.yaml differs from what init would write, and stays as it is.
    expect(after["shipshape.yaml"]).toBe("gates:\n  lint: { maxWarnings: 5 }\n");
    expect(after["Dockerfile"]).toBe(readFileSync(join(current.root, "Dockerfile"), "utf8"));
  });

  it("pins the workflows from the workspace's install record when no --repo/--ref is given", async () => {
    // Both modules installed, the deploy module first and at another commit: the CI module's pin is taken.
    const toml = [
      "[modules.shipshape-deploy]",
      'source = "github.com/acme/shipshape/deploy@v1.4.1"',
      'pin = "fedcba9876543210fedcba9876543210fedcba98"',
      "[modules.shipshape]",
      'source = "github.com/acme/shipshape@v1.4.0"',
      `pin = "${SHA}"`,
      "",
    ].join("\n");
    current = await drive();
    mkdirSync(join(current.root, ".dagger"), { recursive: true });
    writeFileSync(join(current.root, ".dagger/config.toml"), toml);
    const files = await filesOf(await dirOf((await current.call<string>("init")).json));
    expect(files[".github/workflows/shipshape-ci.yml"]).toContain(`uses: acme/shipshape/.github/workflows/shipshape-ci.yml@${SHA}`);
    expect(files[".github/workflows/shipshape-rollback.yml"]).toContain("call-prefix: shipshape-deploy");
    expect((await current.call<string>("initDiff")).json).not.toContain("shipshape-deploy module, which this workspace has not installed");
  });

  it("refuses to guess a pin", async () => {
    current = await drive();
    await expect(current.call("init", { repo: "acme/shipshape", ref: "main" })).rejects.toThrow(
      /--ref "main" is not a commit SHA: workflows pin reusable workflows by SHA only\nhint: pass --repo=<owner>\/shipshape --ref=<commit SHA>/,
    );
  });
});

describe("init on a service without a Dockerfile", () => {
  it("adds the hardened Dockerfile build would use, and keeps the project's .dockerignore", async () => {
    const root = prepareFixture();
    rmSync(join(root, "Dockerfile"));
    current = await drive({ root });
    const files = await init(current);
    expect(Object.keys(files).sort()).toEqual([...WORKFLOWS, "Dockerfile", "shipshape.yaml"].sort());
    // The very file `dockerfile` returns (and `build` builds from).
    const dockerfile = await (await fileOf((await current.call<string>("dockerfile")).json)).contents();
    expect(files.Dockerfile).toBe(dockerfile);
    expect(files.Dockerfile).toMatch(/^# syntax=docker\/dockerfile:1\n# Generated by Shipshape for npm/);
    expect(files.Dockerfile).toContain("USER node");
    const diff = (await current.call<string>("initDiff", TARGET)).json;
    expect(diff).toContain("note: .dockerignore kept as it is: check it leaves out .git, node_modules, .env and .npmrc");
    // Once exported, the generated Dockerfile is Shipshape's to keep up to date, and unchanged.
    exportTo(root, files);
    expect((await current.call<string>("initDiff", TARGET)).json).toMatch(/^0 new, 0 different, 6 unchanged\n/);
  });
});

describe("init --measure-coverage", () => {
  it("runs the test gate and starts coverage at the level the tests reach today", async () => {
    current = await drive();
    const files = await init(current, { measureCoverage: true });
    const lines = /lines: (\d+) # today: ([\d.]+)% \(measured by the test gate\)/.exec(files["shipshape.yaml"]!);
    expect(lines, files["shipshape.yaml"]).not.toBeNull();
    expect(Number(lines![1])).toBe(Math.floor(Number(lines![2])));
    expect(current.engine.commands.some((a) => a.includes("--coverage.enabled"))).toBe(true);
    exportTo(current.root, files);
    const config = parse((await current.call<string>("config")).json) as { coverage: { global: { lines: number } } };
    expect(config.coverage.global.lines).toBe(Number(lines![1]));
  }, 300_000);
});
