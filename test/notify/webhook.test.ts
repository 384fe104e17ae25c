import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { DeployEvent } from "../../deploy/lib/notify/event.js";
import {
  SIGNATURE_HEADER,
  signBody,
  verifySignature,
  WEBHOOK_SCHEMA,
  webhookPayload,
  webhookRequest,
} from "../../deploy/lib/notify/webhook.js";

const AT = new Date("2026-11-20T10:00:00Z");
const minimal: DeployEvent = {
  kind: "rollback",
  environment: "prod",
  result: "succeeded",
  reason: "back on app:41",
  image: "r@sha256:" + "c".repeat(64),
  durationSeconds: 30,
};

describe("webhookPayload", () => {
  it("always has every key of the v1 shape, null when unknown", () => {
    const p = webhookPayload(minimal, AT, "delivery-1");
    expect(p).toEqual({
      schema: "shipshape.deploy/v1",
      id: "delivery-1",
      sentAt: "2026-11-20T10:00:00.000Z",
      kind: "rollback",
      environment: "prod",
      result: "succeeded",
      reason: "back on app:41",
      image: minimal.image,
      version: null,
      commit: null,
      author: null,
      durationSeconds: 30,
      runUrl: null,
      strategy: null,
      decisions: [],
    });
    expect(WEBHOOK_SCHEMA).toBe("shipshape.deploy/v1");
  });

  it("carries the optional facts and only the documented decision keys", () => {
    const p = webhookPayload(
      {
        ...minimal,
        commitSha: "abc",
        author: "ada",
        decisions: [
          { gate: "smoke", verdict: "pass", reason: "ok", extra: "dropped" } as DeployEvent["decisions"] extends (infer D)[] | undefined
            ? D
            : never,
        ],
      },
      AT,
    );
    expect(p.commit).toEqual({ sha: "abc", url: null });
    expect(p.author).toBe("ada");
    expect(p.decisions).toEqual([{ gate: "smoke", verdict: "pass", reason: "ok" }]);
    expect(p.id).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe("signatures", () => {
  it("matches GitHub's documented test vector (same scheme as X-Hub-Signature-256)", () => {
    expect(signBody("Hello, World!", "It's a Secret to Everybody")).toBe(
      "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
    );
  });

  it("signs the exact body that is sent, and a receiver can verify it", () => {
    const { body, headers } = webhookRequest(webhookPayload(minimal, AT, "d-2"), "whsec");
    const expected = `sha256=${createHmac("sha256", "whsec").update(body).digest("hex")}`;
    expect(headers[SIGNATURE_HEADER]).toBe(expected);
    expect(headers["X-Shipshape-Delivery"]).toBe("d-2");
    expect(verifySignature(body, "whsec", headers[SIGNATURE_HEADER])).toBe(true);
    expect(verifySignature(body.replace("prod", "dev"), "whsec", headers[SIGNATURE_HEADER])).toBe(false);
    expect(verifySignature(body, "other", headers[SIGNATURE_HEADER])).toBe(false);
    expect(verifySignature(body, "whsec", undefined)).toBe(false);
    expect(verifySignature(body, "whsec", "sha256=short")).toBe(false);
  });

  it("sends no signature header without a secret", () => {
    expect(Object.keys(webhookRequest(webhookPayload(minimal, AT), undefined).headers)).not.toContain(SIGNATURE_HEADER);
    expect(Object.keys(webhookRequest(webhookPayload(minimal, AT), "").headers)).not.toContain(SIGNATURE_HEADER);
  });
});
