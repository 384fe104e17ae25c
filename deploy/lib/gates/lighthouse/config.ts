/**
 * The `lighthouse:` section of shipshape.yaml: which URL to audit, the score budgets, how to run.
 * Same rules as src/config/schema.ts: strict objects, a default for every key, `.describe()` on
 * every field (it becomes the JSON Schema) and `expecting` phrases for the error messages.
 */
import { z } from "zod";
import { expecting } from "../../config/errors.js";

/** Lighthouse's own category ids, in the order its report shows them. */
export const LIGHTHOUSE_CATEGORIES = ["performance", "accessibility", "best-practices", "seo"] as const;
export type LighthouseCategory = (typeof LIGHTHOUSE_CATEGORIES)[number];

/** How each category is written in shipshape.yaml (camelCase, like every other key). */
export const CATEGORY_KEYS = {
  performance: "performance",
  accessibility: "accessibility",
  "best-practices": "bestPractices",
  seo: "seo",
} as const satisfies Record<LighthouseCategory, string>;

/** What a person reads: Lighthouse's own category titles. */
export const CATEGORY_TITLES: Record<LighthouseCategory, string> = {
  performance: "performance",
  accessibility: "accessibility",
  "best-practices": "best practices",
  seo: "SEO",
};

const budget = (what: string, fallback: number) =>
  expecting(
    z.int().min(0).max(100).describe(`Lowest ${what} score (0-100) that passes; 0 reports the score without judging it.`),
    "a whole number from 0 to 100",
  ).default(fallback);

// The spec's budgets: performance 80, accessibility 90, best practices 80, SEO 80.
export const LighthouseThresholdsSchema = z
  .strictObject({
    performance: budget("performance", 80),
    accessibility: budget("accessibility", 90),
    bestPractices: budget("best practices", 80),
    seo: budget("SEO", 80),
  })
  .describe("Score budgets per Lighthouse category, 0-100 as the report shows them.");

const envName = expecting(
  z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,39}$/)
    .describe("Environment (environments.<name>) whose smoke.baseUrl is audited, when no url is set."),
  'a lower-case environment name like "staging" (letters, digits, -)',
);

export const LighthouseConfigSchema = z
  .strictObject({
    ci: z.boolean().default(false).describe("Also run this gate in ci. Off by default: it needs a live URL the engine can reach."),
    url: expecting(z.url({ protocol: /^https?$/ }).describe("Page to audit, e.g. https://staging.example.com/."), "an http(s) URL")
      .optional()
      .describe("Page to audit when the call gives neither --url nor --environment."),
    environment: envName.optional(),
    thresholds: LighthouseThresholdsSchema.prefault({}),
    formFactor: z
      .enum(["mobile", "desktop"])
      .default("mobile")
      .describe("mobile: Lighthouse's default (Moto G Power, slow 4G, 4x CPU slowdown); desktop: its desktop preset."),
    runs: expecting(
      z.int().min(1).max(9).describe("Lighthouse runs per audit; the median run (Lighthouse's own choice of it) is judged."),
      "a whole number from 1 to 9",
    ).default(3),
    timeoutSeconds: expecting(
      z.int().min(30).max(600).describe("Seconds one Lighthouse run may take before it counts as a crash."),
      "a whole number of seconds from 30 to 600",
    ).default(180),
  })
  .describe("Lighthouse budgets: performance, accessibility, best practices and SEO scores of a live page.");

export type LighthouseConfig = z.output<typeof LighthouseConfigSchema>;
export type LighthouseThresholds = LighthouseConfig["thresholds"];

/** The budget of one category. */
export const thresholdOf = (t: LighthouseThresholds, c: LighthouseCategory): number => t[CATEGORY_KEYS[c]];
