/** Delivery metrics (DORA, and the ci runs' figures) from the configured audit trail. */
import { dag } from "@dagger.io/dagger";
import type { MetricsCalls } from "../../src/calls.js";
import { DeliveryReport } from "../../src/report/delivery.js";
import { make } from "../../src/report/fields.js";
import { deliveryReport, readTrail } from "../gates/delivery.js";
import { secretText } from "../gates/secret-text.js";
import { loadConfig } from "../project/load.js";

export const calls: MetricsCalls = {
  async metrics(s, environment, window) {
    const { config } = await loadConfig(s.source, s.configPath);
    const trail = { databaseUrl: await secretText(s.auditDatabaseUrl), jsonl: s.auditTrail ? await s.auditTrail.contents() : undefined };
    const { records, pipelineRuns } = await readTrail(config, trail, environment);
    const report = deliveryReport(records, { environment, ...window }, pipelineRuns);
    const files = Object.entries(report.files).reduce((dir, [name, content]) => dir.withNewFile(name, content), dag.directory());
    return make(DeliveryReport, { markdown: report.markdown, text: report.text, files });
  },
};
