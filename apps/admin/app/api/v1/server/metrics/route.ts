import { metricsQuery, serverMetricsResponse } from "@hearth/contracts";
import { route } from "../../../../../lib/server/route";
import { json } from "../../../../../lib/http";
import { ADMIN_ROLES } from "../../../../../lib/server/apps";
import { fetchBoxMetrics } from "../../../../../lib/box-client";

export const dynamic = "force-dynamic";

/**
 * GET /api/v1/server/metrics?range=1h|24h|30d (default 1h) → { range, stepSeconds,
 * intervalSeconds, from, to, series: { cpuPercent (of all cores), memoryUsedBytes,
 * memoryTotalBytes, load1, diskReadBps, diskWriteBps, netRxBps, netTxBps }, max, overview:
 * { version, hostname, uptimeSeconds, boxUptimeSeconds, cpuCores, memoryTotalBytes,
 * filesystems[], dataDir } }. 400 invalid for another range, 502 when box is down.
 */
export const GET = route({ roles: ADMIN_ROLES, query: metricsQuery }, async ({ app, query }) => {
  const body = serverMetricsResponse.parse(await fetchBoxMetrics(app.config.boxSocket, "server", query.range));
  return json(body, 200, { "cache-control": "no-store" });
});
