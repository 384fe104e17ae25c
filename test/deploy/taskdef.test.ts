import { DescribeTaskDefinitionCommand, RegisterTaskDefinitionCommand, type TaskDefinition } from "@aws-sdk/client-ecs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Problem } from "../../deploy/src/project/problem.js";
import { READ_ONLY_TASK_DEFINITION_FIELDS, assertDigestImage, renderTaskDefinition } from "../../deploy/lib/deploy/taskdef.js";
import { FakeEcs, IMAGE } from "./fake-ecs.js";

let fake: FakeEcs;
let current: TaskDefinition;

beforeEach(async () => {
  fake = new FakeEcs();
  fake.addService(
    {},
    {
      containerDefinitions: [
        {
          name: "app",
          image: "old@sha256:" + "0".repeat(64),
          essential: true,
          environment: [
            { name: "LOG_LEVEL", value: "info" },
            { name: "PORT", value: "8080" },
          ],
          secrets: [{ name: "DATABASE_URL", valueFrom: "arn:aws:secretsmanager:us-east-1:123456789012:secret:db" }],
        },
        { name: "log-router", image: "fluent-bit:stable", essential: false },
      ],
    },
  );
  const out = await fake.client.send(new DescribeTaskDefinitionCommand({ taskDefinition: "app:1" }));
  current = out.taskDefinition ?? {};
});
afterEach(() => fake.restore());

describe("renderTaskDefinition", () => {
  it("drops every read-only field, so RegisterTaskDefinition takes it (the raw description is refused)", async () => {
    await expect(fake.client.send(new RegisterTaskDefinitionCommand(current as never))).rejects.toThrow(
      /Unexpected key 'taskDefinitionArn'/,
    );
    const input = renderTaskDefinition(current, { containerName: "app", image: IMAGE });
    for (const field of READ_ONLY_TASK_DEFINITION_FIELDS) expect(input).not.toHaveProperty(field);
    expect(input).toMatchObject({ family: "app", networkMode: "awsvpc", cpu: "256", memory: "512", requiresCompatibilities: ["FARGATE"] });
    const out = await fake.client.send(new RegisterTaskDefinitionCommand(input));
    expect(out.taskDefinition?.revision).toBe(2);
  });

  it("drops read-only fields AWS may add later, since it copies only writable ones", () => {
    const input = renderTaskDefinition({ ...current, someFutureReadOnly: "x" } as TaskDefinition, { containerName: "app", image: IMAGE });
    expect(input).not.toHaveProperty("someFutureReadOnly");
  });

  it("pins the image in the named container only and leaves the description untouched", () => {
    const before = structuredClone(current);
    const input = renderTaskDefinition(current, { containerName: "app", image: IMAGE });
    expect(input.containerDefinitions?.map((c) => [c.name, c.image])).toEqual([
      ["app", IMAGE],
      ["log-router", "fluent-bit:stable"],
    ]);
    expect(current).toEqual(before);
  });

  it("merges environment overrides: replaced in place, new ones appended sorted; cpu/memory become strings", () => {
    const input = renderTaskDefinition(current, {
      containerName: "app",
      image: IMAGE,
      overrides: { environment: { PORT: "9090", ZED: "1", ALPHA: "2" }, cpu: 1024, memory: 2048 },
      tags: [
        { key: "team", value: "core" },
        { key: "aws:cloudformation:stack-name", value: "api" }, // AWS-owned: sending it back is refused
      ],
    });
    expect(input.containerDefinitions?.[0]?.environment).toEqual([
      { name: "LOG_LEVEL", value: "info" },
      { name: "PORT", value: "9090" },
      { name: "ALPHA", value: "2" },
      { name: "ZED", value: "1" },
    ]);
    expect(input).toMatchObject({ cpu: "1024", memory: "2048", tags: [{ key: "team", value: "core" }] });
  });

  it("refuses an override that would sit next to a secret of the same name", () => {
    expect(() =>
      renderTaskDefinition(current, { containerName: "app", image: IMAGE, overrides: { environment: { DATABASE_URL: "x" } } }),
    ).toThrow(/DATABASE_URL as a secret and as an environment override/);
  });

  it("names the containers there are when the configured one is missing", () => {
    expect(() => renderTaskDefinition(current, { containerName: "web", image: IMAGE })).toThrow(
      'task definition app:1 has no container named "web" (it has: app, log-router)',
    );
  });
});

describe("assertDigestImage", () => {
  it.each([
    "registry.example.com/api:1.2.3",
    "api@sha256:abc",
    `api@sha256:${"A".repeat(64)}`,
    `api@sha512:${"a".repeat(64)}`,
    ` api@sha256:${"a".repeat(64)}`,
  ])("refuses %s", (image) => {
    expect(() => assertDigestImage(image)).toThrow(Problem);
    expect(() => assertDigestImage(image)).toThrow(/deploy by digest/);
  });

  it.each([IMAGE, `localhost:5000/team/api:1.2.3@sha256:${"a".repeat(64)}`])("accepts %s", (image) => {
    expect(() => assertDigestImage(image)).not.toThrow();
  });
});
