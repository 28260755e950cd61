import { HearthError } from "@hearth/contracts";
import { deleteApiToken, recordEvent } from "@hearth/db";
import { route } from "../../../../../lib/server/route";
import { noContent } from "../../../../../lib/http";

export const dynamic = "force-dynamic";

/** DELETE /api/v1/tokens/:id → 204; 404 when there is no such token of yours. */
export const DELETE = route({}, async ({ app, principal, params, ip }) => {
  const id = params.id ?? "";
  const t = id.length <= 36 ? await deleteApiToken(app.db, principal.user.id, id) : null;
  if (!t) throw new HearthError("not_found", "No such token");
  await recordEvent(app.db, {
    action: "token.delete",
    actorId: principal.user.id,
    actorName: principal.user.username,
    sourceIp: ip,
    target: t.name,
    data: { tokenId: t.id },
  });
  return noContent();
});
