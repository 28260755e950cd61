import { appMetricsResponse, HearthError, metricsQuery } from "@hearth/contracts";
import { getApp } from "@hearth/db";
import { route } from "../../../../../../lib/server/route";
import { json } from "../../../../../../lib/http";
import { ADMIN_ROLES } from "../../../../../../lib/server/apps";
import { appIdOf } from "../../../../../../lib/server/app-ops";
import { fetchBoxMetrics } from "../../../../../../lib/box-client";

export const dynamic = "force-dynamic";

/**
 * GET /api/v1/apps/:id/metrics?range=1h|24h|30d (default 1h) → { appId, range, stepSeconds,
 * intervalSeconds, from, to, series: { cpuPercent, memoryBytes, memoryLimitBytes, diskReadBps,
 * diskWriteBps, netRxBps, netTxBps }, max: { same } }, each a list of [ms, value]. Collected by
 * box every 10 s (apps/box/src/metrics); 1h gives the 10 s samples, 24h 5-minute averages,
 * 30d hourly ones. 400 invalid for another range, 404 for an unknown app, 502 when box is down.
 */
export const GET = route({ roles: ADMIN_ROLES, query: metricsQuery }, async ({ app, params, query }) => {
  const id = appIdOf(params);
  if (!(await getApp(app.db, id))) throw new HearthError("not_found", "No such app");
  const body = appMetricsResponse.parse(await fetchBoxMetrics(app.config.boxSocket, { appId: id }, query.range));
  return json(body, 200, { "cache-control": "no-store" });
});
