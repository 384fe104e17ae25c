// What an environment runs, read from the stateful ECS fake: the PRIMARY deployment's task
// definition names a digest, or (a tag) the running tasks' containers[].imageDigest say which.
import type { Task } from "@aws-sdk/client-ecs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseConfig } from "../../deploy/lib/config/load.js";
import { runningImages } from "../../deploy/lib/monitor/running.js";
import { Problem } from "../../deploy/src/project/problem.js";
import { ACCOUNT, arnOf, CLUSTER, DIGEST, FakeEcs, REGION } from "../deploy/fake-ecs.js";

const env = parseConfig("environments:\n  production: { cluster: main, service: api, region: us-east-1, containerName: app }\n").config
  .environments.production!;
const REPO = `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/api`;
const OTHER = `sha256:${"cd".repeat(32)}`;

let fake: FakeEcs;
beforeEach(() => {
  fake = new FakeEcs();
});
afterEach(() => fake.restore());

/** A task of the service, as ECS's scheduler starts it: group service:api, the digest resolved at start. */
function serviceTask(taskDefinitionArn: string, digest: string, lastStatus = "RUNNING"): void {
  const arn = arnOf(`task/${CLUSTER}/${(fake.tasks.size + 1).toString(16).padStart(32, "0")}`);
  const task: Task = {
    taskArn: arn,
    clusterArn: arnOf(`cluster/${CLUSTER}`),
    taskDefinitionArn,
    lastStatus,
    desiredStatus: "RUNNING",
    group: "service:api",
    startedBy: "ecs-svc/0123456789",
    createdAt: new Date(),
    containers: [
      { name: "app", taskArn: arn, lastStatus, image: `${REPO}:1.4`, imageDigest: digest },
      { name: "log-router", taskArn: arn, lastStatus, imageDigest: OTHER },
    ],
  };
  fake.tasks.set(arn, { task, script: { runMs: Infinity }, container: "app" });
}

describe("runningImages", () => {
  it("takes the digest the PRIMARY deployment's task definition names, without listing tasks", async () => {
    fake.addService({}, { containerDefinitions: [{ name: "app", image: `${REPO}@${DIGEST}`, essential: true }] });
    const images = await runningImages(fake.client, "production", env);
    expect(images).toEqual([
      {
        ref: `${REPO}@${DIGEST}`,
        declared: `${REPO}@${DIGEST}`,
        taskDefinitionArn: arnOf("task-definition/app:1"),
        from: "task definition",
      },
    ]);
    expect(fake.calls.map((c) => c.command)).toEqual(["DescribeServices", "DescribeTaskDefinition"]);
  });

  it("resolves a tag through the running tasks of that revision, each distinct digest once", async () => {
    fake.addService({}, { containerDefinitions: [{ name: "app", image: `${REPO}:1.4`, essential: true }] });
    const td = arnOf("task-definition/app:1");
    serviceTask(td, DIGEST);
    serviceTask(td, DIGEST);
    serviceTask(td, OTHER); // started after the tag moved
    serviceTask(arnOf("task-definition/app:0"), `sha256:${"ef".repeat(32)}`); // an older revision draining
    serviceTask(td, `sha256:${"99".repeat(32)}`, "STOPPED");
    const images = await runningImages(fake.client, "production", env);
    expect(images.map((i) => i.ref)).toEqual([`${REPO}@${DIGEST}`, `${REPO}@${OTHER}`].sort());
    expect(images.every((i) => i.from === "running tasks" && i.declared === `${REPO}:1.4`)).toBe(true);
    expect(fake.inputs("ListTasks")).toEqual([{ cluster: "main", serviceName: "api", desiredStatus: "RUNNING", maxResults: 100 }]);
  });

  it("keeps a registry port apart from the tag", async () => {
    fake.addService({}, { containerDefinitions: [{ name: "app", image: "registry.local:5000/team/api:1.4", essential: true }] });
    serviceTask(arnOf("task-definition/app:1"), DIGEST);
    expect((await runningImages(fake.client, "production", env))[0]!.ref).toBe(`registry.local:5000/team/api@${DIGEST}`);
  });

  it("says what is missing: no running task with a digest, a container name that is not there, no service", async () => {
    fake.addService({}, { containerDefinitions: [{ name: "app", image: `${REPO}:1.4`, essential: true }] });
    await expect(runningImages(fake.client, "production", env)).rejects.toThrow(
      /^production runs .*api:1\.4 \(a tag\), and no running task of api reports its digest\nhint: /,
    );
    const other = { ...env, containerName: "web" };
    await expect(runningImages(fake.client, "production", other)).rejects.toThrow(
      /^the task definition app:1 has no container web\nhint: check environments.production.containerName \(containers there: app\)/,
    );
    const gone = { ...env, service: "gone" };
    await expect(runningImages(fake.client, "production", gone)).rejects.toBeInstanceOf(Problem);
  });
});
