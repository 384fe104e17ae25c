/** Components of an SBOM in either format the pipeline writes, told apart by content, not file name. */
import type { SbomFormat } from "../config.js";
import { parseCycloneDx, type SbomComponent } from "./cyclonedx.js";
import { isSpdxJson, parseSpdxJson } from "./spdx.js";

export function sbomFormatOf(text: string): SbomFormat {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return "cyclonedx"; // the CycloneDX reader reports the JSON error
  }
  return isSpdxJson(data) ? "spdx" : "cyclonedx";
}

export function parseSbom(text: string): { format: SbomFormat; components: SbomComponent[] } {
  const format = sbomFormatOf(text);
  return { format, components: format === "spdx" ? parseSpdxJson(text) : parseCycloneDx(text) };
}
