import { eventLogQuery, type EventLogResponse } from "@hearth/contracts";
import { listEvents } from "@hearth/db";
import { route } from "../../../../lib/server/route";
import { json } from "../../../../lib/http";
import { eventViewOf } from "../../../../lib/views";

export const dynamic = "force-dynamic";

/** GET /api/v1/eventlog?action=&page=&per_page= (owner and admins). Newest first. */
export const GET = route({ roles: ["owner", "admin"], query: eventLogQuery }, async ({ app, query }) => {
  const { events, total } = await listEvents(app.db, { action: query.action || undefined, page: query.page, perPage: query.per_page });
  const body: EventLogResponse = { events: events.map(eventViewOf), page: query.page, perPage: query.per_page, total };
  return json(body);
});
