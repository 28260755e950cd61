import { RENEW_BEFORE_DAYS } from "./inspect";

/**
 * Renewal planning, pure: given the stored ACME certificates (expiry, failed attempts) and
 * the time, which to renew now, which wait for their retry, and when to look again. The
 * caller runs it from a node-cron job (twice a day, at a per-installation random minute:
 * `renewalCronExpression`), renews the `renew` entries one by one, each at its jittered
 * `at`, and records success (failures = 0) or failure (failures + 1, lastAttemptAt).
 *
 * - due: fewer than `renewBeforeDays` (30) days left, or expired;
 * - after a failure the next attempt waits retryBaseMs · 2^(failures-1), at most
 *   retryMaxMs (1 h, 2 h, 4 h … 24 h); within `urgentDays` of expiry at most
 *   urgentRetryMaxMs, so a certificate about to lapse is tried at least every few hours;
 * - start times are spread by up to `jitterMs` so a box with many certificates (and many
 *   boxes on the same cron minute) do not hit the CA at once.
 */

export interface RenewalCandidate {
  /** The caller's key (certificate row id or slug). */
  id: string;
  notAfter: Date;
  /** Consecutive failed attempts since the last success. */
  failures?: number;
  /** When the last (failed) attempt started. */
  lastAttemptAt?: Date | null;
}

export interface RenewalPolicy {
  renewBeforeDays: number;
  retryBaseMs: number;
  retryMaxMs: number;
  urgentDays: number;
  urgentRetryMaxMs: number;
  jitterMs: number;
}

export const DEFAULT_RENEWAL_POLICY: RenewalPolicy = {
  renewBeforeDays: RENEW_BEFORE_DAYS,
  retryBaseMs: 3_600_000,
  retryMaxMs: 24 * 3_600_000,
  urgentDays: 7,
  urgentRetryMaxMs: 4 * 3_600_000,
  jitterMs: 30 * 60_000,
};

export type RenewalDecision =
  /** Renew, starting at `at` (now + jitter). */
  | { id: string; action: "renew"; at: Date; reason: "due" | "expired" | "retry"; notAfter: Date }
  /** Due, but the last attempt failed: next attempt at `at`. */
  | { id: string; action: "wait"; at: Date; reason: "backoff"; notAfter: Date }
  /** Not due; it becomes due at `at`. */
  | { id: string; action: "ok"; at: Date; reason: "valid"; notAfter: Date };

export interface RenewalPlan {
  /** Every candidate, in input order. */
  decisions: RenewalDecision[];
  /** The `renew` decisions, most urgent (earliest expiry) first. */
  renew: Extract<RenewalDecision, { action: "renew" }>[];
  /** The earliest `at` of a `wait` or `ok` decision: when planning again can change something. */
  nextCheckAt: Date | null;
}

const DAY_MS = 86_400_000;

/** Delay before the attempt after `failures` consecutive failures. */
export function retryDelayMs(failures: number, timeLeftMs: number, policy: RenewalPolicy = DEFAULT_RENEWAL_POLICY): number {
  if (failures <= 0) return 0;
  const exp = policy.retryBaseMs * 2 ** Math.min(failures - 1, 30);
  const cap = timeLeftMs < policy.urgentDays * DAY_MS ? Math.min(policy.retryMaxMs, policy.urgentRetryMaxMs) : policy.retryMaxMs;
  return Math.min(exp, cap);
}

export function planRenewals(candidates: readonly RenewalCandidate[], now: Date, opts: { policy?: Partial<RenewalPolicy>; random?: () => number } = {}): RenewalPlan {
  const policy = { ...DEFAULT_RENEWAL_POLICY, ...opts.policy };
  const random = opts.random ?? Math.random;
  const t = now.getTime();
  const decisions: RenewalDecision[] = candidates.map((c) => {
    const notAfter = c.notAfter;
    const left = notAfter.getTime() - t;
    const dueAt = notAfter.getTime() - policy.renewBeforeDays * DAY_MS;
    if (t < dueAt) return { id: c.id, action: "ok", at: new Date(dueAt), reason: "valid", notAfter };
    const failures = c.failures ?? 0;
    if (failures > 0 && c.lastAttemptAt) {
      const retryAt = c.lastAttemptAt.getTime() + retryDelayMs(failures, left, policy);
      if (t < retryAt) return { id: c.id, action: "wait", at: new Date(retryAt), reason: "backoff", notAfter };
    }
    const jitter = Math.floor(Math.max(0, Math.min(random(), 0.999999)) * policy.jitterMs);
    const reason = left <= 0 ? "expired" : failures > 0 ? "retry" : "due";
    return { id: c.id, action: "renew", at: new Date(t + jitter), reason, notAfter };
  });
  const renew = decisions.filter((d): d is Extract<RenewalDecision, { action: "renew" }> => d.action === "renew").sort((a, b) => a.notAfter.getTime() - b.notAfter.getTime());
  const later = decisions.filter((d) => d.action !== "renew").map((d) => d.at.getTime());
  return { decisions, renew, nextCheckAt: later.length ? new Date(Math.min(...later)) : null };
}

/**
 * Twice a day at a random minute and hour of this installation (Let's Encrypt asks clients
 * not to run at the full hour): `m h,h+12 * * *` for node-cron. Pick once, keep it.
 */
export function renewalCronExpression(random: () => number = Math.random): string {
  const minute = Math.floor(random() * 60) % 60;
  const hour = Math.floor(random() * 12) % 12;
  return `${minute} ${hour},${hour + 12} * * *`;
}
