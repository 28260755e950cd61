import { eventLogQuery } from "@hearth/contracts";
import { route } from "../../../../lib/server/route";
import { eventLogResponse } from "../../../../lib/server/events";

export const dynamic = "force-dynamic";

/** GET /api/v1/eventlog: the older name of GET /api/v1/events (same query, same answer). */
export const GET = route({ roles: ["owner", "admin"], query: eventLogQuery }, async ({ app, query }) => eventLogResponse(app, query));
