/** Delivery metrics (DORA) read from the audit trail: tables for people, JSON and charts for reports. */
import { func, object, type Directory } from "@dagger.io/dagger";

/** Delivery metrics (DORA) from the audit trail, as Markdown, text and files. */
@object()
export class DeliveryReport {
  /** The metrics per environment and period as a Markdown table (for a step summary or a report). */
  @func() markdown!: string;
  /** The same table as plain text, for a terminal. */
  @func() text!: string;
  /** metrics.md, metrics.txt, metrics.json, a chart per environment (<env>.svg) and, with recorded ci runs, pipeline.svg. */
  @func() files!: Directory;
}
