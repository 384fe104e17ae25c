/**
 * A hardened Dockerfile for services that bring none. Pure text so every rule is unit-tested;
 * the lead feeds it to `Directory.dockerBuild`. Limits: single-package projects only (workspaces need
 * every member's manifest in the dependency layer), and Yarn Plug'n'Play needs `nodeLinker: node-modules`
 * (the runtime copies node_modules); Yarn 2/3 need the workspace-tools plugin for `workspaces focus`.
 */
import { COREPACK_VERSION, installCommand } from "../../gates/commands.js";
import type { PackageJson, PackageManagerInfo } from "../../project/detect.js";
import { Problem } from "../../../src/project/problem.js";

export interface DockerfileInput {
  pm: PackageManagerInfo;
  /** Full base image ref; a digest (`@sha256:…`) is kept, so a re-pushed tag cannot change the build. */
  nodeImage: string;
  /** Script that builds the app (usually "build"); without it the sources are run as they are. */
  buildScript?: string;
  startCommand: string[];
  port: number;
  healthPath: string;
  /** Mount the build secret `npmrc` as .npmrc during installs (private registries); it never lands in a layer. */
  npmrcSecret?: boolean;
  /** Give the app user ownership of /app, for apps that write next to their code. Off: code stays read-only. */
  writableApp?: boolean;
}

const SAFE_WORD = /^[A-Za-z0-9_./:@%+,=-]+$/;
const PACKAGE_MANAGER_BINS = new Set(["npm", "npx", "pnpm", "pnpx", "yarn", "corepack", "sh", "bash"]);

/** The container command from package.json: a one-command "start" script, else `node <main>`. */
export function startCommandFrom(pkg: PackageJson): string[] {
  const start = pkg.scripts?.start?.trim();
  if (start) {
    const words = start.split(/\s+/);
    const [bin = "", ...args] = words;
    // Exec form runs no shell: operators, quotes and VAR=value prefixes would be passed as arguments.
    if (!words.every((w) => SAFE_WORD.test(w)) || bin.includes("=") || PACKAGE_MANAGER_BINS.has(bin)) {
      throw new Problem(
        `the "start" script is not a single program the image can run directly: ${start.slice(0, 120)}`,
        'make "start" one command like "node dist/server.js" (no &&, pipes, quotes, VAR=value or npm run), or commit a Dockerfile',
      );
    }
    if (bin === "node") return words;
    if (pkg.devDependencies?.[bin] !== undefined && pkg.dependencies?.[bin] === undefined) {
      throw new Problem(
        `"start" runs ${bin}, a devDependency the production image leaves out`,
        `move ${bin} to dependencies, or build to JavaScript and start with node`,
      );
    }
    return [`./node_modules/.bin/${bin}`, ...args];
  }
  const main: unknown = pkg.main;
  if (typeof main === "string" && SAFE_WORD.test(main.trim())) return ["node", main.trim()];
  throw new Problem(
    'package.json has neither a "start" script nor "main": the image would not know what to run',
    'add "start" (e.g. "node dist/server.js") to package.json, or commit a Dockerfile',
  );
}

/** Installs without dev dependencies, from the same lockfile as the build. */
export function productionInstallCommand(pm: PackageManagerInfo): string[] {
  switch (pm.name) {
    case "npm":
      return ["npm", "ci", "--omit=dev", "--no-audit", "--no-fund"];
    case "pnpm":
      return ["pnpm", "install", "--frozen-lockfile", "--prod"];
    case "yarn":
      return pm.yarnBerry ? ["yarn", "workspaces", "focus", "--all", "--production"] : [...installCommand(pm), "--production"];
  }
}

/** Node's own fetch: alpine images have no curl or wget-with-TLS, and this needs nothing installed. Reusable for ECS. */
export function healthcheckCommand(port: number, healthPath: string): string[] {
  const url = JSON.stringify(`http://127.0.0.1:${port}${healthPath}`);
  // The abort comes before Docker's --timeout, so a hung app reads as unhealthy rather than timed out.
  const probe = `fetch(${url}, { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`;
  return ["node", "-e", probe];
}

/** A ref without a digest or with only `latest` can change under the same Dockerfile. */
function checkInputs({ nodeImage, buildScript, startCommand, port, healthPath }: DockerfileInput): void {
  const [name = "", digest] = nodeImage.split("@");
  const tag = name.slice(name.lastIndexOf("/") + 1).split(":")[1];
  if (!/^[A-Za-z0-9._/:@-]+$/.test(nodeImage) || (digest !== undefined && !/^sha256:[a-f0-9]{64}$/.test(digest))) {
    throw new Problem(`"${nodeImage.slice(0, 120)}" is not an image reference`, 'use a ref like "node:24.13.1-alpine@sha256:<64 hex>"');
  }
  if (digest === undefined && (tag === undefined || tag === "latest")) {
    throw new Problem(`base image "${nodeImage}" is not pinned`, "use a version tag, ideally with its @sha256 digest");
  }
  if (buildScript !== undefined && !/^[A-Za-z0-9:_.-]+$/.test(buildScript)) {
    throw new Problem(
      `build script name "${buildScript.slice(0, 80)}" has unsafe characters`,
      "rename the script to letters, digits, : . _ -",
    );
  }
  if (startCommand.length === 0) throw new Problem("the start command is empty", 'add "start" to package.json');
  if (!Number.isInteger(port) || port < 1024 || port > 65535) {
    // The app runs as an unprivileged user, which cannot bind below 1024 on every runtime (Fargate included).
    throw new Problem(`port ${port} cannot be used by the non-root app user`, "listen on a port from 1024 to 65535 (e.g. 3000 or 8080)");
  }
  if (!/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*$/.test(healthPath)) {
    throw new Problem(`health path "${healthPath.slice(0, 80)}" is not a URL path`, 'use a path like "/healthz"');
  }
}

/**
 * The package manager's download cache as a BuildKit cache mount (Dagger's dockerBuild runs
 * BuildKit): a changed lockfile re-runs the install layer but downloads only what is new. Never part
 * of a layer. Yarn classic's cache is not safe for concurrent installs, so its mount is locked.
 */
export function cacheMount(pm: PackageManagerInfo): string {
  const [dir, sharing] =
    pm.name === "npm"
      ? ["/root/.npm", "shared"]
      : pm.name === "pnpm"
        ? ["/root/.local/share/pnpm/store", "shared"]
        : pm.yarnBerry
          ? ["/root/.yarn/berry/cache", "shared"]
          : ["/usr/local/share/.cache/yarn", "locked"];
  return `--mount=type=cache,id=shipshape-${pm.name}${pm.yarnBerry ? "-berry" : ""},target=${dir},sharing=${sharing} `;
}

export function generateDockerfile(input: DockerfileInput): string {
  checkInputs(input);
  const { pm, nodeImage, buildScript, startCommand, port, healthPath } = input;
  const secret = input.npmrcSecret && !pm.yarnBerry ? "--mount=type=secret,id=npmrc,target=/app/.npmrc,required=true " : "";
  const chown = input.writableApp ? "--chown=node:node " : "";
  const run = (argv: string[]) => `RUN ${cacheMount(pm)}${secret}${argv.join(" ")}`;
  // Missing optional files match nothing: BuildKit allows a wildcard COPY source that matches no file.
  const manifests = {
    npm: ["package.json", pm.lockfile],
    pnpm: ["package.json", pm.lockfile, "pnpm-workspace.yam[l]"],
    yarn: ["package.json", pm.lockfile, ...(pm.yarnBerry ? [".yarnrc.ym[l]"] : [])],
  }[pm.name];
  const lines = [
    "# syntax=docker/dockerfile:1",
    `# Generated by Shipshape for ${pm.name}; commit a Dockerfile to replace it.`,
    "# No .npmrc is copied: it may hold a registry token (pass it as the npmrc build secret).",
    "",
    "# Manifests alone, so the install layers are reused until the lockfile changes.",
    `FROM ${nodeImage} AS base`,
    "WORKDIR /app",
    ...(pm.name === "npm"
      ? []
      : [
          "ENV COREPACK_ENABLE_DOWNLOAD_PROMPT=0",
          `RUN npm install --global --no-audit --no-fund corepack@${COREPACK_VERSION} && corepack enable`,
        ]),
    `COPY ${manifests.join(" ")} ./`,
    ...(pm.yarnBerry ? ["COPY .yarn/release[s] ./.yarn/releases/", "COPY .yarn/plugin[s] ./.yarn/plugins/"] : []),
    "# The root prepare script is a developer hook (husky, or a build before the sources are here) and",
    "# fails without dev dependencies or sources; the build script runs explicitly below.",
    "RUN npm pkg delete scripts.prepare",
    "",
    "FROM base AS deps",
    run(installCommand(pm)),
    "",
    ...(buildScript === undefined
      ? []
      : [
          "FROM deps AS build",
          "COPY . .",
          `RUN ${pm.name} run ${buildScript}`,
          "# Dev dependencies stay here: a later COPY of prod-deps' node_modules would merge into them, not replace them.",
          "RUN rm -rf node_modules",
          "",
        ]),
    "# Production dependencies only, from the same lockfile.",
    "FROM base AS prod-deps",
    run(productionInstallCommand(pm)),
    "",
    `FROM ${nodeImage} AS runtime`,
    `ENV NODE_ENV=production PORT=${port}`,
    "WORKDIR /app",
    chown
      ? "# Owned by the app user on request (writableApp)."
      : "# Owned by root, read-only to the app user: a compromised process cannot rewrite its own code.",
    `COPY ${chown}--from=prod-deps /app/node_modules ./node_modules`,
    buildScript === undefined ? `COPY ${chown}. .` : `COPY ${chown}--from=build /app ./`,
    "USER node",
    `EXPOSE ${port}`,
    "# --start-interval probes quickly while the app boots, so readiness (Dagger services) is not held for 30s.",
    `HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --start-interval=2s --retries=3 \\`,
    `  CMD ${JSON.stringify(healthcheckCommand(port, healthPath))}`,
    "# No tini: node as PID 1 ignores SIGTERM unless the app handles it, and reaps no zombies. The runtime",
    "# supplies the init instead (ECS linuxParameters.initProcessEnabled, docker run --init, Dagger services),",
    "# which avoids an unpinned apk/apt package in every build.",
    `CMD ${JSON.stringify(startCommand)}`,
  ];
  return `${lines.join("\n")}\n`;
}

/** Keeps secrets, VCS data and host installs out of the build context (and so out of `COPY . .`). */
export function generateDockerignore(): string {
  return [".git", "node_modules", "**/node_modules", ".env", ".env.*", ".npmrc", "*.pem", "*.key", "coverage", ".dagger", ""].join("\n");
}

/**
 * The external images a Dockerfile builds from, in order: FROM references that are not an earlier
 * stage, `scratch`, or an ARG expansion (unknowable without the build args). For provenance.
 */
export function baseImagesOf(dockerfile: string): string[] {
  const stages = new Set<string>();
  const images: string[] = [];
  // Continuation lines join first, so a FROM split over lines still reads as one instruction.
  for (const line of dockerfile.replace(/\\\r?\n/g, " ").split(/\r?\n/)) {
    const m = /^\s*FROM\s+(.*)$/i.exec(line);
    if (!m) continue;
    const words = (m[1] ?? "")
      .trim()
      .split(/\s+/)
      .filter((w) => !w.startsWith("--"));
    const [ref = "", as, name] = words;
    const external = ref !== "" && !ref.includes("$") && ref.toLowerCase() !== "scratch" && !stages.has(ref.toLowerCase());
    if (external && !images.includes(ref)) images.push(ref);
    if (as?.toUpperCase() === "AS" && name) stages.add(name.toLowerCase());
  }
  return images;
}
