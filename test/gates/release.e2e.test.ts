/**
 * release through the invocation path (`dagger call with-registry ... with-signer ... with-run ...
 * release ...`) on the stub engine: every
 * published platform scanned, license-checked and SBOM'd on its own (Trivy and syft answered with
 * real reports, gitleaks run for real), then publish, the signature on the index and each
 * platform's SBOM attested to that platform's own manifest, read back from the registry by digest.
 */
import { dag } from "@dagger.io/dagger";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Release } from "../../src/report/release.js";
import { attestCommand, signCommand } from "../../deploy/lib/supply/signing/commands.js";
import { FIXTURES } from "../helpers/fixture.js";
import { dirOf, drive, type Driven } from "../helpers/drive.js";
import { FakeGithubOidc, FakeRegistry, jwt } from "../helpers/fake-registry.js";
import { callWith, type ChainArgs } from "../helpers/ship-calls.js";

const PLATFORMS = ["linux/amd64", "linux/arm64"];
let current: Driven | undefined;
let registry: FakeRegistry | undefined;
let oidc: FakeGithubOidc | undefined;
afterEach(async () => {
  current?.engine.uninstall();
  await registry?.close();
  await oidc?.close();
  registry = oidc = undefined;
});

const fixture = (p: string) => readFileSync(join(FIXTURES, p), "utf8");
const SHA = "0123456789abcdef0123456789abcdef01234567";
const SBOM = fixture("supply/sbom/orders-service-prod.cdx.json");

/** The fixture driven with scripted Trivy, syft and cosign, publishing to a registry behind token auth. */
async function drivenRelease(trivyReport: string) {
  current = await drive();
  registry = await new FakeRegistry({ username: "ci-bot", password: "registry-pw" }).start();
  registry.answerPublish(current.engine, PLATFORMS);
  const { engine } = current;
  engine.onExec((a) => a[0] === "trivy" && a.includes("--download-db-only"), { exitCode: 0 });
  engine.onExec((a) => a[0] === "trivy" && a.includes("--input"), { exitCode: 0, files: { "/shipshape/reports/trivy.json": trivyReport } });
  engine.onExec((a) => a[0] === "/syft", { exitCode: 0, files: { "/shipshape/reports/sbom.cdx.json": SBOM } });
  engine.onExec((a) => a[0] === "cosign", { exitCode: 0 });
  process.env.SHIPSHAPE_T_REGISTRY_PW = "registry-pw";
  return current;
}

/** release's own arguments: where to push, and the builder the provenance names. */
const releaseArgs = (extra: Record<string, unknown> = {}) => ({ registry: `${registry!.host}/acme`, repository: "orders", ...extra });
/** The chain before it: the registry's login (plain HTTP, for it alone) and the run's commit, branch and version. */
const chainArgs = (extra: ChainArgs = {}): ChainArgs => ({
  registryAddress: `${registry!.host}/acme`,
  registryUsername: "ci-bot",
  registryPassword: dag.secret("env://SHIPSHAPE_T_REGISTRY_PW"),
  allowHttpRegistry: true,
  sha: SHA,
  branch: "main",
  version: "2.0.0",
  runUrl: "https://github.com/acme/orders/actions/runs/7/attempts/1",
  ...extra,
});
const withKey = { cosignKey: dag.secret("env://K"), cosignPassword: dag.secret("env://P") };
/** `dagger call with-... release ...` */
const release = <R = Release>(chain: ChainArgs, args: Record<string, unknown> = releaseArgs()) =>
  callWith<R>(current!, "release", args, chain);

describe("release", () => {
  it("judges every platform, signs the index, attests each platform's SBOM to its own manifest and the provenance to the index", async () => {
    // centos 7: 1 MEDIUM and 2 LOW findings, under the default HIGH/CRITICAL bar
    const { engine } = await drivenRelease(fixture("supply/trivy/centos-7.json"));
    const authAtPublish: unknown[] = [];
    engine.onLeaf((leaf, state) => {
      if (leaf.field === "publish") authAtPublish.push({ ...state.registryAuth });
      return undefined;
    });
    const builderId = "https://github.com/acme/orders/.github/workflows/release.yml@refs/heads/main";
    const handle = await release(chainArgs(withKey), releaseArgs({ builderId }));
    const released = handle.json;
    const [pushed] = registry!.pushed;
    expect(released.ref).toBe(`${registry!.host}/acme/orders@${pushed!.digest}`);
    // Pushed with the with-registry login, given for this very registry.
    expect(authAtPublish[0]).toEqual({ [registry!.host]: { username: "ci-bot", secret: "registry-pw" } });
    expect(released.tags).toEqual(["2.0.0", "2.0", "2", "sha-0123456", "branch-main", "latest"]);
    expect(released.gates.map((g) => `${g.gate} ${g.status}`)).toEqual([
      "scan-linux-amd64 Passed",
      "licenses-linux-amd64 Passed",
      "scan-linux-arm64 Passed",
      "licenses-linux-arm64 Passed",
      "secrets Passed",
    ]);
    // One Trivy image scan and one SBOM per platform (the license check reads that same SBOM).
    expect(engine.execs.filter((e) => e.args[0] === "trivy" && e.args.includes("--input"))).toHaveLength(2);
    expect(engine.execs.filter((e) => e.args[0] === "/syft")).toHaveLength(2);
    const cosign = engine.execs.filter((e) => e.args[0] === "cosign");
    expect(cosign.map((e) => e.args[1])).toEqual(["signing-config", "sign", "attest", "attest", "attest"]);
    expect(cosign[1]!.args).toEqual(signCommand({ ref: released.ref, keyless: false, allowHttpRegistry: true }));
    const manifest = (p: string) => `${registry!.host}/acme/orders@${pushed!.platforms.find((x) => x.platform === p)!.digest}`;
    expect(cosign.slice(2, 4).map((e) => e.args)).toEqual(
      PLATFORMS.map((p) =>
        attestCommand({
          ref: manifest(p),
          keyless: false,
          allowHttpRegistry: true,
          predicatePath: `/tmp/${p.replace("/", "-")}.sbom.cdx.json`,
          type: "cyclonedx",
        }),
      ),
    );
    expect(cosign[4]!.args).toContain("slsaprovenance1");
    expect(cosign[4]!.args.at(-1)).toBe(released.ref);
    expect(released.platforms.map((p) => [p.platform, p.ref])).toEqual(PLATFORMS.map((p) => [p, manifest(p)]));
    // The provenance names the builder given and, as its invocation ID, withRun's run URL.
    const provenance = JSON.parse(released.provenance) as {
      buildDefinition: { externalParameters: { source: { revision: string; ref: string }; version: string } };
      runDetails: { builder: { id: string }; metadata: { invocationId: string } };
    };
    expect(provenance.runDetails.builder.id).toBe(builderId);
    expect(provenance.runDetails.metadata.invocationId).toBe("https://github.com/acme/orders/actions/runs/7/attempts/1");
    expect(provenance.buildDefinition.externalParameters).toMatchObject({ source: { revision: SHA, ref: "main" }, version: "2.0.0" });
    // The index was read with the registry's token flow, by digest.
    expect(registry!.reads.filter((r) => r.authorized).map((r) => r.path)).toEqual([`/v2/acme/orders/manifests/${pushed!.digest}`]);
  });

  it("bundles what CI keeps: the gates' files, an SBOM per platform, release.json with each platform's manifest, the provenance", async () => {
    await drivenRelease(fixture("supply/trivy/centos-7.json"));
    const released = await release(chainArgs(withKey));
    const bundle = await dirOf((await released.call("bundle")).raw as string);
    expect(await bundle.entries()).toEqual([
      "licenses-linux-amd64",
      "licenses-linux-arm64",
      "provenance.slsa.json",
      "release.json",
      "sbom",
      "scan-linux-amd64",
      "scan-linux-arm64",
      "secrets",
    ]);
    expect(await bundle.entries({ path: "sbom" })).toEqual(["linux-amd64.sbom.cdx.json", "linux-arm64.sbom.cdx.json"]);
    expect(await bundle.file("sbom/linux-arm64.sbom.cdx.json").contents()).toBe(SBOM);
    const json = JSON.parse(await bundle.file("release.json").contents()) as { platforms: { platform: string; ref: string }[] };
    expect(json.platforms).toEqual(released.json.platforms.map((p) => ({ platform: p.platform, ref: p.ref })));
    const provenance = JSON.parse(await bundle.file("provenance.slsa.json").contents()) as {
      buildDefinition: { externalParameters: { platforms: string[] } };
    };
    expect(provenance.buildDefinition.externalParameters.platforms).toEqual(PLATFORMS);
  });

  it("keyless: asks GitHub for a fresh sigstore token for each cosign run, after the build and publish", async () => {
    const { engine } = await drivenRelease(fixture("supply/trivy/centos-7.json"));
    oidc = await new FakeGithubOidc().start();
    process.env.SHIPSHAPE_T_OIDC_URL = oidc.url;
    process.env.SHIPSHAPE_T_OIDC_REQUEST = oidc.requestToken;
    let publishedAt = 0;
    engine.onLeaf((leaf) => {
      if (leaf.field === "publish") publishedAt ||= Date.now();
      return undefined;
    });
    await release(
      chainArgs({
        sigstoreIdTokenRequestUrl: dag.secret("env://SHIPSHAPE_T_OIDC_URL"),
        sigstoreIdTokenRequestToken: dag.secret("env://SHIPSHAPE_T_OIDC_REQUEST"),
      }),
    );
    const runs = engine.execs.filter((e) => e.args[0] === "cosign");
    expect(runs.map((e) => e.args[1])).toEqual(["sign", "attest", "attest", "attest"]);
    // Each run had its own token, each minted for Fulcio's audience, none before the image was pushed.
    expect(runs.map((e) => e.secretEnv.SIGSTORE_ID_TOKEN)).toEqual(oidc.issued.map((t) => t.token));
    expect(new Set(oidc.issued.map((t) => t.token)).size).toBe(4);
    expect(oidc.issued.every((t) => t.audience === "sigstore" && t.at >= publishedAt)).toBe(true);
    expect(JSON.stringify(runs.map((e) => [e.args, e.env]))).not.toContain(oidc.requestToken);
  });

  it("stops before publishing when a platform scan fails, with the table", async () => {
    await drivenRelease(fixture("supply/trivy/alpine-39.json"));
    const err = await release(chainArgs(withKey)).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(/^release stopped before publishing:\n/);
    expect(err?.message).toMatch(/^scan-linux-amd64\s+FAILED/m);
    expect(err?.message).toMatch(/^scan-linux-arm64\s+FAILED/m);
    expect(registry!.pushed).toEqual([]);
    expect(current!.engine.execs.some((e) => e.args[0] === "cosign")).toBe(false);
  });

  it("a keyless token as given that is already expired is refused before anything is built or pushed", async () => {
    const { engine } = await drivenRelease(fixture("supply/trivy/centos-7.json"));
    process.env.SHIPSHAPE_T_STALE = jwt({ exp: Math.floor(Date.now() / 1000) - 1 });
    await expect(release(chainArgs({ sigstoreIdToken: dag.secret("env://SHIPSHAPE_T_STALE") }))).rejects.toThrow(
      /^the OIDC identity token expired at .*, before the build\nhint: chain with-signer --id-token-request-url=env:\/\/ACTIONS_ID_TOKEN_REQUEST_URL/,
    );
    expect(engine.execs).toEqual([]);
    expect(registry!.pushed).toEqual([]);
  });

  it("refuses to start without a signing identity (no with-signer in the chain), naming with-signer", async () => {
    current = await drive();
    await expect(callWith(current, "release", { registry: "ghcr.io/acme", repository: "orders" }, { sha: SHA })).rejects.toThrow(
      /never published unsigned\nhint: chain with-signer /,
    );
    expect(current.engine.execs).toHaveLength(0);
  });

  it("the login for another registry is not sent: release to a registry behind auth cannot read the index, signs nothing", async () => {
    const { engine } = await drivenRelease(fixture("supply/trivy/centos-7.json"));
    // The registry auth in force on each Container.publish (the fake registry answers the publish itself).
    const authAtPublish: unknown[] = [];
    engine.onLeaf((leaf, state) => {
      if (leaf.field === "publish") authAtPublish.push({ ...state.registryAuth });
      return undefined;
    });
    // The same login, given for another host: release pushes to the fake registry without it.
    const err = await release(chainArgs({ ...withKey, registryAddress: "ghcr.io/acme" })).then(
      () => undefined,
      (e: Error) => e,
    );
    // Neither the login nor its plain HTTP goes to this registry: the index is asked for over HTTPS, and nothing gets signed.
    expect(err?.message).toMatch(new RegExp(`^the registry ${registry!.host.replace(/\./g, "\\.")} is unreachable: `));
    expect(registry!.reads.some((r) => r.authorized)).toBe(false);
    expect(engine.execs.filter((e) => e.args[0] === "cosign" && e.args[1] !== "signing-config")).toEqual([]);
    expect(registry!.pushed.length).toBeGreaterThan(0);
    expect(authAtPublish).toEqual(registry!.pushed.map(() => ({})));
  });
});
