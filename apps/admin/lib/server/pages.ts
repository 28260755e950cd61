import { cookies } from "next/headers";
import { redirect } from "next/navigation";
import type { Profile } from "@hearth/contracts";
import { isSetupDone } from "@hearth/db";
import { context } from "./context";
import { userFromSessionValue } from "./auth";
import { sessionCookieName } from "../tokens";
import { profileView } from "../views";

/** Server-side page guards: no owner yet → /setup; not logged in → /login. */
export async function pageState(): Promise<{ setupDone: boolean; profile: Profile | null }> {
  const app = await context();
  const setupDone = await isSetupDone(app.db);
  if (!setupDone) return { setupDone, profile: null };
  const store = await cookies();
  const user = await userFromSessionValue(app, store.get(sessionCookieName(app.config.cookieSecure))?.value);
  return { setupDone, profile: user ? profileView(user) : null };
}

export async function requireUser(): Promise<Profile> {
  const s = await pageState();
  if (!s.setupDone) redirect("/setup");
  if (!s.profile) redirect("/login");
  return s.profile;
}
