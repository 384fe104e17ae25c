import { describe, expect, it } from "vitest";
import {
  DEFAULT_NODE_VERSION,
  detectNodeVersion,
  detectPackageManager,
  detectTestRunner,
  parsePackageJson,
} from "../../deploy/lib/project/detect.js";
import { describeError, Problem } from "../../deploy/src/project/problem.js";

const pkg = (extra: object = {}) => parsePackageJson(JSON.stringify({ name: "svc", ...extra }));
const problem = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return describeError(e);
  }
  throw new Error("expected a Problem");
};

describe("package manager detection", () => {
  it("reads the lockfile", () => {
    expect(detectPackageManager(["package.json", "package-lock.json"], pkg())).toMatchObject({
      name: "npm",
      lockfile: "package-lock.json",
    });
    expect(detectPackageManager(["package.json", "pnpm-lock.yaml"], pkg())).toMatchObject({ name: "pnpm", yarnBerry: false });
    expect(detectPackageManager(["yarn.lock"], pkg())).toMatchObject({ name: "yarn", yarnBerry: false });
  });

  it("tells Yarn berry from Yarn 1 by .yarnrc.yml or the packageManager field", () => {
    expect(detectPackageManager(["yarn.lock", ".yarnrc.yml"], pkg()).yarnBerry).toBe(true);
    expect(detectPackageManager(["yarn.lock"], pkg({ packageManager: "yarn@4.5.1+sha512.abc" }))).toMatchObject({
      yarnBerry: true,
      pinned: "yarn@4.5.1",
    });
    expect(detectPackageManager(["yarn.lock"], pkg({ packageManager: "yarn@1.22.22" })).yarnBerry).toBe(false);
  });

  it("lets the packageManager field pick among several lockfiles", () => {
    expect(detectPackageManager(["package-lock.json", "pnpm-lock.yaml"], pkg({ packageManager: "pnpm@9.12.0" })).name).toBe("pnpm");
  });

  it("explains every bad input in one line with a hint", () => {
    expect(problem(() => detectPackageManager(["package.json"], pkg()))).toEqual({
      cause: "no lockfile: installs would not be reproducible",
      hint: expect.stringContaining("commit the lockfile"),
    });
    expect(problem(() => detectPackageManager(["package-lock.json", "yarn.lock"], pkg())).cause).toBe(
      "several lockfiles (package-lock.json, yarn.lock): the package manager is ambiguous",
    );
    expect(problem(() => detectPackageManager(["package-lock.json"], pkg({ packageManager: "bun@1.1.0" }))).cause).toBe(
      'unknown package manager "bun@1.1.0" in package.json',
    );
    expect(problem(() => detectPackageManager(["package-lock.json"], pkg({ packageManager: "pnpm@9.0.0" }))).cause).toBe(
      "pnpm is the package manager, but the only lockfile is package-lock.json",
    );
    expect(problem(() => detectPackageManager(["bun.lockb"], pkg())).cause).toBe("bun lockfiles are not supported");
    expect(problem(() => parsePackageJson(undefined)).cause).toBe("no package.json at the root of the source directory");
    expect(problem(() => parsePackageJson("{ nope")).cause).toMatch(/^package\.json is not valid JSON: /);
    expect(problem(() => parsePackageJson('{"scripts": {"test": 1}}')).cause).toMatch(/^package\.json: scripts\.test: /);
  });

  it("honours an explicit override from shipshape.yaml", () => {
    expect(detectPackageManager(["package-lock.json", "yarn.lock"], pkg(), "yarn").name).toBe("yarn");
  });
});

describe("Node version", () => {
  it("prefers shipshape.yaml, then .nvmrc, then engines, then the default", () => {
    expect(detectNodeVersion("22.11.0", "20", ">=18")).toEqual({ version: "22.11.0", from: "shipshape.yaml" });
    expect(detectNodeVersion(undefined, "v20.11.1\n", ">=18")).toEqual({ version: "20.11.1", from: ".nvmrc" });
    expect(detectNodeVersion(undefined, undefined, ">=20")).toEqual({ version: DEFAULT_NODE_VERSION, from: "engines.node" });
    expect(detectNodeVersion(undefined, undefined, "^22.12.0")).toEqual({ version: "22", from: "engines.node" });
    expect(detectNodeVersion(undefined, undefined, undefined)).toEqual({ version: DEFAULT_NODE_VERSION, from: "default" });
  });

  it("ignores .nvmrc aliases it cannot pin and rejects impossible ranges", () => {
    expect(detectNodeVersion(undefined, "lts/*", undefined).from).toBe("default");
    expect(problem(() => detectNodeVersion(undefined, undefined, "<18")).cause).toBe('engines.node "<18" allows none of Node 24, 22, 20');
    expect(problem(() => detectNodeVersion(undefined, undefined, "banana")).cause).toBe(
      'engines.node "banana" is not a valid semver range',
    );
  });
});

describe("test runner", () => {
  it("recognises the runner behind the script", () => {
    expect(detectTestRunner("vitest run")).toBe("vitest");
    expect(detectTestRunner("NODE_OPTIONS=--experimental-vm-modules jest --runInBand")).toBe("jest");
    expect(detectTestRunner("node --test test/")).toBe("node");
    expect(detectTestRunner("mocha")).toBe("other");
  });
});

describe("describeError", () => {
  it("keeps a Problem's cause and hint and reduces anything else to its first line", () => {
    expect(describeError(new Problem("a", "b"))).toEqual({ cause: "a", hint: "b" });
    expect(describeError(new Error("first\n    at stack (x.js:1)\nhint: do this"))).toEqual({ cause: "first", hint: "do this" });
    expect(describeError("plain")).toEqual({ cause: "plain", hint: "" });
  });
});
