/**
 * Bad deploy and release arguments, checked by the same pure functions the Dagger functions call
 * before anything runs, and bad project layouts through a gate (nothing installed or run).
 */
import { dag } from "@dagger.io/dagger";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parseConfig } from "../../deploy/lib/config/load.js";
import { environment } from "../../deploy/lib/gates/deploy.js";
import { checkRefArgument, checkSha } from "../../deploy/lib/release/commits/git.js";
import { assertDigestRef } from "../../deploy/lib/supply/signing/commands.js";
import { assertUsableToken } from "../../deploy/lib/supply/signing/identity.js";
import { imageTags } from "../../deploy/lib/supply/publish/tags.js";
import { checkFilter } from "../../deploy/lib/trail/store.js";
import { drive, type Driven } from "../helpers/drive.js";
import { gateError } from "../helpers/gate-error.js";
import { callWith } from "../helpers/ship-calls.js";
import { expectClear, rejected, thrown } from "./clear.js";

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

describe("deploy and release arguments through the with-* chain", () => {
  let d: Driven | undefined;
  afterEach(() => d?.engine.uninstall());

  it("with-aws given both static keys and a role is refused at once, as the deploy module refuses it", async () => {
    d = await drive();
    const root = await d.harness.root();
    const keys = { accessKeyId: dag.setSecret("k", "AKIAIOSFODNN7EXAMPLE"), secretAccessKey: dag.setSecret("s", "x".repeat(40)) };
    const role = "arn:aws:iam::123456789012:role/publisher";
    const answer = await rejected(root.call("withAws", { ...keys, roleArn: role }));
    expectClear(answer, /^both static AWS keys and a web identity token\/role were given/, /either --role-arn .* or the --access-key-id/);
    // Either one alone is a chain that goes on.
    expect((await root.call("withAws", keys)).type).toBe("Shipshape");
    expect((await root.call("withAws", { roleArn: role, webIdentityToken: dag.setSecret("t", "eyJ.x.y") })).type).toBe("Shipshape");
  });

  it("a with-run --commit-sha that is an option is refused by publish before anything is pushed", async () => {
    d = await drive();
    const answer = await rejected(
      callWith(d, "publish", { registry: "ghcr.io/acme", repository: "orders" }, { sha: "--output=x", branch: "main" }),
    );
    expectClear(answer, /is not a git commit SHA$/, /rev-parse/);
    expect(d.engine.published).toEqual([]);
  });

  it("a with-run --version that is not semver is refused by publish before anything is pushed", async () => {
    d = await drive();
    const chain = { sha: "0123456789abcdef0123456789abcdef01234567", branch: "main", version: "latest" };
    const answer = await rejected(callWith(d, "publish", { registry: "ghcr.io/acme", repository: "orders" }, chain));
    expectClear(answer, /^version "latest" is not semver$/, /1\.4\.0/);
    expect(d.engine.published).toEqual([]);
  });

  it("sign by tag through the chain: refused before cosign runs, however the signer was set", async () => {
    d = await drive();
    const answer = await rejected(
      callWith(d, "sign", { ref: "ghcr.io/acme/api:latest" }, { cosignKey: dag.secret("env://K"), cosignPassword: dag.secret("env://P") }),
    );
    expectClear(answer, /has no @sha256:<64 hex> digest/, /by digest/);
    expect(d.engine.execs).toEqual([]);
  });
});

// A gate that could not judge fails its call (never a returned report the engine could cache): the
// cause and fix are read back from the table the call's error is, as `dagger call lint` prints it.
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
    const err = await gateError(d.call("lint"));
    expect(err.gate).toBe("lint");
    expect(err.status).toBe("ERROR");
    expectClear(err, cause, hint);
    expect(d.engine.commands).toEqual([]);
  });
});
