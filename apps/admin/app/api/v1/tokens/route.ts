import { createTokenRequest } from "@hearth/contracts";
import { createApiToken, listApiTokens, recordEvent } from "@hearth/db";
import { route } from "../../../../lib/server/route";
import { json } from "../../../../lib/http";
import { newApiToken, tokenBoundsOf } from "../../../../lib/tokens";
import { tokenScopeFromWire, tokenViewOf } from "../../../../lib/views";

export const dynamic = "force-dynamic";

/** GET /api/v1/tokens: the caller's tokens (never their secrets). */
export const GET = route({}, async ({ app, principal }) => {
  const tokens = await listApiTokens(app.db, principal.user.id);
  return json({ tokens: tokens.map(tokenViewOf) });
});

/** POST /api/v1/tokens {name, scope, expiresAt?} → 201 with `token`, shown this once. */
export const POST = route({ body: createTokenRequest }, async ({ app, principal, body, ip }) => {
  const expiresAt = tokenBoundsOf(principal.token ?? null, { scope: body.scope, expiresAt: body.expiresAt ? new Date(body.expiresAt) : null });
  const t = newApiToken();
  const row = await createApiToken(app.db, {
    id: t.id,
    userId: principal.user.id,
    name: body.name,
    scope: tokenScopeFromWire(body.scope),
    secretHash: t.secretHash,
    expiresAt,
  });
  await recordEvent(app.db, {
    action: "token.create",
    actorId: principal.user.id,
    actorName: principal.user.username,
    sourceIp: ip,
    target: row.name,
    data: { tokenId: row.id, scope: body.scope, expiresAt: expiresAt?.toISOString() ?? null, viaToken: principal.token?.id ?? null },
  });
  return json({ ...tokenViewOf(row), token: t.token }, 201);
});
