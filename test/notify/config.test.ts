import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { configErrorMap, formatZodIssues } from "../../deploy/lib/config/errors.js";
import { NotificationsConfigSchema, policyFrom } from "../../deploy/lib/notify/config.js";

const issues = (input: unknown) => {
  const r = NotificationsConfigSchema.safeParse(input, { error: configErrorMap, reportInput: true });
  return r.success ? [] : formatZodIssues(r.error, NotificationsConfigSchema);
};

describe("NotificationsConfigSchema", () => {
  it("defaults to every result and incidents, 10 s per attempt, 3 attempts, a 60 s deadline and a PR comment on github.com", () => {
    const c = NotificationsConfigSchema.parse({});
    expect(c).toEqual({
      // incidents included: a scheduled monitor that tells nobody would be of no use
      on: ["success", "failure", "rollback", "paused", "incident"],
      timeoutSeconds: 10,
      attempts: 3,
      deadlineSeconds: 60,
      maxRetryAfterSeconds: 30,
      github: { prComment: true, apiUrl: "https://api.github.com" },
      pagerduty: { url: "https://events.pagerduty.com/v2/enqueue" },
    });
    expect(policyFrom(c)).toEqual({ timeoutMs: 10_000, attempts: 3, deadlineMs: 60_000, maxRetryAfterMs: 30_000 });
  });

  it("reads `on:` from YAML as a key, not a boolean", () => {
    const yaml = "on: [failure, rollback]\ngithub:\n  apiUrl: https://ghe.example.com/api/v3\n";
    const c = NotificationsConfigSchema.parse(parse(yaml));
    expect(c.on).toEqual(["failure", "rollback"]);
    expect(c.github.apiUrl).toBe("https://ghe.example.com/api/v3");
  });

  it("says what is wrong in plain words", () => {
    expect(issues({ on: ["sucess"] })).toEqual(['on[0]: expected one of success, failure, rollback, paused, incident, got "sucess"']);
    expect(issues({ on: [] })).toEqual(["on: expected a list of success, failure, rollback, paused, incident, got []"]);
    expect(issues({ attempts: 0 })).toEqual(["attempts: expected a whole number from 1 to 10, got 0"]);
    expect(issues({ timeoutSeconds: 600 })).toEqual(["timeoutSeconds: expected a whole number of seconds from 1 to 60, got 600"]);
    expect(issues({ timeoutSecs: 5 })).toEqual(['timeoutSecs: unknown key; did you mean "timeoutSeconds"?']);
    expect(issues({ github: { apiUrl: "ftp://x" } })[0]).toMatch(/^github\.apiUrl: expected an http\(s\) URL/);
  });

  it("describes every field in the JSON Schema, as the root schema's test demands", () => {
    type Node = { [key: string]: unknown };
    const isNode = (v: unknown): v is Node => typeof v === "object" && v !== null;
    const undescribed: string[] = [];
    const walk = (node: Node, at: string) => {
      const visit = (child: unknown, where: string) => {
        if (!isNode(child)) return;
        if (typeof child.description !== "string" || child.description === "") undescribed.push(where);
        walk(child, where);
      };
      if (isNode(node.properties)) for (const [k, child] of Object.entries(node.properties)) visit(child, `${at}/properties/${k}`);
      visit(node.items, `${at}/items`);
    };
    const json = z.toJSONSchema(NotificationsConfigSchema, { target: "draft-2020-12", io: "input" }) as Node;
    walk(json, "");
    expect(undescribed).toEqual([]);
    expect(Object.keys(json.properties as Node)).toEqual([
      "on",
      "timeoutSeconds",
      "attempts",
      "deadlineSeconds",
      "maxRetryAfterSeconds",
      "github",
      "pagerduty",
      "email",
      "sns",
      "routes",
    ]);
  });
});
