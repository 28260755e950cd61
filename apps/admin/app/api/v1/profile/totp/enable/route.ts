import { HearthError, totpEnableRequest } from "@hearth/contracts";
import { deleteSetting, getSetting, recordEvent, setTotpSecret } from "@hearth/db";
import { route } from "../../../../../../lib/server/route";
import { json } from "../../../../../../lib/http";
import { profileView } from "../../../../../../lib/views";
import { acceptTotp } from "../../../../../../lib/server/login";
import { openTotpSecret, totpPendingKey, PENDING_TTL_MS } from "../../../../../../lib/server/totp-enrol";

export const dynamic = "force-dynamic";

/** POST /api/v1/profile/totp/enable {code}: confirms the pending secret; two-factor is on. */
export const POST = route({ sessionOnly: true, body: totpEnableRequest }, async ({ app, principal, body, ip }) => {
  const user = principal.user;
  if (user.totpSecret) throw new HearthError("conflict", "Two-factor authentication is already on");
  const pending = await getSetting<{ sealed?: string; createdAt: string }>(app.db, totpPendingKey(user.id));
  if (!pending || typeof pending.sealed !== "string" || Date.now() - Date.parse(pending.createdAt) > PENDING_TTL_MS) {
    throw new HearthError("bad_state", "Start two-factor setup first (or again: it expired)");
  }
  if (!(await acceptTotp(app, user.id, openTotpSecret(app, pending.sealed), body.code, new Date()))) {
    throw new HearthError("invalid", "Wrong code; check the time on your device and try again", { details: [{ path: ["code"], code: "custom", message: "wrong code" }] });
  }
  await setTotpSecret(app.db, user.id, pending.sealed);
  await deleteSetting(app.db, totpPendingKey(user.id));
  await recordEvent(app.db, { action: "user.totp_enable", actorId: user.id, actorName: user.username, sourceIp: ip, target: user.username });
  return json(profileView({ ...user, totpSecret: pending.sealed }));
});
