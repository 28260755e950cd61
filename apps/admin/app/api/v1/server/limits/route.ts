import { route } from "../../../../../lib/server/route";
import { json } from "../../../../../lib/http";
import { ADMIN_ROLES } from "../../../../../lib/server/apps";
import { serverLimits } from "../../../../../lib/server/memory";

export const dynamic = "force-dynamic";

/**
 * GET /api/v1/server/limits → { memory: { totalBytes, reservedBytes, minLimitBytes,
 * maxLimitBytes } }: the bounds of an app's memory limit on this server (the physical memory
 * less what Hearth keeps: the larger of 512 MiB and 10 %). Install and configure refuse a
 * limit above maxLimitBytes with 400 invalid (detail code memory_limit_too_high).
 */
export const GET = route({ roles: ADMIN_ROLES }, async () => json(serverLimits()));
