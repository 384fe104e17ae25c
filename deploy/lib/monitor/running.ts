/**
 * What an environment runs now, by digest, read as the ECS API model describes it (client-ecs):
 * DescribeServices → the PRIMARY deployment (the one ECS is converging on) → its task definition →
 * the container definition's `image`. Shipshape deploys by digest, so that image is normally
 * `repo@sha256:…`. A task definition someone registered by tag (`repo:1.4`) says nothing about the
 * bytes running: then the running tasks say it, each container's `imageDigest` ("the container
 * image manifest digest", resolved when the task started), via ListTasks (serviceName, RUNNING,
 * paged by nextToken) and DescribeTasks (at most 100 tasks a call). Tasks started at different
 * times from a moving tag may run different digests: each distinct one is returned.
 */
import { DescribeTasksCommand, ListTasksCommand, type ECSClient, type Task } from "@aws-sdk/client-ecs";
import { ecsOf, send, type EcsOptions } from "../deploy/aws.js";
import type { EnvironmentConfig } from "../deploy/config.js";
import { describeService, describeTaskDefinition } from "../deploy/ecs.js";
import { Problem } from "../../src/project/problem.js";

export interface RunningImage {
  /** repo@sha256:… */
  ref: string;
  /** The task definition's own reference (a tag, or the same digest ref). */
  declared: string;
  taskDefinitionArn: string;
  /** "task definition" when it names the digest, "running tasks" when a tag was resolved through them. */
  from: "task definition" | "running tasks";
}

const DIGEST_REF = /^(.+)@(sha256:[0-9a-f]{64})$/;

/** repo of `repo:tag` or `repo@digest`; a port in the host (`host:5000/repo:tag`) is not a tag. */
const repositoryOf = (image: string): string => {
  const noDigest = image.split("@")[0] ?? image;
  const slash = noDigest.lastIndexOf("/");
  const colon = noDigest.lastIndexOf(":");
  return colon > slash ? noDigest.slice(0, colon) : noDigest;
};

async function runningTasks(client: ECSClient, env: EnvironmentConfig, opts?: EcsOptions): Promise<Task[]> {
  const ecs = ecsOf(client, opts);
  const arns: string[] = [];
  let nextToken: string | undefined;
  do {
    const token = nextToken;
    const out = await send(ecs, "ecs:ListTasks", () =>
      client.send(
        new ListTasksCommand({
          cluster: env.cluster,
          serviceName: env.service,
          desiredStatus: "RUNNING",
          maxResults: 100,
          nextToken: token,
        }),
      ),
    );
    arns.push(...(out.taskArns ?? []));
    nextToken = out.nextToken;
  } while (nextToken);
  const tasks: Task[] = [];
  for (let i = 0; i < arns.length; i += 100) {
    const chunk = arns.slice(i, i + 100);
    const out = await send(ecs, "ecs:DescribeTasks", () => client.send(new DescribeTasksCommand({ cluster: env.cluster, tasks: chunk })));
    tasks.push(...(out.tasks ?? []));
  }
  return tasks;
}

export async function runningImages(
  client: ECSClient,
  envName: string,
  env: EnvironmentConfig,
  opts?: EcsOptions,
): Promise<RunningImage[]> {
  const service = await describeService(client, { cluster: env.cluster, service: env.service }, opts);
  const primary = service.deployments?.find((d) => d.status === "PRIMARY")?.taskDefinition ?? service.taskDefinition;
  if (!primary)
    throw new Problem(`service ${env.service} in ${env.cluster} has no PRIMARY deployment`, "run status to see what ECS reports for it");
  const { taskDefinition } = await describeTaskDefinition(client, primary, opts);
  const container = taskDefinition.containerDefinitions?.find((c) => c.name === env.containerName);
  if (!container?.image)
    throw new Problem(
      `the task definition ${primary.split("/").pop() ?? primary} has no container ${env.containerName}`,
      `check environments.${envName}.containerName (containers there: ${(taskDefinition.containerDefinitions ?? []).map((c) => c.name).join(", ")})`,
    );
  const declared = container.image;
  if (DIGEST_REF.test(declared)) return [{ ref: declared, declared, taskDefinitionArn: primary, from: "task definition" }];
  const digests = new Set(
    (await runningTasks(client, env, opts))
      .filter((t) => t.taskDefinitionArn === primary && t.lastStatus === "RUNNING")
      .flatMap((t) => (t.containers ?? []).filter((c) => c.name === env.containerName).map((c) => c.imageDigest ?? ""))
      .filter((d) => /^sha256:[0-9a-f]{64}$/.test(d)),
  );
  if (digests.size === 0)
    throw new Problem(
      `${envName} runs ${declared} (a tag), and no running task of ${env.service} reports its digest`,
      "wait until the service has running tasks, or deploy by digest with Shipshape so the task definition names it",
    );
  return [...digests]
    .sort()
    .map((d) => ({ ref: `${repositoryOf(declared)}@${d}`, declared, taskDefinitionArn: primary, from: "running tasks" }));
}
