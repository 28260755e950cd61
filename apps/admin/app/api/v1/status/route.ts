import { HEARTH_VERSION, type StatusResponse } from "@hearth/contracts";
import { isSetupDone } from "@hearth/db";
import { route } from "../../../../lib/server/route";
import { json } from "../../../../lib/http";
import { boxIsUp, createBoxClient } from "../../../../lib/box-client";

export const dynamic = "force-dynamic";

/**
 * GET /api/v1/status (no auth): version, whether first-run setup is done, whether box
 * answers, and the nonce of the install run that started this admin (setup/install.sh waits
 * for its own; it is no secret).
 */
export const GET = route({ auth: "none" }, async ({ app }) => {
  const [setupDone, up] = await Promise.all([isSetupDone(app.db), boxIsUp(createBoxClient(app.config.boxSocket), 1000)]);
  const body: StatusResponse = { version: HEARTH_VERSION, setupDone, box: up ? "up" : "down", ...(app.config.installId ? { installId: app.config.installId } : {}) };
  return json(body);
});
