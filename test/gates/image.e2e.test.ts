/**
 * The image gates through the stub engine. Trivy and syft install from neither npm nor Debian, so
 * their runs are answered with real reports (Trivy's own goldens, a cyclonedx-npm SBOM of the
 * fixture); the function code, queries and policies around them are the real ones.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { builtImage, licenseCheck, sbomOf, scanImage } from "../../deploy/lib/gates/image.js";
import { TOOL_IMAGES } from "../../deploy/lib/images.js";
import { loadProject } from "../../deploy/lib/project/load.js";
import { fakeTrivy } from "../harness/fake-trivy.js";
import { FIXTURES } from "../helpers/fixture.js";
import type { File } from "@dagger.io/dagger";
import type { GateReport } from "../../src/report/gate-report.js";
import { dirOf, drive, type Driven } from "../helpers/drive.js";
import { gateError } from "../helpers/gate-error.js";

let current: Driven | undefined;
afterEach(() => current?.engine.uninstall());

const fixture = (p: string) => readFileSync(join(FIXTURES, p), "utf8");
const isScan = (a: string[]) => a[0] === "trivy" && a.includes("--input");

/** Scans answered with a real report by the fake trivy, which keeps its cache as Trivy does. */
async function withTrivyReport(report: string, files: Record<string, string> = {}, onScan?: Parameters<typeof fakeTrivy>[1]["onScan"]) {
  current = await drive({ files });
  fakeTrivy(current.engine, { report, onScan, scanMs: 20 });
  return current;
}

describe("scanImage", () => {
  it("fails on the CRITICAL findings of a real Trivy report, with SARIF", async () => {
    const { call, engine } = await withTrivyReport(fixture("supply/trivy/alpine-39.json"));
    const report = (await call<GateReport>("scanImage")).json;
    expect(report.status).toBe("Failed");
    expect(report.summary).toMatch(/^2 critical, 0 high, 4 medium, 0 low — /);
    expect(report.findings).toHaveLength(2);
    expect(await (await dirOf(report.files)).entries()).toEqual(["scan.sarif", "trivy.json"]);
    const scan = engine.execs.find((e) => isScan(e.args))!;
    expect(scan.image).toBe(`${TOOL_IMAGES.trivy.repository}:${TOOL_IMAGES.trivy.tag}`);
    // No cache volume: the DB lives in the download exec's own output (see trivy-cache.e2e.test.ts).
    expect(scan.caches).toEqual({});
    expect(scan.args[scan.args.indexOf("--cache-dir") + 1]).toBe("/trivy");
    // The DB is downloaded first, refreshed daily through the date in the environment.
    const db = engine.execs.find((e) => e.args.includes("--download-db-only"))!;
    expect(db.env.SHIPSHAPE_TRIVY_DB_DAY).toBe(new Date().toISOString().slice(0, 10));
    expect(engine.execs.indexOf(db)).toBeLessThan(engine.execs.indexOf(scan));
  });

  it("passes when the failing severities are ignored with a reason", async () => {
    const yaml = `scan:\n  ignore:\n${["CVE-2019-14697", "CVE-2019-1549"].map((id) => `    - id: ${id}\n      reason: base image is replaced next sprint\n`).join("")}`;
    const { call } = await withTrivyReport(fixture("supply/trivy/alpine-39.json"), { "shipshape.yaml": yaml });
    const report = (await call<GateReport>("scanImage")).json;
    expect(report.cause).toBe("");
    expect(report.status).toBe("Passed");
    expect(report.summary).toMatch(/; 2 ignored$/);
  });

  it("refuses the compromised Trivy releases before pulling them", async () => {
    const { call, engine } = await withTrivyReport(fixture("supply/trivy/alpine-39.json"), {
      "shipshape.yaml": "images:\n  trivy:\n    tag: 0.69.5\n",
    });
    const report = await gateError(call<GateReport>("scanImage"));
    expect(report.status).toBe("ERROR");
    expect(report.cause).toMatch(/0\.69\.5/);
    expect(engine.execs.some((e) => e.args[0] === "trivy")).toBe(false);
  });

  it("reports a truncated Trivy report as an error, not a pass", async () => {
    const { call } = await withTrivyReport(fixture("supply/trivy/alpine-39.json").slice(0, 400));
    const report = await gateError(call<GateReport>("scanImage"));
    expect(report.status).toBe("ERROR");
  });

  it("says clearly when the image does not build", async () => {
    current = await drive();
    current.engine.failOn("dockerBuild", 'process "/bin/sh -c npm ci --omit=dev" did not complete successfully: exit code: 1');
    const report = await gateError(current.call<GateReport>("scanImage", { platform: "linux/arm64" }));
    expect(report.status).toBe("ERROR");
    expect(report.cause).toBe(
      'the image did not build for linux/arm64: process "/bin/sh -c npm ci --omit=dev" did not complete successfully: exit code: 1',
    );
    expect(report.hint).toMatch(/docker build/);
  });
});

describe("scanDependencies", () => {
  it("scans the lockfile in filesystem mode without building, judged by the same policy", async () => {
    current = await withTrivyReport(fixture("supply/trivy/npm.json"));
    const report = (await current.call<GateReport>("scanDependencies")).json;
    const fs = current.engine.execs.find((e) => e.args[1] === "fs")!;
    expect(fs.args.at(-1)).toBe("/src");
    expect(fs.mounts["/src"]).toBe("directory");
    expect(report.gate).toBe("dependencies");
    expect(report.summary).toMatch(/^\d+ critical, \d+ high, \d+ medium, \d+ low/);
    expect(current.engine.execs.some((e) => e.image?.startsWith("dockerBuild"))).toBe(false);
  });
});

describe("build and dockerfile", () => {
  it("builds from the project's own Dockerfile", async () => {
    current = await drive();
    expect(await (await (await current.call<File>("dockerfile")).file()).contents()).toBe(
      readFileSync(join(current.root, "Dockerfile"), "utf8"),
    );
  });

  it("generates a hardened Dockerfile when the project has none", async () => {
    current = await drive();
    rmSync(join(current.root, "Dockerfile"));
    const dockerfile = await (await (await current.call<File>("dockerfile")).file()).contents();
    expect(dockerfile).toMatch(/^FROM node:24\.13\.1-alpine@sha256:[0-9a-f]{64} AS /m);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK /m);
    expect(dockerfile).toContain("--omit=dev");
  });
});

describe("sbom and licenseCheck", () => {
  async function withSbom(sbom: string) {
    current = await drive();
    current.engine.onExec((a) => a[0] === "/syft", { exitCode: 0, files: { "/shipshape/reports/sbom.cdx.json": sbom } });
    return current;
  }

  it("passes the production SBOM of the service (MIT and ISC only)", async () => {
    const { call, engine } = await withSbom(fixture("supply/sbom/orders-service-prod.cdx.json"));
    const report = (await call<GateReport>("licenseCheck")).json;
    expect(report.status).toBe("Passed");
    expect(report.summary).toMatch(/^\d+ packages allowed, 0 denied, 0 unknown$/);
    const syft = engine.execs.find((e) => e.args[0] === "/syft")!;
    expect(syft.args).toEqual([
      "/syft",
      "scan",
      "oci-archive:/scan/image.tar",
      "-o",
      "cyclonedx-json=/shipshape/reports/sbom.cdx.json",
      "-q",
    ]);
    expect(syft.env.SYFT_CHECK_FOR_APP_UPDATE).toBe("false");
  });

  it("fails on an MPL-2.0 package outside the default allow list, naming it", async () => {
    const { call } = await withSbom(fixture("supply/sbom/orders-service-all.cdx.json"));
    const report = (await call<GateReport>("licenseCheck")).json;
    expect(report.status).toBe("Failed");
    expect(report.findings.join("\n")).toMatch(/lightningcss/);
  });

  it("returns the SBOM itself as a file", async () => {
    const sbom = fixture("supply/sbom/orders-service-prod.cdx.json");
    const { call } = await withSbom(sbom);
    expect(await (await (await call<File>("sbom")).file()).contents()).toBe(sbom);
  });
});

describe("VEX (scan.vex)", () => {
  const VEX = "supply/vex/alpine-39.openvex.json";
  const config = "scan:\n  vex:\n    - .vex/app.openvex.json\n";

  /** The fixture with shipshape.yaml listing the VEX file, and (unless `missing`) the file itself. */
  async function withVex(report: string, opts: { missing?: boolean } = {}) {
    // What Trivy would find at the --vex path inside its container.
    const seen: (string | undefined)[] = [];
    current = await withTrivyReport(report, { "shipshape.yaml": config }, (ctx) => seen.push(ctx.read("/vex/0-app.openvex.json")));
    if (!opts.missing) {
      mkdirSync(join(current.root, ".vex"));
      writeFileSync(join(current.root, ".vex/app.openvex.json"), fixture(VEX));
    }
    return { ...current, seen };
  }

  /** scanImage as index.ts will call it once it passes the source (see the report to the lead). */
  async function scanWithSource(d: Awaited<ReturnType<typeof withVex>>) {
    const project = await loadProject(d.ship.source, "shipshape.yaml");
    return scanImage(project.config, await builtImage(project, d.ship.source, ""), d.ship.source);
  }

  it("image scan: each VEX file is mounted and passed with --vex; suppressed findings are reported with their justification", async () => {
    const d = await withVex(fixture("supply/trivy/alpine-39-vex.json"));
    const { verdict, files } = await scanWithSource(d);
    const scan = d.engine.execs.find((e) => isScan(e.args))!;
    expect(scan.args.slice(scan.args.indexOf("--vex"), scan.args.indexOf("--vex") + 3)).toEqual([
      "--vex",
      "/vex/0-app.openvex.json",
      "--show-suppressed",
    ]);
    expect(d.seen).toEqual([fixture(VEX)]);
    expect(verdict.status).toBe("passed");
    expect(verdict.summary).toBe("0 critical, 0 high, 4 medium, 0 low; 2 suppressed by VEX");
    expect(verdict.metrics).toMatchObject({ critical: 0, suppressed: 2 });
    expect(verdict.findings).toEqual([
      "suppressed musl 1.1.20-r4 CRITICAL CVE-2019-14697 — not_affected: vulnerable_code_not_in_execute_path (OpenVEX)",
      "suppressed musl-utils 1.1.20-r4 CRITICAL CVE-2019-14697 — not_affected: vulnerable_code_not_in_execute_path (OpenVEX)",
    ]);
    const sarif = JSON.parse(await files.file("scan.sarif").contents()) as { runs: { results: { ruleId: string; level: string }[] }[] };
    expect(sarif.runs[0]!.results.map((r) => `${r.ruleId} ${r.level}`)).toEqual(["CVE-2019-14697 note", "CVE-2019-14697 note"]);
  });

  it("dependency scan: the same VEX flags on the filesystem scan", async () => {
    const d = await withVex(fixture("supply/trivy/npm.json"));
    const report = (await d.call<GateReport>("scanDependencies")).json;
    // Not an error: the status is one of the other members (by name, as the state carries it).
    expect(["Passed", "Failed", "Skipped"]).toContain(report.status);
    const fs = d.engine.execs.find((e) => e.args[1] === "fs")!;
    expect(fs.args).toContain("--show-suppressed");
    expect(fs.args[fs.args.indexOf("--vex") + 1]).toBe("/vex/0-app.openvex.json");
    expect(d.seen).toEqual([fixture(VEX)]);
  });

  it("a VEX file listed but missing is a Problem naming it, before Trivy runs", async () => {
    const d = await withVex(fixture("supply/trivy/alpine-39-vex.json"), { missing: true });
    const report = await gateError(d.call<GateReport>("scanDependencies"));
    expect(report.status).toBe("ERROR");
    expect(report.cause).toBe("the VEX file .vex/app.openvex.json listed in scan.vex does not exist in the source");
    expect(report.hint).toBe("add .vex/app.openvex.json, or remove it from scan.vex");
    await expect(scanWithSource(d)).rejects.toThrow(/\.vex\/app\.openvex\.json listed in scan\.vex does not exist/);
    expect(d.engine.execs.some((e) => e.args[0] === "trivy" && !e.args.includes("--download-db-only"))).toBe(false);
  });
});

describe("SPDX SBOM (sbom.format: spdx)", () => {
  it("syft writes SPDX JSON, and the license check reads it", async () => {
    current = await drive();
    const spdx = fixture("supply/sbom/orders-service-prod.spdx.json");
    current.engine.onExec((a) => a[0] === "/syft", { exitCode: 0, files: { "/shipshape/reports/sbom.spdx.json": spdx } });
    const project = await loadProject(current.ship.source, "shipshape.yaml");
    // Until the root schema carries `sbom`, the section is added to the loaded config as the lead will.
    const config = Object.assign({}, project.config, { sbom: { format: "spdx" as const } });
    const sbom = sbomOf(config, await builtImage(project, current.ship.source, ""));
    expect(await sbom.contents()).toBe(spdx);
    const syft = current.engine.execs.find((e) => e.args[0] === "/syft")!;
    expect(syft.args[4]).toBe("spdx-json=/shipshape/reports/sbom.spdx.json");
    const { verdict, files } = await licenseCheck(config, sbom);
    expect(verdict.status).toBe("passed");
    expect(verdict.summary).toBe("14 packages allowed, 0 denied, 0 unknown");
    expect(await files.entries()).toEqual(["licenses.sarif", "sbom.spdx.json"]);
  });
});
