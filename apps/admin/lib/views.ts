import type { EventView, Profile, TokenView } from "@hearth/contracts";

/** Database rows → wire shapes (contracts/api.ts). */
type UserLike = { id: string; username: string; email: string; displayName: string; role: "owner" | "admin" | "user"; totpSecret: string | null };

export function profileView(u: UserLike): Profile {
  return { id: u.id, username: u.username, email: u.email, displayName: u.displayName, role: u.role, totpEnabled: u.totpSecret !== null };
}

const iso = (d: Date | null | undefined): string | null => (d ? d.toISOString() : null);

export function tokenScopeToWire(scope: "read" | "read_write"): "read" | "read-write" {
  return scope === "read_write" ? "read-write" : "read";
}
export function tokenScopeFromWire(scope: "read" | "read-write"): "read" | "read_write" {
  return scope === "read-write" ? "read_write" : "read";
}

export function tokenViewOf(t: { id: string; name: string; scope: "read" | "read_write"; createdAt: Date; expiresAt: Date | null; lastUsedAt: Date | null }): TokenView {
  return { id: t.id, name: t.name, scope: tokenScopeToWire(t.scope), createdAt: t.createdAt.toISOString(), expiresAt: iso(t.expiresAt), lastUsedAt: iso(t.lastUsedAt) };
}

export function eventViewOf(e: { id: bigint; action: string; actorId: string | null; actorName: string; sourceIp: string; target: string; data: unknown; createdAt: Date }): EventView {
  return { id: e.id.toString(), action: e.action, actorId: e.actorId, actorName: e.actorName, sourceIp: e.sourceIp, target: e.target, data: e.data ?? null, createdAt: e.createdAt.toISOString() };
}
