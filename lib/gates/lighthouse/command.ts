/**
 * The Lighthouse container's command lines: Debian's Chromium and Lighthouse from npm, pinned in
 * src/images.ts, on the pinned Node image's Debian variant. The real-tool test runs these very
 * argv on this machine (Debian's chromium, lighthouse from npm), and the stub engine runs them too.
 */
import { LIGHTHOUSE_VERSION } from "../../../deploy/lib/images.js";
import { LIGHTHOUSE_CATEGORIES, type LighthouseConfig } from "../../../deploy/lib/gates/lighthouse/config.js";

/** Where Debian's chromium package puts the browser; chrome-launcher reads CHROME_PATH. */
export const CHROMIUM_PATH = "/usr/bin/chromium";

/**
 * Headless as root in a container: Chromium's sandbox needs user namespaces a container does not
 * give root (hence --no-sandbox, which Lighthouse's readme suggests when Chrome will not connect), and
 * a container's /dev/shm is 64 MB (runc's default), which a page can exhaust: use /tmp instead.
 */
export const CHROME_FLAGS = "--headless=new --no-sandbox --disable-dev-shm-usage";

/**
 * System packages and Lighthouse, each its own exec so the engine caches the install once. The
 * slim image has no fonts and no CA bundle, and chromium only Recommends fonts-liberation: without
 * a font no text paints (no FCP, no audit), and without CAs npm and https pages fail. DejaVu and
 * ca-certificates are what this machine's real-tool test runs with.
 */
export function installCommands(version: string = LIGHTHOUSE_VERSION): string[][] {
  return [
    ["apt-get", "update", "-qq"],
    ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium", "fonts-dejavu-core", "ca-certificates"],
    ["npm", "install", "--global", "--no-fund", "--no-audit", `lighthouse@${version}`],
  ];
}

/** `<prefix>.report.json` and `<prefix>.report.html`: the CLI's names for two outputs (cli/run.js saveResults). */
export const reportPaths = (prefix: string) => ({ json: `${prefix}.report.json`, html: `${prefix}.report.html` });

/**
 * One Lighthouse run, under coreutils `timeout` so a hung browser ends as exit 124 (then 137 after
 * the grace period) instead of holding the pipeline. Only the four budgeted categories are run.
 */
export function lighthouseCommand(url: string, cfg: Pick<LighthouseConfig, "formFactor" | "timeoutSeconds">, prefix: string): string[] {
  return [
    "timeout",
    "--kill-after=10",
    String(cfg.timeoutSeconds),
    "lighthouse",
    url,
    "--output=json",
    "--output=html",
    `--output-path=${prefix}`,
    `--only-categories=${LIGHTHOUSE_CATEGORIES.join(",")}`,
    ...(cfg.formFactor === "desktop" ? ["--preset=desktop"] : []),
    `--chrome-flags=${CHROME_FLAGS}`,
    "--quiet",
  ];
}
