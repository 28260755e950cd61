import { HEARTH_VERSION, type StatusResponse } from "@hearth/contracts";
import { route } from "../../../../lib/server/route";
import { json } from "../../../../lib/http";
import { boxUp, setupDone as isSetupDone } from "../../../../lib/server/status";

export const dynamic = "force-dynamic";

/**
 * GET /api/v1/status (no auth): version, whether first-run setup is done, whether box
 * answers, and the nonce of the install run that started this admin (setup/install.sh waits
 * for its own; it is no secret). Served from memory: box's health is asked at most every
 * 2 s, shared by concurrent requests (lib/server/status.ts).
 */
export const GET = route({ auth: "none" }, async ({ app }) => {
  const [setupDone, up] = await Promise.all([isSetupDone(app), boxUp(app)]);
  const body: StatusResponse = { version: HEARTH_VERSION, setupDone, box: up ? "up" : "down", ...(app.config.installId ? { installId: app.config.installId } : {}) };
  return json(body);
});
