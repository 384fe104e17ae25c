/**
 * An existing CloudWatch alarm as the judge: its state is the verdict (OK passes, ALARM fails,
 * INSUFFICIENT_DATA is no data). A missing alarm is fatal: no retry creates it.
 */
import { DescribeAlarmsCommand, type CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import type { z } from "zod";
import type { CloudWatchAlarmProviderSchema } from "./analysis-config.js";
import { FatalProblem } from "./analysis-problem.js";
import type { MetricProvider } from "./analysis-sample.js";
import { call, type CloudWatchCallOptions } from "./cloudwatch-call.js";

export type CloudWatchAlarmConfig = z.output<typeof CloudWatchAlarmProviderSchema>;

/** The alarm's state as a number the default condition (< 1) judges: 1 for ALARM, 0 for OK, none for INSUFFICIENT_DATA. */
export function cloudwatchAlarmProvider(
  client: CloudWatchClient,
  cfg: CloudWatchAlarmConfig,
  opts: CloudWatchCallOptions = {},
): MetricProvider {
  const name = cfg.alarmName;
  return {
    async measure(_at, signal) {
      const out = await call(
        "DescribeAlarms",
        // Without AlarmTypes, DescribeAlarms returns metric alarms only and a composite alarm would look missing.
        () =>
          client.send(new DescribeAlarmsCommand({ AlarmNames: [name], AlarmTypes: ["MetricAlarm", "CompositeAlarm"] }), {
            abortSignal: signal,
          }),
        opts.retry ?? {},
        signal,
      );
      const alarm = [...(out.MetricAlarms ?? []), ...(out.CompositeAlarms ?? [])].find((a) => a.AlarmName === name);
      if (!alarm)
        throw new FatalProblem(
          `the CloudWatch alarm "${name}" does not exist${cfg.region === undefined ? "" : ` in ${cfg.region}`}`,
          "check cloudwatchAlarm.alarmName (case-sensitive) and the region the alarm lives in",
        );
      const reason = (alarm.StateReason ?? "").slice(0, 300);
      switch (alarm.StateValue) {
        case "ALARM":
          return { values: [1], message: `alarm ${name} is ALARM: ${reason}` };
        case "OK":
          return { values: [0] };
        default:
          return { values: [], message: `alarm ${name} is ${alarm.StateValue ?? "in no state"}: ${reason}` };
      }
    },
  };
}
