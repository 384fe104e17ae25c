/**
 * The generated Dockerfile: key lines per package manager, a structural check by a small
 * Dockerfile parser (no engine here), and its HEALTHCHECK run for real against an HTTP server.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { detectPackageManager, parsePackageJson, type PackageManagerInfo } from "../../deploy/lib/project/detect.js";
import { Problem } from "../../deploy/src/project/problem.js";
import {
  generateDockerfile,
  generateDockerignore,
  healthcheckCommand,
  startCommandFrom,
  type DockerfileInput,
} from "../../deploy/lib/supply/build/dockerfile.js";

const IMAGE = `node:24.13.1-alpine@sha256:${"a".repeat(64)}`;
const NPM: PackageManagerInfo = { name: "npm", yarnBerry: false, lockfile: "package-lock.json" };
const PNPM = detectPackageManager(["package.json", "pnpm-lock.yaml"], { packageManager: "pnpm@9.15.0" });
const YARN1 = detectPackageManager(["package.json", "yarn.lock"], {});
const BERRY = detectPackageManager(["package.json", "yarn.lock", ".yarnrc.yml"], { packageManager: "yarn@4.5.0" });
const BASE: DockerfileInput = {
  pm: NPM,
  nodeImage: IMAGE,
  buildScript: "build",
  startCommand: ["node", "dist/server.js"],
  port: 3000,
  healthPath: "/healthz",
};

// --- a Dockerfile parser just big enough to check structure --------------------------------

interface Instruction {
  keyword: string;
  flags: Record<string, string>;
  args: string;
  line: number;
}

function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let buffer: string | undefined;
  let start = 0;
  text.split("\n").forEach((raw, i) => {
    if (/^\s*(#|$)/.test(raw)) return; // comments (also inside a continuation) and blank lines
    if (buffer === undefined) [buffer, start] = ["", i + 1];
    if (raw.endsWith("\\")) {
      buffer += `${raw.slice(0, -1)} `;
      return;
    }
    const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(buffer + raw);
    if (!m) throw new Error(`line ${start}: not an instruction: ${buffer + raw}`);
    const flags: Record<string, string> = {};
    let args = (m[2] ?? "").trim();
    for (let f = /^--([a-z-]+)(?:=(\S*))?\s+/.exec(args); f; f = /^--([a-z-]+)(?:=(\S*))?\s+/.exec(args)) {
      const name = f[1] ?? "";
      // --mount may repeat (a cache and a secret): keep them all, one per line.
      flags[name] = flags[name] === undefined ? (f[2] ?? "true") : `${flags[name]}\n${f[2] ?? "true"}`;
      args = args.slice(f[0].length);
    }
    out.push({ keyword: (m[1] ?? "").toUpperCase(), flags, args, line: start });
    buffer = undefined;
  });
  if (buffer !== undefined) throw new Error("the file ends inside a line continuation");
  return out;
}

const FLAGS: Record<string, string[]> = {
  FROM: ["platform"],
  RUN: ["mount", "network", "security"],
  COPY: ["from", "chown", "chmod", "link"],
  HEALTHCHECK: ["interval", "timeout", "start-period", "start-interval", "retries"],
};
const KNOWN = [
  "FROM",
  "RUN",
  "CMD",
  "LABEL",
  "EXPOSE",
  "ENV",
  "ADD",
  "COPY",
  "ENTRYPOINT",
  "VOLUME",
  "USER",
  "WORKDIR",
  "ARG",
  "STOPSIGNAL",
  "HEALTHCHECK",
  "SHELL",
];

const execForm = (args: string): unknown => {
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || parsed.length === 0 || !parsed.every((a) => typeof a === "string"))
    throw new Error(`not exec form: ${args}`);
  return parsed;
};

/** Every rule the generator promises, as error strings (empty = fine). `image` is the only allowed base. */
function checkDockerfile(text: string, image: string): string[] {
  const errors: string[] = [];
  const list = parseDockerfile(text);
  const stages: string[] = [];
  let stage = { name: "", workdir: false, user: "root", healthcheck: false, cmd: false };
  for (const ins of list) {
    const at = `line ${ins.line} ${ins.keyword}`;
    if (!KNOWN.includes(ins.keyword)) errors.push(`${at}: unknown instruction`);
    for (const flag of Object.keys(ins.flags)) if (!(FLAGS[ins.keyword] ?? []).includes(flag)) errors.push(`${at}: unknown flag --${flag}`);
    if (ins.keyword !== "FROM" && stages.length === 0) errors.push(`${at}: before the first FROM`);
    if (stage.cmd) errors.push(`${at}: after CMD`);
    switch (ins.keyword) {
      case "FROM": {
        const m = /^(\S+) AS ([a-z][a-z0-9_-]*)$/.exec(ins.args);
        if (!m) errors.push(`${at}: expected "<image> AS <stage>"`);
        else if (m[1] !== image && !stages.includes(m[1] ?? ""))
          errors.push(`${at}: base ${m[1]} is neither the pinned image nor an earlier stage`);
        else if (stages.includes(m?.[2] ?? "")) errors.push(`${at}: stage ${m[2]} defined twice`);
        const inherits = stages.includes(m?.[1] ?? "");
        stages.push(m?.[2] ?? "?");
        stage = { name: m?.[2] ?? "?", workdir: inherits, user: "root", healthcheck: false, cmd: false };
        break;
      }
      case "WORKDIR":
        stage.workdir = ins.args === "/app";
        break;
      case "COPY": {
        const from = ins.flags.from;
        if (from !== undefined && (!stages.includes(from) || from === stage.name))
          errors.push(`${at}: --from=${from} is not an earlier stage`);
        if (!stage.workdir) errors.push(`${at}: copies before WORKDIR /app`);
        if (/\.npmrc|\.env\b/.test(ins.args)) errors.push(`${at}: copies a file that may hold secrets`);
        break;
      }
      case "RUN":
        if (!stage.workdir) errors.push(`${at}: runs before WORKDIR /app`);
        for (const mount of ins.flags.mount?.split("\n") ?? []) {
          const cache = /^type=cache,id=shipshape-[a-z-]+,target=(\/\S+),sharing=(shared|locked)$/.exec(mount);
          if (!mount.startsWith("type=secret,") && !cache) errors.push(`${at}: unexpected mount ${mount}`);
          // A cache must never hold the app: only package-manager download caches outside /app.
          if (cache && cache[1]!.startsWith("/app")) errors.push(`${at}: cache mount inside the app`);
        }
        break;
      case "ADD":
        errors.push(`${at}: ADD fetches URLs and unpacks archives; COPY is explicit`);
        break;
      case "ENV":
      case "ARG":
        if (/(TOKEN|SECRET|PASSWORD|_KEY)\b/i.test(ins.args)) errors.push(`${at}: a secret in a layer`);
        break;
      case "USER":
        stage.user = ins.args;
        break;
      case "EXPOSE":
        if (!/^\d+$/.test(ins.args)) errors.push(`${at}: not a port`);
        break;
      case "HEALTHCHECK": {
        stage.healthcheck = true;
        for (const d of ["interval", "timeout", "start-period", "start-interval"]) {
          const v = ins.flags[d];
          if (v !== undefined && !/^\d+(ms|s|m|h)$/.test(v)) errors.push(`${at}: --${d}=${v} is not a duration`);
        }
        if (!ins.args.startsWith("CMD [")) errors.push(`${at}: not an exec-form CMD`);
        else execForm(ins.args.slice(4));
        break;
      }
      case "CMD":
        execForm(ins.args);
        if (["root", "0", "0:0"].includes(stage.user)) errors.push(`${at}: runs as root`);
        stage.cmd = true;
        break;
    }
  }
  if (!stage.cmd) errors.push("the final stage has no CMD");
  if (!stage.healthcheck) errors.push("the final stage has no HEALTHCHECK");
  return errors;
}

const instructions = (text: string, keyword: string) => parseDockerfile(text).filter((i) => i.keyword === keyword);
const lines = (text: string) => text.split("\n");

// --- tests ---------------------------------------------------------------------------------

describe("the structural check itself", () => {
  it("passes the hand-written fixture Dockerfile", () => {
    const text = readFileSync("test/fixtures/service/Dockerfile", "utf8");
    expect(checkDockerfile(text, "node:24.13.1-alpine")).toEqual([]);
  });

  it("catches broken files", () => {
    const good = generateDockerfile(BASE);
    expect(checkDockerfile(good.replace("--from=build", "--from=nope"), IMAGE)).toEqual([
      expect.stringMatching(/COPY: --from=nope is not an earlier stage/),
    ]);
    expect(checkDockerfile(good.replace("USER node\n", ""), IMAGE)).toEqual([expect.stringMatching(/CMD: runs as root/)]);
    expect(checkDockerfile(good.replace(/HEALTHCHECK[^\n]*\n[^\n]*\n/, ""), IMAGE)).toEqual(["the final stage has no HEALTHCHECK"]);
    expect(checkDockerfile(good.replace(`FROM ${IMAGE} AS runtime`, "FROM node:latest AS runtime"), IMAGE)).toEqual([
      expect.stringMatching(/neither the pinned image/),
    ]);
    expect(checkDockerfile(`${good}RUN echo\n`, IMAGE)).toEqual([expect.stringMatching(/RUN: after CMD/)]);
    expect(() => checkDockerfile(good.replace('CMD ["node"', "CMD [node"), IMAGE)).toThrow();
    expect(() => parseDockerfile("FROM x AS y \\")).toThrow(/continuation/);
  });
});

describe("generateDockerfile", () => {
  it.each([
    ["npm", NPM],
    ["pnpm", PNPM],
    ["yarn 1", YARN1],
    ["yarn berry", BERRY],
  ])("passes the structural check for %s, with and without a build", (_name, pm) => {
    expect(checkDockerfile(generateDockerfile({ ...BASE, pm }), IMAGE)).toEqual([]);
    expect(checkDockerfile(generateDockerfile({ ...BASE, pm, buildScript: undefined }), IMAGE)).toEqual([]);
    expect(checkDockerfile(generateDockerfile({ ...BASE, pm, npmrcSecret: true, writableApp: true }), IMAGE)).toEqual([]);
  });

  it("builds npm projects with ci, then ships production dependencies and the build as a non-root user", () => {
    const text = generateDockerfile(BASE);
    expect(lines(text)[0]).toBe("# syntax=docker/dockerfile:1");
    expect(instructions(text, "FROM").map((i) => i.args)).toEqual([
      `${IMAGE} AS base`,
      "base AS deps",
      "deps AS build",
      "base AS prod-deps",
      `${IMAGE} AS runtime`,
    ]);
    expect(lines(text)).toEqual(
      expect.arrayContaining([
        "COPY package.json package-lock.json ./",
        "RUN --mount=type=cache,id=shipshape-npm,target=/root/.npm,sharing=shared npm ci --no-audit --no-fund",
        "RUN npm run build",
        "RUN rm -rf node_modules",
        "RUN npm pkg delete scripts.prepare",
        "RUN --mount=type=cache,id=shipshape-npm,target=/root/.npm,sharing=shared npm ci --omit=dev --no-audit --no-fund",
        "ENV NODE_ENV=production PORT=3000",
        "COPY --from=prod-deps /app/node_modules ./node_modules",
        "COPY --from=build /app ./",
        "USER node",
        "EXPOSE 3000",
        'CMD ["node","dist/server.js"]',
      ]),
    );
    expect(text).not.toMatch(/corepack|--chown|--mount=type=secret/);
    const runtime = text.slice(text.indexOf("AS runtime"));
    expect(runtime).not.toMatch(/^RUN /m); // nothing installed in the shipped stage
  });

  it("keeps the base image digest on every FROM of an image", () => {
    const froms = instructions(generateDockerfile(BASE), "FROM").map((i) => i.args.split(" ")[0]);
    expect(froms.filter((f) => f?.startsWith("node:"))).toEqual([IMAGE, IMAGE]);
  });

  it("uses corepack and the frozen lockfile for pnpm", () => {
    expect(lines(generateDockerfile({ ...BASE, pm: PNPM }))).toEqual(
      expect.arrayContaining([
        "ENV COREPACK_ENABLE_DOWNLOAD_PROMPT=0",
        "RUN npm install --global --no-audit --no-fund corepack@0.36.0 && corepack enable",
        "COPY package.json pnpm-lock.yaml pnpm-workspace.yam[l] ./",
        "RUN --mount=type=cache,id=shipshape-pnpm,target=/root/.local/share/pnpm/store,sharing=shared pnpm install --frozen-lockfile",
        "RUN pnpm run build",
        "RUN --mount=type=cache,id=shipshape-pnpm,target=/root/.local/share/pnpm/store,sharing=shared pnpm install --frozen-lockfile --prod",
      ]),
    );
  });

  it("uses the right install for yarn 1 and yarn berry", () => {
    expect(lines(generateDockerfile({ ...BASE, pm: YARN1 }))).toEqual(
      expect.arrayContaining([
        "COPY package.json yarn.lock ./",
        "RUN --mount=type=cache,id=shipshape-yarn,target=/usr/local/share/.cache/yarn,sharing=locked yarn install --frozen-lockfile --non-interactive",
        "RUN --mount=type=cache,id=shipshape-yarn,target=/usr/local/share/.cache/yarn,sharing=locked yarn install --frozen-lockfile --non-interactive --production",
      ]),
    );
    expect(lines(generateDockerfile({ ...BASE, pm: BERRY }))).toEqual(
      expect.arrayContaining([
        "COPY package.json yarn.lock .yarnrc.ym[l] ./",
        "COPY .yarn/release[s] ./.yarn/releases/",
        "RUN --mount=type=cache,id=shipshape-yarn-berry,target=/root/.yarn/berry/cache,sharing=shared yarn install --immutable",
        "RUN --mount=type=cache,id=shipshape-yarn-berry,target=/root/.yarn/berry/cache,sharing=shared yarn workspaces focus --all --production",
      ]),
    );
  });

  it("copies the sources directly when there is no build script", () => {
    const text = generateDockerfile({ ...BASE, buildScript: undefined });
    expect(text).not.toMatch(/AS build|run build/);
    expect(lines(text)).toContain("COPY . .");
  });

  it("mounts .npmrc as a build secret and chowns only on request", () => {
    const text = generateDockerfile({ ...BASE, npmrcSecret: true, writableApp: true });
    expect(lines(text)).toEqual(
      expect.arrayContaining([
        "RUN --mount=type=cache,id=shipshape-npm,target=/root/.npm,sharing=shared --mount=type=secret,id=npmrc,target=/app/.npmrc,required=true npm ci --no-audit --no-fund",
        "COPY --chown=node:node --from=prod-deps /app/node_modules ./node_modules",
        "COPY --chown=node:node --from=build /app ./",
      ]),
    );
    expect(text).not.toMatch(/^COPY .*\.npmrc/m);
  });

  it("writes an exec-form HEALTHCHECK and CMD", () => {
    const text = generateDockerfile({ ...BASE, startCommand: ["node", "--enable-source-maps", "dist/main.js", "it's"] });
    const [health] = instructions(text, "HEALTHCHECK");
    expect(health?.flags).toEqual({ interval: "30s", timeout: "5s", "start-period": "30s", "start-interval": "2s", retries: "3" });
    expect(execForm(health?.args.slice(4) ?? "")).toEqual(healthcheckCommand(3000, "/healthz"));
    expect(execForm(instructions(text, "CMD")[0]?.args ?? "")).toEqual(["node", "--enable-source-maps", "dist/main.js", "it's"]);
  });

  it("matches the hand-written fixture's command, port and health path", () => {
    const dir = "test/fixtures/service";
    const pkg = parsePackageJson(readFileSync(`${dir}/package.json`, "utf8"));
    const pm = detectPackageManager(["package.json", "package-lock.json"], pkg);
    const text = generateDockerfile({
      pm,
      nodeImage: IMAGE,
      buildScript: "build",
      startCommand: startCommandFrom(pkg),
      port: 3000,
      healthPath: "/healthz",
    });
    const fixture = readFileSync(`${dir}/Dockerfile`, "utf8");
    expect(instructions(text, "CMD")[0]?.args).toBe(instructions(fixture, "CMD")[0]?.args.replace(/", "/g, '","'));
    expect(instructions(text, "EXPOSE")[0]?.args).toBe(instructions(fixture, "EXPOSE")[0]?.args);
    expect(instructions(fixture, "USER")[0]?.args).toBe("node");
  });

  it.each<[string, Partial<DockerfileInput>, RegExp]>([
    ["an unpinned image", { nodeImage: "node" }, /is not pinned/],
    ["latest", { nodeImage: "node:latest" }, /is not pinned/],
    ["a newline in the image", { nodeImage: "node:24\nRUN curl evil" }, /is not an image reference/],
    ["a short digest", { nodeImage: "node@sha256:abc" }, /is not an image reference/],
    ["a privileged port", { port: 80 }, /port 80 cannot be used by the non-root app user/],
    ["a non-integer port", { port: 3000.5 }, /port 3000.5/],
    ["a health path without /", { healthPath: "healthz" }, /is not a URL path/],
    ["a health path with a quote", { healthPath: '/h"); process.exit(0); ("' }, /is not a URL path/],
    ["a shell-y build script", { buildScript: "build && rm -rf /" }, /unsafe characters/],
    ["an empty start command", { startCommand: [] }, /start command is empty/],
  ])("refuses %s with a Problem", (_name, patch, message) => {
    const run = () => generateDockerfile({ ...BASE, ...patch });
    expect(run).toThrow(Problem);
    expect(run).toThrow(message);
  });

  it("accepts a tag without digest and a registry with a port", () => {
    expect(() => generateDockerfile({ ...BASE, nodeImage: "registry.local:5000/mirror/node:24-alpine" })).not.toThrow();
  });

  it("ignores secrets and host installs in the build context", () => {
    expect(generateDockerignore().split("\n")).toEqual(expect.arrayContaining([".git", "node_modules", ".env", ".env.*", ".npmrc"]));
  });
});

describe("the HEALTHCHECK command, run for real", () => {
  let server: Server;
  let port = 0;
  let status = 200;
  const seen: string[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(req.url ?? "");
      if (status === 0) return; // never answers: the probe's own timeout must fire
      res.statusCode = status;
      res.end("ok");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const probe = async (path: string): Promise<number> => {
    const text = generateDockerfile({ ...BASE, port, healthPath: path });
    const argv = execForm(instructions(text, "HEALTHCHECK")[0]?.args.slice(4) ?? "") as string[];
    try {
      await promisify(execFile)(process.execPath, argv.slice(1), { timeout: 20_000 });
      return 0;
    } catch (e) {
      return (e as { code?: number }).code ?? -1;
    }
  };

  it("exits 0 on 2xx, 1 on an error status, on a hang and when nothing listens", async () => {
    status = 200;
    expect(await probe("/healthz?deep=1")).toBe(0);
    expect(seen).toContain("/healthz?deep=1");
    status = 503;
    expect(await probe("/healthz")).toBe(1);
    status = 0;
    expect(await probe("/healthz")).toBe(1);
    const spare = createServer();
    await new Promise<void>((resolve) => spare.listen(0, "127.0.0.1", resolve));
    const freePort = (spare.address() as AddressInfo).port;
    await new Promise((resolve) => spare.close(resolve)); // now nothing listens there
    const closed = generateDockerfile({ ...BASE, port: freePort });
    const argv = execForm(instructions(closed, "HEALTHCHECK")[0]?.args.slice(4) ?? "") as string[];
    await expect(promisify(execFile)(process.execPath, argv.slice(1))).rejects.toMatchObject({ code: 1 });
  });
});

describe("startCommandFrom", () => {
  it("runs a plain node start script as it is", () => {
    expect(startCommandFrom({ scripts: { start: " node --enable-source-maps  dist/server.js " } })).toEqual([
      "node",
      "--enable-source-maps",
      "dist/server.js",
    ]);
  });

  it("runs a dependency's binary from node_modules/.bin", () => {
    expect(startCommandFrom({ scripts: { start: "next start -p 3000" }, dependencies: { next: "15.0.0" } })).toEqual([
      "./node_modules/.bin/next",
      "start",
      "-p",
      "3000",
    ]);
  });

  it("falls back to node <main>", () => {
    expect(startCommandFrom({ main: "index.js" })).toEqual(["node", "index.js"]);
  });

  it.each([
    ["a chain", "npm run build && node dist/x.js", /not a single program/],
    ["an env prefix", "NODE_ENV=production node dist/x.js", /not a single program/],
    ["npm run", "npm run serve", /not a single program/],
    ["quotes", "node -e 'x'", /not a single program/],
  ])("refuses %s", (_name, start, message) => {
    expect(() => startCommandFrom({ scripts: { start } })).toThrow(message);
  });

  it("refuses a devDependency the image will not have", () => {
    expect(() => startCommandFrom({ scripts: { start: "tsx src/server.ts" }, devDependencies: { tsx: "4.0.0" } })).toThrow(
      /"start" runs tsx, a devDependency the production image leaves out/,
    );
  });

  it("explains what to add when there is nothing to run", () => {
    try {
      startCommandFrom({ name: "x", scripts: { test: "vitest" } });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(Problem);
      expect((e as Problem).cause_).toBe('package.json has neither a "start" script nor "main": the image would not know what to run');
      expect((e as Problem).hint).toBe('add "start" (e.g. "node dist/server.js") to package.json, or commit a Dockerfile');
    }
  });
});
