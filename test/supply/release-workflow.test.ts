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

  /** The `dagger call` chain of a step's args: each function with its flags, `${{ }}` expressions kept whole. */
  interface Link {
    fn: string;
    flags: Record<string, string | true>;
  }
  const chainOf = (args: string): Link[] => {
    const exprs: string[] = [];
    const flat = args.replace(/\$\{\{.*?\}\}/g, (m) => `@@expr${exprs.push(m) - 1}@@`);
    const tokens = flat
      .trim()
      .split(/\s+/)
      .map((t) => t.replace(/@@expr(\d+)@@/g, (_, i: string) => exprs[Number(i)]!));
    // Every call goes through the call-prefix input ("shipshape" in an adopter's workspace, "" here).
    expect(tokens[0]).toBe("${{ inputs.call-prefix }}");
    const links: Link[] = [];
    for (const t of tokens.slice(1)) {
      if (!t.startsWith("--")) links.push({ fn: t, flags: {} });
      else {
        const eq = t.indexOf("=");
        links.at(-1)!.flags[eq < 0 ? t.slice(2) : t.slice(2, eq)] = eq < 0 ? true : t.slice(eq + 1);
      }
    }
    return links;
  };
  const daggerSteps = steps.filter((s) => s.uses?.startsWith("dagger/dagger-for-github@") && s.with?.args);
  /** The step whose chain calls `fn` on the root (after the with-* settings), as a chain. */
  const chainCalling = (fn: string): Link[] => {
    const chains = daggerSteps.map((s) => chainOf(s.with!.args!)).filter((c) => c.find((l) => !l.fn.startsWith("with-"))?.fn === fn);
    expect(chains, `one step calls ${fn}`).toHaveLength(1);
    return chains[0]!;
  };
  const link = (chain: Link[], fn: string): Link => {
    const found = chain.filter((l) => l.fn === fn);
    expect(found, `${fn} in ${chain.map((l) => l.fn).join(" ")}`).toHaveLength(1);
    return found[0]!;
  };
  const host = (registry: string | true | undefined) => String(registry).split("/")[0];

  it("releases keyless by digest with the secrets passed as env:// references, then verifies", () => {
    const release = chainCalling("release");
    // with-* settings first, then release, then the bundle exported.
    expect(release.map((l) => l.fn).slice(-3)).toEqual(["release", "bundle", "export"]);
    expect(release.slice(0, -3).every((l) => l.fn.startsWith("with-"))).toBe(true);
    // A fresh OIDC token per cosign run (never one token that must outlive the build).
    expect(link(release, "with-signer").flags).toEqual({
      "id-token-request-url": "env://ACTIONS_ID_TOKEN_REQUEST_URL",
      "id-token-request-token": "env://ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    });
    // The registry login, for the very registry release pushes to (a login for another host is never used).
    const login = link(release, "with-registry").flags;
    expect(login.password).toBe("env://REGISTRY_PASSWORD");
    expect(login.username).toEqual(expect.any(String));
    expect(login["plain-http"]).toBeUndefined();
    expect(host(login.address)).toBe(host(link(release, "release").flags.registry));
    // The commit, branch and version for the tags; the run's URL as the provenance's invocation ID.
    const run = link(release, "with-run").flags;
    expect(run["commit-sha"]).toEqual(expect.stringMatching(/^\$\{\{ env\.SHA \}\}$/));
    expect(run["run-url"]).toMatch(/actions\/runs\//);
    expect(run.version).toEqual(expect.any(String));
    expect(link(release, "release").flags["builder-id"]).toEqual(expect.any(String));
    expect(link(release, "export").flags).toEqual({ path: ".shipshape/release" });
    expect(text).not.toMatch(/--cosign-key=|--key=/);

    const verify = chainCalling("verify");
    expect(verify.at(-1)!.fn).toBe("verify");
    expect(link(verify, "with-verifier").flags["certificate-oidc-issuer"]).toBe("https://token.actions.githubusercontent.com");
    // The identity verified is the one the release signed with: this workflow's own.
    expect(link(verify, "with-verifier").flags["certificate-identity"]).toBe(link(release, "release").flags["builder-id"]);
    expect(link(verify, "verify").flags.provenance).toBe(true);
    const verifyLogin = link(verify, "with-registry").flags;
    expect(verifyLogin.password).toBe("env://REGISTRY_PASSWORD");
    expect(verifyLogin.address).toBe(login.address);
    expect(steps.some((s) => s.uses?.startsWith("github/codeql-action/upload-sarif@"))).toBe(true);
  });
});
