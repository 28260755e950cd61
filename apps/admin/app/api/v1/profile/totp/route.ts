import { HearthError, totpDisableRequest, type TotpEnrollResponse } from "@hearth/contracts";
import { recordEvent, setSetting, setTotpSecret } from "@hearth/db";
import { route } from "../../../../../lib/server/route";
import { json, noContent } from "../../../../../lib/http";
import { newTotpSecret, totpUrl } from "../../../../../lib/totp";
import { verifyPassword } from "../../../../../lib/passwords";
import { sealTotpSecret, totpPendingKey } from "../../../../../lib/server/totp-enrol";

export const dynamic = "force-dynamic";

/**
 * POST /api/v1/profile/totp: starts enrolment. The secret is kept pending (a Setting) until
 * POST /api/v1/profile/totp/enable confirms it with a current code.
 */
export const POST = route({ sessionOnly: true }, async ({ app, principal }) => {
  const user = principal.user;
  if (user.totpSecret) throw new HearthError("conflict", "Two-factor authentication is already on");
  const secret = newTotpSecret();
  await setSetting(app.db, totpPendingKey(user.id), { sealed: sealTotpSecret(app, secret), createdAt: new Date().toISOString() });
  const body: TotpEnrollResponse = { secret, otpauthUrl: totpUrl(secret, user.username) };
  return json(body);
});

/** DELETE /api/v1/profile/totp {password}: turns two-factor off. */
export const DELETE = route({ sessionOnly: true, body: totpDisableRequest }, async ({ app, principal, body, ip }) => {
  const user = principal.user;
  if (!user.totpSecret) throw new HearthError("bad_state", "Two-factor authentication is not on");
  if (!(await verifyPassword(user.passwordHash, body.password))) throw new HearthError("forbidden", "Wrong password");
  await setTotpSecret(app.db, user.id, null);
  await recordEvent(app.db, { action: "user.totp_disable", actorId: user.id, actorName: user.username, sourceIp: ip, target: user.username });
  return noContent();
});
