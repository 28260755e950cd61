import { route } from "../../../../../../lib/server/route";
import { ADMIN_ROLES } from "../../../../../../lib/server/apps";
import { appOperation } from "../../../../../../lib/server/app-ops";

export const dynamic = "force-dynamic";

/** POST /api/v1/apps/:id/stop → 202 {taskId}; runState stopped, pending_stop. */
export const POST = route({ roles: ADMIN_ROLES }, async (ctx) => appOperation(ctx, "app.stop", { runState: "stopped" }));
