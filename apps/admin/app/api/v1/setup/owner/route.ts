import { randomUUID } from "node:crypto";
import { HearthError, setupOwnerRequest } from "@hearth/contracts";
import { createOwner, isSetupDone, recordEvent } from "@hearth/db";
import { route } from "../../../../../lib/server/route";
import { json } from "../../../../../lib/http";
import { hashPassword } from "../../../../../lib/passwords";
import { startSession } from "../../../../../lib/server/auth";
import { profileView } from "../../../../../lib/views";

export const dynamic = "force-dynamic";

const done = () => new HearthError("conflict", "Setup is already done; log in instead");

/**
 * POST /api/v1/setup/owner: first-run only. Creates the owner and logs them in. Race-safe:
 * the owner is created in one transaction with the unique `setup.owner` Setting row.
 */
export const POST = route({ auth: "none", body: setupOwnerRequest }, async ({ app, body, ip, userAgent }) => {
  if (await isSetupDone(app.db)) throw done();
  const passwordHash = await hashPassword(body.password);
  const user = await createOwner(app.db, {
    id: randomUUID(),
    username: body.username,
    email: body.email.toLowerCase(),
    displayName: body.displayName ?? "",
    passwordHash,
  });
  if (!user) throw done();
  const setCookie = await startSession(app, user, { sourceIp: ip, userAgent });
  await recordEvent(app.db, { action: "user.setup_owner", actorId: user.id, actorName: user.username, sourceIp: ip, target: user.username });
  return json(profileView(user), 201, { "set-cookie": setCookie });
});
