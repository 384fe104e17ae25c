/** A container with git and the source at /src, for the steps that read history. */
import { dag, type Container, type Directory } from "@dagger.io/dagger";
import { imageRef } from "../images.js";
import type { ShipshapeConfig } from "../config/schema.js";
import { SOURCE_DIR } from "./commands.js";

export function gitContainer(config: ShipshapeConfig, source: Directory): Container {
  return dag
    .container()
    .from(imageRef("alpine", config.images.alpine))
    .withExec(["apk", "add", "--no-cache", "git"])
    .withMountedDirectory(SOURCE_DIR, source)
    .withWorkdir(SOURCE_DIR);
}

/** The checkout belongs to another uid inside the container; git refuses it without this. */
export function safeGit(cmd: string[]): string[] {
  return cmd[0] === "git" ? ["git", "-c", "safe.directory=*", ...cmd.slice(1)] : cmd;
}
