/** The effective configuration: shipshape.yaml with every default filled in. */
import { stringify } from "yaml";
import type { ConfigCalls } from "../../src/calls.js";
import { configOf } from "./run.js";

export const calls: ConfigCalls = {
  config: async (s) => stringify(await configOf(s)),
};
