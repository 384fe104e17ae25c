/**
 * Writes schema/shipshape.schema.json from the zod schema, so editors (via yaml-language-server)
 * complete and check shipshape.yaml. Run `npm run schema` after changing src/config/schema.ts;
 * test/config/json-schema.test.ts fails until the committed file matches.
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { ShipshapeConfigSchema } from "../deploy/lib/config/schema.js";

export const SCHEMA_FILE = fileURLToPath(new URL("../schema/shipshape.schema.json", import.meta.url));

/** The JSON Schema text: input side, so keys with defaults are optional, as they are in the file. */
export function renderJsonSchema(): string {
  const schema = z.toJSONSchema(ShipshapeConfigSchema, { target: "draft-2020-12", io: "input" });
  return `${JSON.stringify(schema, null, 2)}\n`;
}

// Only write when run as a script, not when the test imports renderJsonSchema.
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(SCHEMA_FILE, renderJsonSchema());
  console.log(`wrote ${SCHEMA_FILE}`);
}
