/**
 * Bad freezes and requires, as shipshape.yaml gets them: each refused with one line naming the
 * place and what to do, parsed through the real loader.
 */
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../deploy/lib/config/load.js";
import { expectClear, thrown } from "../bad-input/clear.js";

const ENV = "{ cluster: main, service: api, region: eu-west-1, containerName: app";
const SMOKE = 'smoke: { baseUrl: "https://staging.example.com", checks: [{ name: health, path: /healthz }] }';
const envs = (prodExtra = "", stagingExtra = `, ${SMOKE}`) =>
  `environments:\n  staging: ${ENV}${stagingExtra} }\n  prod: ${ENV}${prodExtra} }\n`;
const withFreezes = (list: string) => `${envs()}freezes:\n${list}`;

describe("valid guards", () => {
  it("reads requires and both kinds of freeze with their defaults", () => {
    const { config } = parseConfig(
      withFreezes(
        '  - { name: weekend, timeZone: Europe/Berlin, days: [sat, sun], start: "00:00", end: "00:00", environments: [prod] }\n' +
          '  - { name: year-end, from: "2026-12-20", to: "2027-01-04T09:00", timeZone: Europe/Berlin, environments: [staging] }\n',
      ).replace("prod: " + ENV, `prod: ${ENV}, requires: [staging]`),
    );
    expect(config.environments.prod?.requires).toEqual(["staging"]);
    expect(config.environments.staging?.requires).toEqual([]);
    expect(config.freezes.map((f) => [f.name, f.timeZone, f.environments])).toEqual([
      ["weekend", "Europe/Berlin", ["prod"]],
      ["year-end", "Europe/Berlin", ["staging"]],
    ]);
  });
});

describe("bad requires", () => {
  it.each<[string, string, RegExp]>([
    [
      "an unknown environment",
      envs(", requires: [stagng]"),
      /environments\.prod\.requires\[0\]: unknown environment "stagng"; did you mean "staging"\?: add it under environments:/,
    ],
    ["itself", envs(", requires: [prod]"), /environments\.prod\.requires\[0\]: prod cannot require itself/],
    [
      "an environment without smoke checks",
      envs(", requires: [staging]", ""),
      /requires\[0\]: staging has no smoke checks, .*add environments\.staging\.smoke/,
    ],
    [
      "a cycle",
      envs(`, requires: [staging], ${SMOKE}`, `, ${SMOKE}, requires: [prod]`),
      /environments\.staging\.requires: staging requires prod requires staging: a cycle refuses every deploy/,
    ],
  ])("%s", (_name, text, cause) => {
    expectClear(
      thrown(() => parseConfig(text)),
      cause,
      /fix the value in shipshape\.yaml/,
    );
  });
});

describe("bad freezes", () => {
  it.each<[string, string, RegExp]>([
    [
      "two windows open at once for one environment",
      '  - { name: weekend, days: [sat], start: "00:00", end: "00:00" }\n  - { name: launch, from: "2026-12-05T10:00Z", to: "2026-12-05T12:00Z", environments: [prod] }\n',
      /^shipshape\.yaml is invalid: freezes\[1\]: overlaps freezes\[0\] \("weekend"\) for environment prod: both are open at 2026-12-05T10:00:00Z; merge them/,
    ],
    [
      "recurring windows in two zones that meet",
      '  - { name: eu-nights, timeZone: Europe/Berlin, start: "22:00", end: "23:30" }\n  - { name: us-evenings, timeZone: America/New_York, start: "17:00", end: "18:00" }\n',
      /freezes\[1\]: overlaps freezes\[0\] \("eu-nights"\) for every environment/,
    ],
    [
      "an unknown zone",
      '  - { name: x, timeZone: Europe/Berlinn, start: "22:00", end: "06:00" }\n',
      /freezes\[0\]\.timeZone: expected an IANA time zone like "Europe\/Berlin"/,
    ],
    [
      "a time that is not HH:MM",
      '  - { name: x, start: "6pm", end: "06:00" }\n',
      /freezes\[0\]\.start: expected a quoted 24-hour time like "18:00", got "6pm"/,
    ],
    [
      "a date that does not exist",
      '  - { name: x, from: "2026-02-30", to: "2026-03-02" }\n',
      /freezes\[0\]\.from: "2026-02-30" is not a calendar date/,
    ],
    [
      "an end before the start",
      '  - { name: x, from: "2026-12-24", to: "2026-12-20" }\n',
      /freezes\[0\]\.to: must be after from \(2026-12-24\); swap them/,
    ],
    [
      "both kinds in one",
      '  - { name: x, from: "2026-12-24", to: "2026-12-26", start: "10:00", end: "11:00" }\n',
      /one-off \(from, to\) or recurring \(days, start, end\), not both/,
    ],
    ["neither kind", "  - { name: x }\n", /freezes\[0\]\.from: required: from and to \(one-off\), or start and end/],
    ["half a one-off", '  - { name: x, from: "2026-12-24" }\n', /freezes\[0\]\.to: required: a one-off freeze has both from and to/],
    [
      "an unknown environment",
      '  - { name: x, start: "10:00", end: "11:00", environments: [prd] }\n',
      /freezes\[0\]\.environments\[0\]: unknown environment "prd"; did you mean "prod"\?/,
    ],
    [
      "a duplicate name",
      '  - { name: x, start: "10:00", end: "11:00" }\n  - { name: x, start: "12:00", end: "13:00" }\n',
      /freezes\[1\]\.name: "x" is also freezes\[0\]'s name/,
    ],
    [
      "an unknown zone next to another window",
      '  - { name: x, timeZone: Mars/Base, start: "22:00", end: "06:00" }\n  - { name: y, start: "10:00", end: "11:00" }\n',
      /freezes\[0\]\.timeZone: expected an IANA time zone/,
    ],
    [
      "a bad time next to another window",
      '  - { name: x, start: "6pm", end: "06:00" }\n  - { name: y, start: "10:00", end: "11:00" }\n',
      /freezes\[0\]\.start: expected a quoted 24-hour time/,
    ],
    ["a misspelt key", '  - { name: x, start: "10:00", ends: "11:00" }\n', /freezes\[0\]\.ends: unknown key; did you mean "end"\?/],
  ])("%s", (_name, list, cause) => {
    expectClear(
      thrown(() => parseConfig(withFreezes(list))),
      cause,
    );
  });

  it("accepts windows that only touch, or that freeze different environments", () => {
    const list = [
      '  - { name: a, start: "08:00", end: "12:00", environments: [prod] }',
      '  - { name: b, start: "12:00", end: "14:00", environments: [prod] }',
      '  - { name: c, from: "2026-12-05", to: "2026-12-06", environments: [staging] }',
      '  - { name: d, from: "2026-12-07", to: "2026-12-07T06:00", environments: [prod] }',
    ];
    const { config } = parseConfig(withFreezes(`${list.join("\n")}\n`));
    expect(config.freezes.map((f) => f.name)).toEqual(["a", "b", "c", "d"]);
  });
});
