/** The `scan`, `licenses` and `secrets` config sections: defaults, and plain-words errors. */
import { describe, expect, it } from "vitest";
import type { z } from "zod";
import { configErrorMap, formatZodIssues } from "../../deploy/lib/config/errors.js";
import {
  DEFAULT_ALLOWED_LICENSES,
  DEFAULT_DENIED_LICENSES,
  LicensesConfigSchema,
  ScanConfigSchema,
  SecretsConfigSchema,
  isExpired,
  isSingleLicense,
  splitPackageSpec,
} from "../../deploy/lib/supply/config.js";

function issues(schema: z.ZodType, input: unknown): string[] {
  const r = schema.safeParse(input, { error: configErrorMap });
  if (r.success) return [];
  return formatZodIssues(r.error, schema);
}

describe("scan section", () => {
  it("defaults to failing on HIGH and CRITICAL, fixed or not, nothing ignored", () => {
    expect(ScanConfigSchema.parse({})).toEqual({ enabled: true, severities: ["HIGH", "CRITICAL"], ignoreUnfixed: false, ignore: [] });
  });

  it("needs a reason for every ignore, and a real date", () => {
    expect(issues(ScanConfigSchema, { ignore: [{ id: "CVE-2019-14697" }] })).toEqual([
      "ignore[0].reason: required: say why this vulnerability is accepted",
    ]);
    expect(issues(ScanConfigSchema, { ignore: [{ id: "CVE-2019-14697", reason: "  " }] })).toEqual([
      'ignore[0].reason: expected a non-empty reason, got "  "',
    ]);
    expect(issues(ScanConfigSchema, { ignore: [{ id: "CVE-2019-14697", reason: "r", expires: "2026-02-30" }] })).toEqual([
      'ignore[0].expires: expected a real calendar date as YYYY-MM-DD, got "2026-02-30"',
    ]);
    expect(issues(ScanConfigSchema, { ignore: [{ id: "lodash", reason: "r" }] })).toEqual([
      'ignore[0].id: expected a vulnerability ID like CVE-2024-12345 or GHSA-xxxx-xxxx-xxxx, got "lodash"',
    ]);
    expect(issues(ScanConfigSchema, { ignore: [{ id: "CVE-2019-14697", reason: "r", purls: ["lodash"] }] })).toEqual([
      'ignore[0].purls[0]: expected a package URL like pkg:npm/lodash@4.17.20, got "lodash"',
    ]);
    expect(issues(ScanConfigSchema, { ignore: [{ id: "CVE-2019-14697", reason: "r", expire: "2026-01-01" }] })).toEqual([
      'ignore[0].expire: unknown key; did you mean "expires"?',
    ]);
  });

  it("accepts CVE and GHSA ids with paths, purls and an expiry", () => {
    const cfg = ScanConfigSchema.parse({
      severities: ["CRITICAL"],
      ignore: [
        {
          id: "GHSA-jf85-cpcp-j695",
          reason: "not reachable",
          expires: "2026-12-31",
          purls: ["pkg:npm/lodash"],
          paths: ["**/package-lock.json"],
        },
      ],
    });
    expect(cfg.ignore[0]?.purls).toEqual(["pkg:npm/lodash"]);
  });
});

describe("licenses section", () => {
  it("defaults: the permissive allow list, copyleft deny list, unknown fails, no exceptions", () => {
    const cfg = LicensesConfigSchema.parse({});
    expect(cfg).toEqual({
      enabled: true,
      allow: DEFAULT_ALLOWED_LICENSES,
      deny: DEFAULT_DENIED_LICENSES,
      failOnUnknown: true,
      exceptions: [],
    });
    // spdx-satisfies refuses AND/OR in its list, so every default must be one license.
    for (const id of [...DEFAULT_ALLOWED_LICENSES, ...DEFAULT_DENIED_LICENSES]) expect(isSingleLicense(id), id).toBe(true);
  });

  it("refuses compound or invalid ids in allow/deny, accepts WITH and LicenseRef", () => {
    expect(issues(LicensesConfigSchema, { allow: ["MIT OR ISC"] })).toEqual([
      'allow[0]: expected an SPDX license id like "MIT" or "Apache-2.0" (no AND/OR), got "MIT OR ISC"',
    ]);
    expect(issues(LicensesConfigSchema, { deny: ["Apache 2"] })).toHaveLength(1);
    expect(issues(LicensesConfigSchema, { allow: ["Apache-2.0 WITH LLVM-exception", "LicenseRef-acme", "GPL-2.0+"] })).toEqual([]);
  });

  it("exceptions: name or name@range, with a reason", () => {
    expect(issues(LicensesConfigSchema, { exceptions: [{ package: "@scope/pkg@^1.2.0", reason: "vendored" }] })).toEqual([]);
    expect(issues(LicensesConfigSchema, { exceptions: [{ package: "lodash@not a range", reason: "r" }] })).toHaveLength(1);
    expect(issues(LicensesConfigSchema, { exceptions: [{ package: "lightningcss" }] })).toEqual([
      "exceptions[0].reason: required: say why this license is accepted",
    ]);
    expect(splitPackageSpec("@scope/pkg@^1.2.0")).toEqual({ name: "@scope/pkg", range: "^1.2.0" });
    expect(splitPackageSpec("@scope/pkg")).toEqual({ name: "@scope/pkg", range: undefined });
    expect(splitPackageSpec("lodash@4.x")).toEqual({ name: "lodash", range: "4.x" });
  });
});

describe("secrets section", () => {
  it("defaults to enabled without a baseline; the baseline must stay in the repository", () => {
    expect(SecretsConfigSchema.parse({})).toEqual({ enabled: true });
    expect(issues(SecretsConfigSchema, { baseline: "/etc/passwd" })).toHaveLength(1);
    expect(issues(SecretsConfigSchema, { baseline: "../x.json" })).toHaveLength(1);
    expect(SecretsConfigSchema.parse({ baseline: ".gitleaks-baseline.json" }).baseline).toBe(".gitleaks-baseline.json");
  });
});

describe("isExpired", () => {
  it("a date holds through that day, UTC; unreadable dates count as expired", () => {
    expect(isExpired(undefined, new Date("2030-01-01T00:00:00Z"))).toBe(false);
    expect(isExpired("2026-03-01", new Date("2026-03-01T23:59:59Z"))).toBe(false);
    expect(isExpired("2026-03-01", new Date("2026-03-02T00:00:00Z"))).toBe(true);
    expect(isExpired("2026-02-30", new Date("2020-01-01T00:00:00Z"))).toBe(true);
  });
});
