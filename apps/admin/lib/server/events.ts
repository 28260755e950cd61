import { ACME_SETTINGS_KEY, NETWORK_SETTINGS_KEY, type EventLogQuery, type EventLogResponse } from "@hearth/contracts";
import { eachEvent, existingEventTargets, listEvents, type EventFilter, type EventRow } from "@hearth/db";
import { csvRow } from "../csv";
import { eventErrorOf, eventLabel } from "../event-labels";
import { json } from "../http";
import { eventViewOf } from "../views";
import type { AdminContext } from "./context";

/**
 * The event log's API: GET /api/v1/events (JSON, paged) and its CSV export
 * (/api/v1/events.csv or ?format=csv, every matching event). /api/v1/eventlog is the same.
 */
function filterOf(q: EventLogQuery): EventFilter {
  return { action: q.action || undefined, app: q.app || undefined, user: q.user || undefined };
}

/** Settings edited elsewhere than on the Settings page. */
const SETTING_PAGES: Record<string, string> = { [ACME_SETTINGS_KEY]: "/certificates", [NETWORK_SETTINGS_KEY]: "/domains" };

/** The dashboard page of each event's target while the target exists; null otherwise. */
export async function targetHrefs(app: AdminContext, events: readonly EventRow[]): Promise<(string | null)[]> {
  const of = (type: string) => [...new Set(events.filter((e) => e.targetType === type && e.target).map((e) => e.target))];
  const live = await existingEventTargets(app.db, { apps: of("app"), domains: of("domain"), users: [], registries: of("registry") });
  return events.map((e) => {
    if (!e.target) return null;
    switch (e.targetType) {
      case "app":
        return live.apps.has(e.target) ? `/apps/${encodeURIComponent(e.target)}` : null;
      case "domain":
        return live.domains.has(e.target) ? "/domains" : null;
      case "registry":
        return live.registries.has(e.target) ? "/registries" : null;
      case "setting":
        return SETTING_PAGES[e.target] ?? "/settings";
      default:
        return null;
    }
  });
}

export async function eventLogResponse(app: AdminContext, q: EventLogQuery): Promise<Response> {
  if (q.format === "csv") return eventCsvResponse(app, q);
  const { events, total } = await listEvents(app.db, { ...filterOf(q), page: q.page, perPage: q.per_page });
  const hrefs = await targetHrefs(app, events);
  const body: EventLogResponse = { events: events.map((e, i) => eventViewOf(e, hrefs[i] ?? null)), page: q.page, perPage: q.per_page, total };
  return json(body);
}

export const EVENT_CSV_HEADER = ["id", "time", "action", "event", "actor", "target_type", "target", "target_name", "source_ip", "error", "data"] as const;

/** One event as a CSV row (EVENT_CSV_HEADER's columns). */
export function eventCsvRow(e: EventRow): string {
  const error = eventErrorOf(e.data);
  return csvRow([
    e.id.toString(),
    e.createdAt.toISOString(),
    e.action,
    eventLabel(e.action),
    e.actorName,
    e.targetType,
    e.target,
    e.targetName,
    e.sourceIp,
    error,
    e.data === null || e.data === undefined ? "" : JSON.stringify(e.data),
  ]);
}

/** Every matching event, newest first, streamed in batches (the log can be long). */
export function eventCsvResponse(app: AdminContext, q: EventLogQuery): Response {
  const rows = eachEvent(app.db, filterOf(q));
  const enc = new TextEncoder();
  let headerSent = false;
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!headerSent) {
        headerSent = true;
        controller.enqueue(enc.encode(csvRow(EVENT_CSV_HEADER)));
        return;
      }
      const next = await rows.next();
      if (next.done) {
        controller.close();
        return;
      }
      controller.enqueue(enc.encode(next.value.map(eventCsvRow).join("")));
    },
    async cancel() {
      await rows.return(undefined);
    },
  });
  const day = new Date().toISOString().slice(0, 10);
  return new Response(stream, {
    status: 200,
    headers: {
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": `attachment; filename="hearth-events-${day}.csv"`,
      "cache-control": "no-store",
    },
  });
}
