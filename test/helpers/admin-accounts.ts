import { randomUUID } from "node:crypto";
import { createApiToken, createUser, type Db } from "@hearth/db";
import { hashPassword } from "../../apps/admin/lib/passwords";
import { newApiToken } from "../../apps/admin/lib/tokens";
import { type RunningAdmin, sessionCookieOf } from "./admin";

/** A token's scope as stored (read | read_write). */
type TokenScope = Parameters<typeof createApiToken>[1]["scope"];

/** First-run setup of the owner `owner` (as the installer's user would do it); returns the owner's session cookie. */
export async function ownerSession(admin: RunningAdmin): Promise<string> {
  const setup = await admin.setupOwner({ username: "owner", email: "owner@example.com", password: "correct horse battery staple" });
  if (setup.status !== 201) throw new Error(`owner setup answered ${setup.status}: ${setup.text}`);
  return sessionCookieOf(setup);
}

/** A new API token of the user, as the tokens page makes one; returns the token (the only time it is seen). */
export async function testApiToken(db: Db, userId: string, scope: TokenScope, name: string): Promise<string> {
  const tok = newApiToken();
  await createApiToken(db, { id: tok.id, userId, name, scope, secretHash: tok.secretHash });
  return tok.token;
}

/** A token of the owner that setup made. */
export async function ownerApiToken(db: Db, scope: TokenScope, name: string): Promise<string> {
  const owner = await db.user.findFirstOrThrow({ where: { username: "owner" } });
  return testApiToken(db, owner.id, scope, name);
}

/** The plain user `dora` (role user) and a read_write token of hers named "d"; returns the token. */
export async function plainUserToken(db: Db): Promise<string> {
  const user = await createUser(db, { id: randomUUID(), username: "dora", email: "dora@example.com", role: "user", passwordHash: await hashPassword("dora's long password") });
  return testApiToken(db, user.id, "read_write", "d");
}
