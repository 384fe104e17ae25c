/**
 * The environment's CloudWatch alarms as a stepped canary's tripwire. ECS-native alarm rollback
 * only watches an ECS deployment, and a stepped canary's traffic moves outside one (the canary
 * service's deployment has finished before its first weight), so Shipshape reads the alarms
 * itself: one in ALARM fails the step, before a weight goes up and throughout each pause. An
 * alarm that does not exist is a configuration error, said at once; INSUFFICIENT_DATA is not a
 * breach (as ECS treats it).
 */
import { DescribeAlarmsCommand, type CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { Problem } from "../../../src/project/problem.js";
import { call } from "../cloudwatch-call.js";

/** DescribeAlarms takes at most 100 AlarmNames per call. */
const PAGE = 100;

export type AlarmCheck = () => Promise<string | undefined>;

/** A check that says which alarms are in ALARM (undefined when none is), or throws a Problem for one that does not exist. */
export function alarmCheck(client: CloudWatchClient, names: readonly string[], sleep: (ms: number) => Promise<void>): AlarmCheck {
  return async () => {
    const breached: string[] = [];
    for (let i = 0; i < names.length; i += PAGE) {
      const chunk = names.slice(i, i + PAGE);
      const out = await call(
        "DescribeAlarms",
        // Without AlarmTypes, DescribeAlarms returns metric alarms only and a composite alarm would look missing.
        () => client.send(new DescribeAlarmsCommand({ AlarmNames: chunk, AlarmTypes: ["MetricAlarm", "CompositeAlarm"] })),
        { sleep },
        new AbortController().signal,
      );
      const found = [...(out.MetricAlarms ?? []), ...(out.CompositeAlarms ?? [])];
      const missing = chunk.filter((n) => !found.some((a) => a.AlarmName === n));
      if (missing.length > 0)
        throw new Problem(
          `CloudWatch has no alarm named ${missing.map((n) => `"${n}"`).join(" or ")}, which this environment's alarms name`,
          "check alarms: in shipshape.yaml (names are case-sensitive and live in the environment's region)",
        );
      for (const a of found) if (a.StateValue === "ALARM") breached.push(`${a.AlarmName ?? "?"} (${(a.StateReason ?? "").slice(0, 200)})`);
    }
    return breached.length > 0 ? `CloudWatch alarm in ALARM: ${breached.join("; ")}` : undefined;
  };
}
