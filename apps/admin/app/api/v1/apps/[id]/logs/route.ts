import { appLogsQuery } from "@hearth/contracts";
import { route } from "../../../../../../lib/server/route";
import { ADMIN_ROLES } from "../../../../../../lib/server/apps";
import { appIdOf } from "../../../../../../lib/server/app-ops";
import { appLogsResponse } from "../../../../../../lib/server/app-logs";

export const dynamic = "force-dynamic";

/**
 * GET /api/v1/apps/:id/logs?follow=1&lines=N&before=<ts>&q=text&health=1: the app's log (box's
 * kept history of earlier containers, then the current one) as server-sent events (`event: log`,
 * data {"line", "ts"}; `event: page`, data {"older"}; `event: end`), proxied from box's socket
 * (GET /apps/:id/logs). `format=text`: the whole kept log as a text/plain attachment (as
 * …/logs/download). 502 external when box is down or cannot stream it.
 */
export const GET = route({ roles: ADMIN_ROLES, query: appLogsQuery }, async ({ app, params, query, req, log }) => appLogsResponse({ app, id: appIdOf(params), query, req, log }));
