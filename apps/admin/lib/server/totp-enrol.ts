import { HearthError } from "@hearth/contracts";
import { openSecret, sealSecret } from "@hearth/db";
import type { AdminContext } from "./context";

/** Where a not-yet-confirmed TOTP secret waits (a Setting row, sealed), and for how long. */
export const totpPendingKey = (userId: string) => `totp.pending.${userId}`;
export const PENDING_TTL_MS = 15 * 60_000;

/**
 * TOTP secrets are stored sealed with HEARTH_SECRET_KEY (AES-256-GCM, packages/db
 * secrets.ts), so a copy of the database alone does not give anyone the codes.
 */
export function sealTotpSecret(app: AdminContext, secret: string): string {
  if (!app.config.secretKey) {
    throw new HearthError("bad_state", "HEARTH_SECRET_KEY is not set (in /etc/hearth/hearth.env): two-factor secrets are stored sealed with it");
  }
  return sealSecret(app.config.secretKey, secret);
}

/** The base32 secret of a stored value; one stored before sealing existed (not "v1:…") is read as is. */
export function openTotpSecret(app: AdminContext, stored: string): string {
  if (!stored.startsWith("v1:")) return stored;
  if (!app.config.secretKey) throw new Error("a sealed TOTP secret cannot be opened: HEARTH_SECRET_KEY is not set");
  return openSecret(app.config.secretKey, stored);
}
