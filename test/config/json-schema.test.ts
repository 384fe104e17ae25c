import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { z } from "zod";
import { renderJsonSchema, SCHEMA_FILE } from "../../scripts/gen-json-schema.js";
import { FULL_EXAMPLE_YAML } from "./example.js";

type JsonSchema = { [key: string]: unknown };
const isSchema = (value: unknown): value is JsonSchema => typeof value === "object" && value !== null;

const generated = renderJsonSchema();
const schema: JsonSchema = JSON.parse(generated);

/** Every named key (properties) and every map/list value schema, with its JSON pointer. */
function fields(node: JsonSchema, pointer = ""): [string, JsonSchema][] {
  const out: [string, JsonSchema][] = [];
  const visit = (child: unknown, at: string) => {
    if (!isSchema(child)) return;
    out.push([at, child]);
    out.push(...fields(child, at));
  };
  if (isSchema(node.properties)) for (const [key, child] of Object.entries(node.properties)) visit(child, `${pointer}/properties/${key}`);
  visit(node.additionalProperties, `${pointer}/additionalProperties`);
  visit(node.items, `${pointer}/items`);
  return out;
}

describe("schema/shipshape.schema.json", () => {
  it("is up to date with src/config/schema.ts (run `npm run schema`)", () => {
    expect(readFileSync(SCHEMA_FILE, "utf8")).toBe(generated);
  });

  it("is a titled draft 2020-12 schema", () => {
    expect(schema.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
    expect(schema.title).toBe("Shipshape configuration");
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toBeUndefined(); // every key has a default
  });

  it("describes every field, for editor tooltips", () => {
    const all = fields(schema);
    expect(all.length).toBeGreaterThan(40);
    const undescribed = all.filter(([, node]) => typeof node.description !== "string" || node.description === "");
    expect(undescribed.map(([pointer]) => pointer)).toEqual([]);
  });

  describe("used as a validator", () => {
    const validator = z.fromJSONSchema(schema);

    it("accepts the full example and an empty file", () => {
      expect(validator.safeParse(parse(FULL_EXAMPLE_YAML)).success).toBe(true);
      expect(validator.safeParse({}).success).toBe(true);
    });

    it.each([
      ["an unknown top-level key", { gatse: {} }],
      ["an unknown nested key", { gates: { lnt: {} } }],
      ["a bad digest", { images: { node: { digest: "abc" } } }],
      ["an ignore entry without a reason", { gates: { audit: { ignore: [{ id: "CVE-2024-12345" }] } } }],
      ["an empty coverage path entry", { coverage: { paths: { "src/**": {} } } }],
    ])("rejects %s", (_name, value) => {
      expect(validator.safeParse(value).success).toBe(false);
    });
  });

  it("flags credential-looking env names in editors too", () => {
    const env = (((schema.properties as JsonSchema).gates as JsonSchema).properties as JsonSchema).test as JsonSchema;
    const names = ((env.properties as JsonSchema).env as JsonSchema).propertyNames as { allOf: { pattern: string }[] };
    const accepts = (name: string) => names.allOf.every(({ pattern }) => new RegExp(pattern, "u").test(name));
    expect(accepts("NODE_ENV")).toBe(true);
    expect(accepts("NPM_TOKEN")).toBe(false);
    expect(accepts("lower_case")).toBe(false);
  });
});
