/**
 * One generator run over a source directory: read (read.ts), detect (facts.ts), generate and plan
 * (plan.ts). The Shipshape functions init, init-diff and scaffold all start here, so they always
 * agree on the files and on what would change.
 */
import type { Directory } from "@dagger.io/dagger";
import { generatedDockerfile } from "../../deploy/lib/gates/image.js";
import { loadProject } from "../../deploy/lib/project/load.js";
import { generateDockerignore } from "../../deploy/lib/supply/build/dockerfile.js";
import { detectFacts } from "./facts.js";
import { generateFiles, planFiles, type Generated, type Plan } from "./plan.js";
import { readProject } from "./read.js";
import { ADOPTER_WORKFLOW_PATHS, deployModuleInstalled, resolveTarget } from "./workflows.js";

export interface GenerationRequest {
  source: Directory;
  configPath: string;
  repo: string;
  ref: string;
  /** Line coverage the test gate measured just now, when asked (--measure-coverage). */
  measuredLines?: number;
}

export async function generation(req: GenerationRequest): Promise<Generated & { plan: Plan }> {
  const writes = [req.configPath, "Dockerfile", ".dockerignore", ...ADOPTER_WORKFLOW_PATHS];
  const { input, existing } = await readProject(req.source, req.configPath, writes);
  const facts = detectFacts(input);
  if (req.measuredLines !== undefined) facts.coverage = { lines: req.measuredLines, from: "measured by the test gate" };
  const workspace = [input.files[".dagger/config.toml"], input.files["dagger.json"]];
  const target = resolveTarget(req.repo, req.ref, workspace);
  // The very Dockerfile `build` would use (same rules, same pinned base image).
  const project = await loadProject(req.source, req.configPath);
  const generated = generateFiles(facts, {
    target,
    configPath: req.configPath,
    existing: (p) => existing.get(p),
    dockerfile: () => generatedDockerfile(project),
    dockerignore: generateDockerignore(),
    deployInstalled: deployModuleInstalled(workspace),
  });
  return { ...generated, plan: planFiles(generated.files, (p) => existing.get(p)) };
}
