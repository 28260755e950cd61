import { loginRequest } from "@hearth/contracts";
import { route } from "../../../../../lib/server/route";
import { json } from "../../../../../lib/http";
import { login } from "../../../../../lib/server/login";
import { profileView } from "../../../../../lib/views";

export const dynamic = "force-dynamic";

/** POST /api/v1/auth/login {username, password, totp?} → 200 profile + session cookie. */
export const POST = route({ auth: "none", body: loginRequest }, async ({ app, body, ip, userAgent }) => {
  const { user, setCookie } = await login(app, body, { sourceIp: ip, userAgent });
  return json(profileView(user), 200, { "set-cookie": setCookie });
});
