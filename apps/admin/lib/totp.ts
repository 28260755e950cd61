import * as OTPAuth from "otpauth";

/** RFC 6238 TOTP: SHA1, 6 digits, 30 s period, accepting one step either side. */
const PERIOD = 30;

export function newTotpSecret(): string {
  return new OTPAuth.Secret({ size: 20 }).base32;
}

function totpOf(secret: string, label = "hearth"): OTPAuth.TOTP {
  return new OTPAuth.TOTP({
    issuer: "Hearth",
    label,
    algorithm: "SHA1",
    digits: 6,
    period: PERIOD,
    secret: OTPAuth.Secret.fromBase32(secret),
  });
}

export function totpUrl(secret: string, label: string): string {
  return totpOf(secret, label).toString();
}

/**
 * The time step a code belongs to when it is valid now (±1 step), else null. Callers store
 * the last accepted step so a code cannot be replayed.
 */
export function totpStep(secret: string, code: string, now: number = Date.now()): number | null {
  if (!/^\d{6}$/.test(code)) return null;
  const delta = totpOf(secret).validate({ token: code, timestamp: now, window: 1 });
  if (delta === null) return null;
  return Math.floor(now / 1000 / PERIOD) + delta;
}

/** The current code (for tests). */
export function totpCode(secret: string, now: number = Date.now()): string {
  return totpOf(secret).generate({ timestamp: now });
}
