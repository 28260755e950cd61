/** Where a not-yet-confirmed TOTP secret waits (a Setting row), and for how long. */
export const totpPendingKey = (userId: string) => `totp.pending.${userId}`;
export const PENDING_TTL_MS = 15 * 60_000;
