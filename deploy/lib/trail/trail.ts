/**
 * The audit trail a deploy uses: Postgres when a database URL is given, always mirrored into a
 * JSON Lines trail so a record Postgres could not take is still kept and handed back. An audit
 * outage never loses a deploy result: it becomes a warning, unless the team set `required`, in
 * which case a run whose 'started' record cannot be stored is refused before anything changes.
 *
 * No Dagger types here: the wiring passes the Secret's plaintext and returns `jsonl()` as a File.
 */
import { progress } from "../gates/progress.js";
import { Problem, describeError } from "../../src/project/problem.js";
import { JsonlTrail } from "./jsonl.js";
import { PostgresTrail, type PgTimeouts } from "./postgres.js";
import type { PipelineRun, PipelineRunInput } from "./pipeline-record.js";
import type { AuditRecord, AuditRecordInput } from "./record.js";
import type { AuditTrail, PipelineStore, ReadFilter } from "./store.js";

export * from "./builders.js";

export interface OpenTrailOptions {
  /** Plaintext of the database URL Secret; absent means JSON Lines only. */
  databaseUrl?: string;
  /** Refuse the run when its 'started' record cannot reach Postgres (default: fall back to JSONL and warn). */
  required?: boolean;
  /** An earlier JSON Lines trail to continue. */
  existingJsonl?: string;
  timeouts?: Partial<PgTimeouts>;
}

export interface Trail extends AuditTrail, PipelineStore {
  /** postgres when the database opened (records also go to the JSON Lines), else jsonl only. */
  readonly storage: "postgres" | "jsonl";
  /** One line per audit problem that did not stop the run; never holds the URL or its password. */
  readonly warnings: readonly string[];
  /** Every record appended (and any earlier trail given), as JSON Lines. */
  jsonl(): string;
}

// Corrections are deliberate audit acts with nothing else to show for them, so `required` guards them too.
const MUST_REACH_DATABASE = new Set<AuditRecord["phase"]>(["started", "correction"]);

class MirroredTrail implements Trail {
  readonly warnings: string[] = [];

  constructor(
    private readonly file: JsonlTrail,
    private readonly db: PostgresTrail | undefined,
    private readonly required: boolean,
  ) {}

  get storage(): "postgres" | "jsonl" {
    return this.db ? "postgres" : "jsonl";
  }

  warn(message: string): void {
    this.warnings.push(message);
    progress("audit", `warning: ${message}`);
  }

  async append(record: AuditRecordInput): Promise<AuditRecord> {
    // The file first: whatever Postgres does next, the record is kept.
    const parsed = await this.file.append(record);
    if (!this.db) return parsed;
    try {
      await this.db.append(parsed);
    } catch (e) {
      const { cause, hint } = describeError(e);
      if (this.required && MUST_REACH_DATABASE.has(parsed.phase)) {
        throw new Problem(`the ${parsed.kind} was refused: its ${parsed.phase} audit record could not be stored: ${cause}`, hint);
      }
      this.warn(`${parsed.phase} record of run ${parsed.runId} did not reach Postgres and is kept only in the JSON Lines trail: ${cause}`);
    }
    return parsed;
  }

  /** Like append, but `required` never applies: a ci run's record cannot refuse or fail the run. */
  async appendPipelineRun(run: PipelineRunInput): Promise<PipelineRun> {
    const parsed = await this.file.appendPipelineRun(run);
    if (!this.db) return parsed;
    try {
      await this.db.appendPipelineRun(parsed);
    } catch (e) {
      const { cause } = describeError(e);
      this.warn(`ci run ${parsed.runId} did not reach Postgres and is kept only in the JSON Lines trail: ${cause}`);
    }
    return parsed;
  }

  async readPipelineRuns(filter?: Omit<ReadFilter, "environment">): Promise<PipelineRun[]> {
    if (this.db) {
      try {
        return await this.db.readPipelineRuns(filter);
      } catch (e) {
        this.warn(`reading ci runs from Postgres failed, showing the JSON Lines ones only: ${describeError(e).cause}`);
      }
    }
    return this.file.readPipelineRuns(filter);
  }

  async read(filter?: ReadFilter): Promise<AuditRecord[]> {
    if (this.db) {
      try {
        return await this.db.read(filter);
      } catch (e) {
        this.warn(`reading Postgres failed, showing this run's JSON Lines records only: ${describeError(e).cause}`);
      }
    }
    return this.file.read(filter);
  }

  async close(): Promise<void> {
    await this.db?.close();
  }

  jsonl(): string {
    return this.file.content();
  }
}

/**
 * Opens the trail once per run, before the deploy. A Postgres that cannot be reached, refuses
 * the credentials or hangs costs at most the connect timeout; then records go to JSON Lines
 * (with a warning), or, with `required`, the run is refused with the database's reason.
 */
export async function openTrail(opts: OpenTrailOptions = {}): Promise<Trail> {
  const file = new JsonlTrail(opts.existingJsonl ?? "", "earlier audit trail");
  const required = opts.required ?? false;
  const [damaged] = file.damaged;
  // Only a required trail refuses the run over damage; otherwise it is a warning and the trail
  // handed back still holds every intact record and the damaged line's bytes.
  if (damaged && required) throw damagedProblem(damaged.cause, file.damaged.length);
  const opened = await openStore(file, opts.databaseUrl, required, opts.timeouts);
  for (const d of file.damaged.slice(0, MAX_DAMAGE_WARNINGS)) opened.warn(`${d.cause}; the line is kept as it was, not read as a record`);
  if (file.damaged.length > MAX_DAMAGE_WARNINGS)
    opened.warn(`${file.damaged.length - MAX_DAMAGE_WARNINGS} more damaged lines kept as they were`);
  return opened;
}

const MAX_DAMAGE_WARNINGS = 5;

function damagedProblem(cause: string, count: number): Problem {
  const more = count > 1 ? ` (and ${count - 1} more damaged lines)` : "";
  return new Problem(
    `the audit trail is required and the earlier trail given is damaged: ${cause}${more}`,
    "repair or remove that line of the trail file (a half-written last line comes from an interrupted run), or set auditTrail.required to false",
  );
}

async function openStore(file: JsonlTrail, databaseUrl: string | undefined, required: boolean, timeouts?: Partial<PgTimeouts>) {
  if (databaseUrl === undefined) {
    if (required) {
      throw new Problem(
        "the audit trail is required but no database URL was given",
        "pass the database URL secret, or set required to false",
      );
    }
    return new MirroredTrail(file, undefined, false);
  }
  try {
    const db = await PostgresTrail.open(databaseUrl, { timeouts });
    progress("audit", `recording to ${db.describe()}`);
    return new MirroredTrail(file, db, required);
  } catch (e) {
    const { cause, hint } = describeError(e);
    if (required) throw new Problem(`the audit trail is required and Postgres is unavailable: ${cause}`, hint);
    const trail = new MirroredTrail(file, undefined, false);
    trail.warn(`audit records go to the JSON Lines trail only: ${cause} (${hint})`);
    return trail;
  }
}
