import { eventLogQuery } from "@hearth/contracts";
import { route } from "../../../../lib/server/route";
import { eventLogResponse } from "../../../../lib/server/events";

export const dynamic = "force-dynamic";

/**
 * GET /api/v1/events?action=&app=&user=&page=&per_page= (owner and admins): the event log,
 * newest first; `format=csv` exports every matching event as CSV.
 */
export const GET = route({ roles: ["owner", "admin"], query: eventLogQuery }, async ({ app, query }) => eventLogResponse(app, query));
