/**
 * `environment(name).rescan`: the digests the environment runs now (running.ts), each scanned with
 * today's vulnerability DB (scanImage: the DB step is refreshed daily) and judged with the same
 * policy as the scan-image gate (judgeScan over scan:, ignore entries and their expiry included).
 * A blocking finding fails the report like the gate; one not yet reported in the environment's open
 * vulnerability incident opens it (or is commented on it and recorded in its marker) and is
 * notified. When nothing blocks any more, the incident is closed with how long it lasted.
 */
import type { ShipshapeConfig } from "../config/schema.js";
import { environment } from "../gates/deploy.js";
import type { Verdict } from "../gates/gate.js";
import { reconcileIncident, type IncidentOptions, type IncidentResult } from "../github/incident.js";
import { cell } from "../github/markdown.js";
import type { NotifyTargets } from "../notify/notify.js";
import { blockingNote, plural } from "../../src/report/outcome.js";
import { toSarif } from "../../src/report/sarif.js";
import { judgeScan, scanDiagnostics, type ScanVerdict } from "../supply/trivy/policy.js";
import { parseTrivyJson, type TrivyFinding } from "../supply/trivy/report.js";
import { announceIncident } from "./announce.js";
import { RUNBOOK } from "./monitor.js";
import type { RunningImage } from "./running.js";

/** Scans one running image; returns the Trivy JSON report (scanImage's trivy.json). Throws a Problem when Trivy could not scan. */
export type ScanFn = (image: RunningImage) => Promise<string>;

export interface RescanRequest {
  config: ShipshapeConfig;
  environment: string;
  repository: string;
  token: string;
  notify: NotifyTargets;
  images: RunningImage[];
  scan: ScanFn;
  runUrl?: string;
  incident?: IncidentOptions;
  now?: () => number;
}

interface Judged {
  image: RunningImage;
  verdict: ScanVerdict;
  report: string;
}

/** How a finding is known across runs: the advisory and the package it is in. */
export const findingKey = (f: Pick<TrivyFinding, "id" | "pkg">): string => `${f.id} ${f.pkg}`;
const short = (ref: string) => ref.replace(/@sha256:([0-9a-f]{12})[0-9a-f]+$/, "@sha256:$1…");

function vulnerabilityMarkdown(name: string, judged: Judged[], fresh: Set<string>, at: string, runUrl?: string): string {
  const rows = judged.flatMap((j) =>
    j.verdict.blocking.map(
      (f) =>
        `| ${cell(short(j.image.ref))} | ${cell(f.id)}${fresh.has(findingKey(f)) ? " (new)" : ""} | ${cell(f.pkg)} | ${cell(f.installed)} | ${f.severity} | ${cell(f.fixed || "no fix")} |`,
    ),
  );
  return [
    `## Blocking vulnerabilities in what ${name} runs`,
    "",
    `Found by Shipshape's rescan with today's vulnerability database at ${at}${runUrl ? ` ([run](${runUrl}))` : ""}.`,
    "",
    ...(rows.length
      ? ["| image | advisory | package | installed | severity | fixed in |", "| --- | --- | --- | --- | --- | --- |", ...rows]
      : ["Nothing blocks any more."]),
    "",
    `Fix: rebuild on a patched base or upgrade the package, release and deploy; or add a \`scan.ignore\` entry with a reason and an expiry. Runbook: ${RUNBOOK}.`,
  ].join("\n");
}

export async function rescanEnvironment(req: RescanRequest): Promise<{ verdict: Verdict; files: Record<string, string> }> {
  environment(req.config, req.environment); // an unknown name is refused with the known ones
  const now = new Date((req.now ?? Date.now)());
  const judged: Judged[] = [];
  // One after another: each scan takes the DB and the image's layers; a handful of digests at most.
  for (const image of req.images) {
    const report = await req.scan(image);
    judged.push({ image, report, verdict: judgeScan(parseTrivyJson(report).findings, req.config.scan, now) });
  }
  const blocking = judged.flatMap((j) => j.verdict.blocking);
  const keys = [...new Set(blocking.map(findingKey))];
  // Blocking findings make the incident; an expired ignore entry alone fails the report as it fails the gate.
  const failing = keys.length > 0;
  const gateFailed = failing || judged.some((j) => j.verdict.status === "failed");
  const at = now.toISOString();
  const draft = vulnerabilityMarkdown(req.environment, judged, new Set(keys), at, req.runUrl);
  const incident: IncidentResult = await reconcileIncident(
    {
      repository: req.repository,
      token: req.token,
      ...(req.config.notifications.github.apiUrl ? { apiUrl: req.config.notifications.github.apiUrl } : {}),
      environment: req.environment,
      kind: "vulnerability",
      failing,
      title: `Shipshape: blocking vulnerabilities in what ${req.environment} runs`,
      report: draft,
      findings: keys,
    },
    req.incident,
  );
  const fresh = new Set(incident.newFindings);
  const what = `blocking vulnerabilities in what ${req.environment} runs`;
  const cause = failing
    ? `${plural(keys.length, "blocking finding")}${blockingNote(blocking, "")}`
    : (judged.find((j) => j.verdict.status === "failed")?.verdict.cause ?? "no blocking finding");
  const image = judged.map((j) => j.image.ref).join(", ");
  const announced = {
    environment: req.environment,
    kind: "vulnerability" as const,
    image,
    what,
    cause,
    ...(req.runUrl ? { runUrl: req.runUrl } : {}),
  };
  const notifications = await announceIncident(announced, incident, req.notify, req.config.notifications);

  const counts = judged.map((j) => `${short(j.image.ref)}: ${j.verdict.counts.CRITICAL} critical, ${j.verdict.counts.HIGH} high`);
  const state = !incident.ok
    ? `incident not updated: ${incident.error ?? "unknown error"}`
    : incident.action === "none"
      ? "no incident open"
      : `incident #${incident.issueNumber ?? "?"} ${incident.action}`;
  const summary = `${req.environment} runs ${plural(judged.length, "image")} (${counts.join("; ")}); ${plural(keys.length, "blocking finding")}, ${fresh.size} new; ${state}`;
  const findings = [
    ...judged.flatMap((j) =>
      j.verdict.blocking.map(
        (f) => `${short(j.image.ref)} ${f.pkg} ${f.installed} ${f.severity} ${f.id}${fresh.has(findingKey(f)) ? " (new)" : ""}`,
      ),
    ),
    ...incident.warnings,
    ...notifications,
  ];
  const metrics = {
    images: judged.length,
    blocking: keys.length,
    new: fresh.size,
    ...(incident.issueNumber ? { incident: incident.issueNumber } : {}),
  };
  const files: Record<string, string> = {
    "rescan.json": `${JSON.stringify({ environment: req.environment, at, images: req.images, blocking: keys, new: [...fresh], incident, notifications }, null, 2)}\n`,
    "scan.sarif": `${JSON.stringify(
      toSarif(
        { name: "Trivy", informationUri: "https://trivy.dev" },
        judged.flatMap((j) => scanDiagnostics(j.verdict)),
      ),
      null,
      2,
    )}\n`,
  };
  for (const j of judged)
    files[judged.length === 1 ? "trivy.json" : `trivy-${j.image.ref.split("sha256:")[1]?.slice(0, 12) ?? "image"}.json`] = j.report;
  if (gateFailed) {
    const hint = incident.ok ? (judged.find((j) => j.verdict.hint)?.verdict.hint ?? "") : (incident.hint ?? "");
    return { verdict: { status: "failed", summary, cause, hint, metrics, findings, log: "" }, files };
  }
  if (!incident.ok)
    return { verdict: { status: "error", summary, cause: state, hint: incident.hint ?? "", metrics, findings, log: "" }, files };
  return { verdict: { status: "passed", summary, cause: "", hint: "", metrics, findings, log: "" }, files };
}
