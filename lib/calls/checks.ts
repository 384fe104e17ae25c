/** Scans of the source (secrets, SAST) and Lighthouse's audit of a live page. */
import type { Directory } from "@dagger.io/dagger";
import { runGate, type GateRun } from "../../deploy/lib/gates/gate.js";
import type { CheckCalls } from "../../src/calls.js";
import type { Shipshape } from "../../src/index.js";
import { lighthouseAudit } from "../gates/lighthouse.js";
import { sast } from "../gates/sast.js";
import { secretScan } from "../gates/secrets.js";
import { configOf, reported, runEnabled } from "./run.js";

export const secretsRun = (s: Shipshape, gitDir: Directory): Promise<GateRun> =>
  runEnabled(
    s,
    "secrets",
    () => configOf(s),
    (c) => c.secrets.enabled,
    (c) => secretScan(c, s.source, gitDir),
  );

export const sastRun = (s: Shipshape): Promise<GateRun> =>
  runEnabled(
    s,
    "sast",
    () => configOf(s),
    (c) => c.sast.enabled,
    (c) => sast(c, s.source),
  );

export const lighthouseRun = (s: Shipshape, url: string, environment: string): Promise<GateRun> =>
  runGate(
    "lighthouse",
    () => configOf(s),
    (config) =>
      lighthouseAudit(
        { lighthouse: config.lighthouse, environments: config.environments, image: config.images.lighthouse },
        { url, environment },
      ),
  );

export const calls: CheckCalls = {
  secretScan: (s, gitDir) => reported(secretsRun(s, gitDir)),
  sast: (s) => reported(sastRun(s)),
  lighthouse: (s, url, environment) => reported(lighthouseRun(s, url, environment)),
};
