import { describe, expect, it } from "vitest";
import type { DeployEvent } from "../../deploy/lib/notify/event.js";
import { escapeMrkdwn, link, SLACK_LIMITS, slackHint, slackMessage, truncate, type SlackBlock } from "../../deploy/lib/notify/slack.js";

const DIGEST = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop@sha256:" + "a".repeat(64);

const event = (over: Partial<DeployEvent> = {}): DeployEvent => ({
  kind: "deploy",
  environment: "prod",
  result: "rolled back",
  reason: "p99 latency 812 ms > 500 ms for 3 of 5 minutes",
  image: DIGEST,
  version: "1.4.0",
  commitSha: "0123456789abcdef0123456789abcdef01234567",
  commitUrl: "https://github.com/acme/shop/commit/0123456789abcdef0123456789abcdef01234567",
  author: "Ada Lovelace",
  durationSeconds: 245,
  runUrl: "https://github.com/acme/shop/actions/runs/42?check=1&x=2",
  strategy: "canary",
  decisions: [
    { gate: "smoke", verdict: "pass", reason: "3 checks passed" },
    { gate: "analysis", verdict: "fail", reason: "p99 > 500 ms" },
  ],
  ...over,
});

/** Every text Slack would measure, with the limit it applies. */
function limitsBroken(blocks: SlackBlock[]): string[] {
  const broken: string[] = [];
  if (blocks.length > SLACK_LIMITS.blocks) broken.push(`${blocks.length} blocks`);
  for (const b of blocks) {
    if (b.type === "header" && b.text.text.length > SLACK_LIMITS.header) broken.push(`header ${b.text.text.length}`);
    if (b.type === "section" && "text" in b && b.text.text.length > SLACK_LIMITS.sectionText) broken.push(`section ${b.text.text.length}`);
    if (b.type === "section" && "fields" in b) {
      if (b.fields.length > SLACK_LIMITS.fields) broken.push(`${b.fields.length} fields`);
      for (const f of b.fields) if (f.text.length > SLACK_LIMITS.field) broken.push(`field ${f.text.length}`);
    }
  }
  return broken;
}

const texts = (blocks: SlackBlock[]) =>
  blocks.flatMap((b) =>
    b.type === "header"
      ? [b.text.text]
      : b.type === "context"
        ? b.elements.map((e) => e.text)
        : "fields" in b
          ? b.fields.map((f) => f.text)
          : [b.text.text],
  );

describe("slackMessage", () => {
  it("builds header, reason, fields, decisions and a context footer", () => {
    const m = slackMessage(event());
    expect(m.text).toBe("Deploy to prod: rolled back: p99 latency 812 ms &gt; 500 ms for 3 of 5 minutes");
    expect(m.blocks.map((b) => b.type)).toEqual(["header", "section", "section", "section", "context"]);
    expect(m.blocks[0]).toEqual({
      type: "header",
      text: { type: "plain_text", text: ":leftwards_arrow_with_hook: Deploy to prod: rolled back", emoji: true },
    });
    const fields = m.blocks[2];
    expect(fields?.type === "section" && "fields" in fields ? fields.fields.map((f) => f.text) : []).toEqual([
      "*Environment*\nprod",
      "*Result*\n:leftwards_arrow_with_hook: rolled back",
      `*Image*\n\`${DIGEST}\``,
      "*Version*\n1.4.0",
      "*Commit*\n<https://github.com/acme/shop/commit/0123456789abcdef0123456789abcdef01234567|0123456>",
      "*Author*\nAda Lovelace",
      "*Duration*\n4m 05s",
      "*Strategy*\ncanary",
    ]);
    expect(texts(m.blocks)).toContain(
      "*Gate decisions*\n:white_check_mark: *smoke* pass: 3 checks passed\n:x: *analysis* fail: p99 &gt; 500 ms",
    );
    expect(texts(m.blocks).at(-1)).toBe("<https://github.com/acme/shop/actions/runs/42?check=1&amp;x=2|Workflow run> · Shipshape");
    expect(JSON.parse(JSON.stringify(m))).toEqual(m); // plain JSON, nothing lost in transit
  });

  it.each([
    ["succeeded", ":white_check_mark:"],
    ["failed", ":x:"],
    ["paused", ":double_vertical_bar:"],
  ] as const)("marks %s with %s and leaves out what is unknown", (result, emoji) => {
    const m = slackMessage({ kind: "promote", environment: "staging", result, reason: "ok", image: DIGEST, durationSeconds: 12 });
    expect(m.blocks[0]?.type === "header" && m.blocks[0].text.text).toBe(`${emoji} Promotion to staging: ${result}`);
    expect(texts(m.blocks).join("\n")).not.toMatch(/Commit|Author|Version|Strategy|Workflow run|Gate decisions/);
    expect(texts(m.blocks).at(-1)).toBe("Shipshape");
  });

  it("escapes mrkdwn control characters so event text cannot forge links or mentions", () => {
    const m = slackMessage(event({ reason: "<!channel> see <https://evil.example|here> & panic", author: "<@U123>" }));
    const all = texts(m.blocks).join("\n");
    expect(all).toContain("&lt;!channel&gt; see &lt;https://evil.example|here&gt; &amp; panic");
    expect(all).toContain("*Author*\n&lt;@U123&gt;");
    expect(all).not.toContain("<!channel>");
  });

  it("keeps every block within Slack's limits for huge inputs", () => {
    const m = slackMessage(
      event({
        environment: "e".repeat(400),
        reason: "&".repeat(5000),
        image: `${"r".repeat(3000)}@sha256:${"b".repeat(64)}`,
        author: "x".repeat(5000),
        decisions: Array.from({ length: 600 }, (_, i) => ({ gate: `gate-${i}`, verdict: "fail", reason: "why ".repeat(200) })),
      }),
    );
    expect(limitsBroken(m.blocks)).toEqual([]);
    expect(m.blocks).toHaveLength(SLACK_LIMITS.blocks);
    const header = m.blocks[0]?.type === "header" ? m.blocks[0].text.text : "";
    expect(header).toHaveLength(SLACK_LIMITS.header);
    expect(header.endsWith("…")).toBe(true);
    // The reason was cut between entities, never inside one.
    const reason = m.blocks[1]?.type === "section" && "text" in m.blocks[1] ? m.blocks[1].text.text : "";
    expect(reason).toMatch(/^(&amp;)+…$/);
    // Decisions that did not fit are counted, and shown + hidden = all of them.
    const shown =
      texts(m.blocks)
        .join("\n")
        .match(/\*gate-\d+\*/g)?.length ?? 0;
    const overflow = texts(m.blocks).find((t) => t.startsWith("…and "));
    expect(overflow).toBe(`…and ${600 - shown} more gate decisions`);
    expect(shown).toBeGreaterThan(100);
    expect(m.text.length).toBeLessThanOrEqual(SLACK_LIMITS.fallbackText);
  });

  it("shows a link's label alone when the URL is not a plain http(s) URL", () => {
    expect(link("javascript:alert(1)", "run")).toBe("run");
    expect(link("not a url", "run")).toBe("run");
    expect(link("https://example.com/a|b", "run")).toBe("run");
    expect(link(undefined, "a|b")).toBe("a¦b");
    expect(link("https://example.com/x?a=1&b=2", "run")).toBe("<https://example.com/x?a=1&amp;b=2|run>");
  });
});

describe("truncate and escapeMrkdwn", () => {
  it("never splits a surrogate pair", () => {
    const cut = truncate("ab😀😀😀", 4); // a, b, then a cut that would land inside the first emoji
    expect(cut).toBe("ab…");
    expect(truncate("short", 10)).toBe("short");
    const escaped = escapeMrkdwn("😀".repeat(10), 6);
    expect(escaped).toBe("😀😀…");
  });

  it("cuts escaped text between entities", () => {
    expect(escapeMrkdwn("a<b>c", 100)).toBe("a&lt;b&gt;c");
    expect(escapeMrkdwn("<<<<", 8)).toBe("&lt;…");
  });
});

describe("slackHint", () => {
  it("explains Slack's error codes and falls back on the status", () => {
    expect(slackHint(400, "invalid_blocks\n")).toContain("Shipshape bug");
    expect(slackHint(404, "no_service")).toContain("revoked or mistyped");
    expect(slackHint(410, "channel_is_archived")).toContain("archived");
    expect(slackHint(403, "something_new")).toContain("no longer works");
    expect(slackHint(500, "rollup_error")).toBeUndefined();
  });
});
