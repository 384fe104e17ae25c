/** The reusable release workflow (release.yml calls it): pinned like shipshape-ci.yml, least privilege, and calling the module's release. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const ROOT = join(import.meta.dirname, "../..");
const read = (name: string) => readFileSync(join(ROOT, ".github/workflows", name), "utf8");
interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, string>;
}
interface Workflow {
  permissions: Record<string, string>;
  jobs: Record<string, { permissions: Record<string, string>; steps: Step[] }>;
}

describe(".github/workflows/shipshape-release.yml", () => {
  const text = read("shipshape-release.yml");
  const wf = parse(text) as Workflow;
  const steps = wf.jobs.release!.steps;

  it("pins every action by commit SHA, with the very dagger-for-github pin and engine version of shipshape-ci.yml", () => {
    const uses = steps.flatMap((s) => (s.uses ? [s.uses] : []));
    for (const u of uses) expect(u, u).toMatch(/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/);
    const ci = read("shipshape-ci.yml");
    const daggerPin = /uses: (dagger\/dagger-for-github@[0-9a-f]{40}) # (v[\d.]+)/.exec(ci)!;
    const daggerSteps = steps.filter((s) => s.uses?.startsWith("dagger/dagger-for-github@"));
    expect(daggerSteps.length).toBeGreaterThan(0);
    for (const s of daggerSteps) expect(s.uses).toBe(daggerPin[1]);
    expect(new Set(daggerSteps.map((s) => s.with?.version))).toEqual(new Set([/version: (v[\d.]+) # = engineVersion/.exec(ci)![1]]));
  });

  it("read-only by default; the job alone may push packages, mint an OIDC token and upload SARIF", () => {
    expect(wf.permissions).toEqual({ contents: "read" });
    expect(wf.jobs.release!.permissions).toEqual({
      contents: "read",
      packages: "write",
      "id-token": "write",
      "security-events": "write",
    });
  });

  it("releases keyless by digest with the secrets passed as env:// references, then verifies", () => {
    // Every call goes through the call-prefix input ("shipshape" in an adopter's workspace, "" here).
    const call = (fn: string) => steps.find((s) => s.with?.args?.startsWith(`\${{ inputs.call-prefix }} ${fn}`))!;
    const release = call("release");
    // A fresh OIDC token per cosign run (never one token that must outlive the build).
    expect(release.with!.args).toContain("--sigstore-id-token-request-url=env://ACTIONS_ID_TOKEN_REQUEST_URL");
    expect(release.with!.args).toContain("--sigstore-id-token-request-token=env://ACTIONS_ID_TOKEN_REQUEST_TOKEN");
    expect(release.with!.args).toContain("--registry-password=env://REGISTRY_PASSWORD");
    expect(release.with!.args).toMatch(/bundle export --path=\.shipshape\/release$/);
    expect(text).not.toMatch(/--cosign-key=/);
    const verify = call("verify");
    expect(verify.with!.args).toContain("--certificate-oidc-issuer=https://token.actions.githubusercontent.com");
    expect(steps.some((s) => s.uses?.startsWith("github/codeql-action/upload-sarif@"))).toBe(true);
  });
});
