// A stateful PagerDuty Events API v2 on a real local receiver. It keeps alerts the way the Events
// API v2 documents them (PagerDuty/developer-docs docs/events-API-v2/02-Trigger-Events.md): one
// alert per (routing key, dedup_key); a trigger opens it or appends to the open one; a resolve
// closes the open one and is accepted but does nothing when none is open or when it comes through
// another routing key; 202 when accepted, 400 for a bad event, 429 when rate limited (01-Overview.md).
import type { PagerDutyEvent } from "../../deploy/lib/notify/pagerduty.js";
import { receiver, type Received, type Reply } from "./receiver.js";

export interface FakeAlert {
  open: boolean;
  triggers: number;
  severity?: string;
}

export async function pagerDuty(before: (n: number) => Reply | undefined = () => undefined) {
  const alerts = new Map<string, FakeAlert>();
  const r = await receiver((n: number, req: Received): Reply => {
    const early = before(n);
    if (early) return early;
    const e = JSON.parse(req.body) as PagerDutyEvent;
    if (!e.routing_key || !e.dedup_key || !["trigger", "resolve", "acknowledge"].includes(e.event_action))
      return { status: 400, body: JSON.stringify({ status: "invalid event", message: "Event object is invalid" }) };
    if (e.event_action === "trigger" && (!e.payload?.summary || !e.payload.source || !e.payload.severity))
      return { status: 400, body: JSON.stringify({ status: "invalid event", errors: ["'payload' is missing or blank"] }) };
    const id = `${e.routing_key}/${e.dedup_key}`;
    const alert = alerts.get(id);
    if (e.event_action === "trigger")
      alerts.set(id, { open: true, triggers: (alert?.open ? alert.triggers : 0) + 1, severity: e.payload!.severity });
    else if (alert?.open) alert.open = false; // a resolve without an open alert is dropped
    return { status: 202, body: JSON.stringify({ status: "success", message: "Event processed", dedup_key: e.dedup_key }) };
  });
  /** Which alerts are open now, by dedup key (routing key left out). */
  const open = () => [...alerts.entries()].filter(([, a]) => a.open).map(([id]) => id.slice(id.indexOf("/") + 1));
  return { ...r, alerts, open, url: r.url.replace(/\/services\/.*/, "/v2/enqueue") };
}
