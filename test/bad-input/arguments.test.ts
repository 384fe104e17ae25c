/**
 * Bad deploy and release arguments, checked by the same pure functions the Dagger functions call
 * before anything runs, and bad project layouts through a gate (nothing installed or run).
 */
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import { environment } from "../../src/gates/deploy.js";
import { checkRefArgument, checkSha } from "../../src/release/commits/git.js";
import type { GateReport } from "../../src/report/gate-report.js";
import { assertDigestRef } from "../../src/supply/signing/commands.js";
import { assertUsableToken } from "../../src/supply/signing/identity.js";
import { imageTags } from "../../src/supply/publish/tags.js";
import { checkFilter } from "../../src/trail/store.js";
import { drive, type Driven } from "../helpers/drive.js";
import { expectClear, thrown } from "./clear.js";

const { config } = parseConfig(undefined);
const strategy = { sha: true, branch: true, semver: true, latest: true };
const jwt = (exp: number) => `x.${Buffer.from(JSON.stringify({ exp })).toString("base64url")}.y`;

describe("deploy and release arguments", () => {
  it.each<[string, () => unknown, RegExp, RegExp]>([
    ["an environment not in shipshape.yaml", () => environment(config, "prodd"), /^unknown environment "prodd"$/, /environments:/],
    ["an image by tag, not digest", () => assertDigestRef("ghcr.io/acme/api:latest"), /has no @sha256:<64 hex> digest/, /by digest/],
    [
      "a commit SHA that is an option",
      () => imageTags({ sha: "--output=x", defaultBranch: "main", strategy }),
      /is not a git commit SHA$/,
      /rev-parse/,
    ],
    [
      "a release version that is not semver",
      () => imageTags({ sha: "abc1234", version: "latest", defaultBranch: "main", strategy }),
      /^version "latest" is not semver$/,
      /1\.4\.0/,
    ],
    [
      "a --commit-sha with shell syntax",
      () => checkSha("--commit-sha", "HEAD;id"),
      /^--commit-sha "HEAD;id" is not a commit SHA$/,
      /hex digits/,
    ],
    [
      "an audit read since no time",
      () => checkFilter({ since: "yesterday" }),
      /^audit read: since is not a time: "yesterday"$/,
      /ISO 8601/,
    ],
    [
      "an OIDC token that expired",
      () => assertUsableToken(jwt(1), new Date(), "signing"),
      /^the OIDC identity token expired at 1970/,
      /fresh token/,
    ],
    [
      "a release --base that is a refspec",
      () => checkRefArgument("--base", "main:refs/x y"),
      /contains spaces or control characters$/,
      /--base/,
    ],
    [
      "a deploy environment missing its cluster",
      () => parseConfig("environments:\n  prod: {}\n"),
      /environments\.prod\.cluster: required/,
      /JSON Schema/,
    ],
  ])("%s", (_name, fn, cause, hint) => {
    expectClear(thrown(fn), cause, hint);
  });
});

describe("project layout: an ERROR before anything is installed", () => {
  let d: Driven | undefined;
  afterEach(() => d?.engine.uninstall());

  it.each<[string, Record<string, string | null>, RegExp, RegExp]>([
    ["no package.json", { "package.json": null }, /^no package\.json at the root/, /--source/],
    ["package.json that is not JSON", { "package.json": '{"name": "api",' }, /^package\.json is not valid JSON/, /fix the syntax/],
    ["scripts that are not strings", { "package.json": '{"scripts": {"test": 1}}' }, /^package\.json: scripts\.test:/, /string scripts/],
    ["no lockfile", { "package-lock.json": null }, /^no lockfile/, /commit the lockfile/],
    ["a bun lockfile only", { "package-lock.json": null, "bun.lock": "{}" }, /^bun lockfiles are not supported$/, /package-lock/],
    ["two lockfiles", { "yarn.lock": "" }, /^several lockfiles/, /packageManager/],
    [
      "an unknown packageManager",
      { "package.json": '{"packageManager": "bun@1.2.0"}' },
      /^unknown package manager "bun@1\.2\.0"/,
      /npm@x\.y\.z/,
    ],
    [
      "engines.node that is not a range",
      { ".nvmrc": null, "package.json": '{"engines": {"node": "banana"}}' },
      /^engines\.node "banana" is not a valid semver range$/,
      /node\.version/,
    ],
  ])("%s", async (_name, files, cause, hint) => {
    d = await drive();
    for (const [name, text] of Object.entries(files)) {
      if (text === null) rmSync(join(d.root, name));
      else writeFileSync(join(d.root, name), text);
    }
    const report = (await d.call<GateReport>("lintReport")).json;
    expect(report.status).toBe("Error");
    expectClear(report, cause, hint);
    expect(d.engine.commands).toEqual([]);
  });
});
