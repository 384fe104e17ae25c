/**
 * The `auditTrail:` section of shipshape.yaml (`gates.audit` is npm audit; this is the deploy
 * record). The database URL is not here: it is a Secret argument, never a file value.
 */
import { z } from "zod";
import { expecting } from "../config/errors.js";
import type { PgTimeouts } from "./pg-errors.js";

const seconds = (max: number, description: string) =>
  expecting(z.int().min(1).max(max).describe(description), `a whole number of seconds from 1 to ${max}`);

export const AuditConfigSchema = z
  .strictObject({
    required: z
      .boolean()
      .default(false)
      .describe(
        "Refuse a deploy whose 'started' audit record cannot be stored in Postgres; by default it falls back to the JSON Lines trail with a warning.",
      ),
    pipelineRuns: z
      .boolean()
      .default(true)
      .describe(
        "With an audit trail set (withAuditTrail), ci appends each run: per gate status, duration and blocking findings, and coverage. false: ci records nothing.",
      ),
    connectTimeoutSeconds: seconds(120, "Seconds to connect and log in to the audit database before giving up.").default(10),
    statementTimeoutSeconds: seconds(300, "Seconds one audit statement may run (or wait for a lock) on the server.").default(10),
  })
  .describe("How the audit trail (deploys, and ci runs) behaves and how hard an outage is taken.");

export type AuditConfig = z.output<typeof AuditConfigSchema>;

/** The client-side read bound sits above the server's, so the server's clearer error usually wins. */
export const auditTimeouts = (c: AuditConfig): PgTimeouts => ({
  connectTimeoutMs: c.connectTimeoutSeconds * 1000,
  statementTimeoutMs: c.statementTimeoutSeconds * 1000,
  queryTimeoutMs: (c.statementTimeoutSeconds + 5) * 1000,
});
