import { setupOwnerRequest } from "@hearth/contracts";
import { recordEvent } from "@hearth/db";
import { route } from "../../../../../lib/server/route";
import { json } from "../../../../../lib/http";
import { startSession } from "../../../../../lib/server/auth";
import { setupOwner } from "../../../../../lib/server/setup-owner";
import { profileView } from "../../../../../lib/views";

export const dynamic = "force-dynamic";

/**
 * POST /api/v1/setup/owner {setupCode, username, email, password}: first-run only. Needs the
 * one-time setup code setup/install.sh printed (403 without it or when wrong, 429 after too
 * many wrong ones; nothing is created then). Creates the owner, consumes the code and logs
 * the owner in. Race-safe: one transaction with the unique `setup.owner` Setting row.
 */
export const POST = route({ auth: "none", body: setupOwnerRequest }, async ({ app, body, ip, userAgent }) => {
  const user = await setupOwner(app, body, { sourceIp: ip });
  const setCookie = await startSession(app, user, { sourceIp: ip, userAgent });
  await recordEvent(app.db, { action: "user.setup_owner", actorId: user.id, actorName: user.username, sourceIp: ip, target: user.username });
  return json(profileView(user), 201, { "set-cookie": setCookie });
});
