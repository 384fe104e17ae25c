import { describe, expect, it } from "vitest";
import { ConfigError, editDistance, formatPath, renderValue, suggestKey } from "../../deploy/lib/config/errors.js";

describe("editDistance", () => {
  it.each([
    ["lint", "lint", 0],
    ["lnt", "lint", 1],
    ["lnit", "lint", 1], // a swap is one edit
    ["kitten", "sitting", 3],
    ["", "abc", 3],
  ])("%s -> %s is %i", (a, b, distance) => {
    expect(editDistance(a, b)).toBe(distance);
  });
});

describe("suggestKey", () => {
  const gates = ["lint", "typecheck", "test", "audit"];

  it("suggests the closest key within reach", () => {
    expect(suggestKey("lnt", gates)).toBe("lint");
    expect(suggestKey("typechek", gates)).toBe("typecheck");
    expect(suggestKey("TEST", gates)).toBe("test");
    expect(suggestKey("max_warnings", ["enabled", "maxWarnings", "prettier"])).toBe("maxWarnings");
  });

  it("suggests nothing when no key is close", () => {
    expect(suggestKey("deploy", gates)).toBeUndefined();
    expect(suggestKey("x", [])).toBeUndefined();
  });
});

describe("formatPath", () => {
  it("joins keys with dots and indexes with brackets", () => {
    expect(formatPath(["gates", "audit", "ignore", 0, "reason"])).toBe("gates.audit.ignore[0].reason");
  });

  it("quotes keys that are not plain words", () => {
    expect(formatPath(["coverage", "paths", "src/**/*.ts", "lines"])).toBe('coverage.paths["src/**/*.ts"].lines');
  });

  it("names the top level", () => {
    expect(formatPath([])).toBe("(top level)");
  });
});

describe("renderValue", () => {
  it.each([
    ["80%", '"80%"'],
    [12.5, "12.5"],
    [Number.NaN, "NaN"],
    [null, "null"],
    [undefined, "nothing"],
    [[1, "a"], '[1,"a"]'],
    [{ a: 1 }, '{"a":1}'],
  ])("renders %j as %s", (value, text) => {
    expect(renderValue(value)).toBe(text);
  });

  it("cuts values to 40 characters", () => {
    const text = renderValue("y".repeat(200));
    expect(text).toBe(`"${"y".repeat(36)}...`);
    expect(text).toHaveLength(40);
  });
});

describe("ConfigError", () => {
  it("keeps issues and hint apart from the message", () => {
    const error = new ConfigError(["a: one", "b: two", "c: three"], "do this", "f.yaml is invalid");
    expect(error.message).toBe("f.yaml is invalid: a: one (and 2 more)\nhint: do this");
    expect(error.issues).toEqual(["a: one", "b: two", "c: three"]);
    expect(error.hint).toBe("do this");
  });
});
