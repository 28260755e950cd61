import { z } from "zod";
import { route } from "../../../../../../../lib/server/route";
import { ADMIN_ROLES } from "../../../../../../../lib/server/apps";
import { appIdOf } from "../../../../../../../lib/server/app-ops";
import { appLogsResponse } from "../../../../../../../lib/server/app-logs";

export const dynamic = "force-dynamic";

const downloadQuery = z.strictObject({ health: z.enum(["0", "1"]).optional() });

/**
 * GET /api/v1/apps/:id/logs/download[?health=1]: every line box keeps of the app (history and
 * the current container), `<ts> <line>`, as a text/plain attachment; box's health-check lines
 * only with health=1.
 */
export const GET = route({ roles: ADMIN_ROLES, query: downloadQuery }, async ({ app, params, query, req, log }) =>
  appLogsResponse({ app, id: appIdOf(params), query: { format: "text", health: query.health }, req, log }),
);
