import { eventLogQuery } from "@hearth/contracts";
import { route } from "../../../../lib/server/route";
import { eventCsvResponse } from "../../../../lib/server/events";

export const dynamic = "force-dynamic";

/** GET /api/v1/events.csv?action=&app=&user= (owner and admins): every matching event as CSV, newest first. */
export const GET = route({ roles: ["owner", "admin"], query: eventLogQuery }, async ({ app, query }) => eventCsvResponse(app, query));
