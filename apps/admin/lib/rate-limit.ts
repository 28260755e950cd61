/**
 * Login throttling. Pure: given the times of recent failed logins it says whether another
 * attempt may run now, and if not, how long to wait. The store (events.ts in @hearth/db) is
 * the Event table: every failed login is a `user.login_failed` event with the attempted
 * username as target and the source IP.
 *
 *  - per username and IP: after `perUser` failures within `windowMs` → locked until the
 *    oldest failure in the window leaves it (a successful login from that IP resets it);
 *  - per IP across usernames (password spraying): after `perIp` failures within `windowMs`.
 */
export interface ThrottlePolicy {
  windowMs: number;
  perUser: number;
  perIp: number;
}

export const LOGIN_THROTTLE: ThrottlePolicy = { windowMs: 15 * 60_000, perUser: 5, perIp: 20 };

export type ThrottleDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number; scope: "user" | "ip" };

/**
 * Milliseconds until fewer than `limit` of `times` are inside the window ending at `now`,
 * or 0 when that is already so.
 */
export function waitMs(times: readonly Date[], limit: number, windowMs: number, now: Date): number {
  const start = now.getTime() - windowMs;
  const inWindow = times.map((t) => t.getTime()).filter((t) => t > start && t <= now.getTime()).sort((a, b) => a - b);
  if (inWindow.length < limit) return 0;
  // the (n - limit + 1) oldest failures must leave the window; the last of them decides
  const decisive = inWindow[inWindow.length - limit]!;
  return Math.max(decisive + windowMs - now.getTime(), 1);
}

export function decideThrottle(
  input: { userFailures: readonly Date[]; ipFailures: readonly Date[]; now: Date },
  policy: ThrottlePolicy = LOGIN_THROTTLE,
): ThrottleDecision {
  const user = waitMs(input.userFailures, policy.perUser, policy.windowMs, input.now);
  const ip = waitMs(input.ipFailures, policy.perIp, policy.windowMs, input.now);
  if (user === 0 && ip === 0) return { allowed: true };
  const scope = user >= ip ? "user" : "ip";
  return { allowed: false, retryAfterSeconds: Math.ceil(Math.max(user, ip) / 1000), scope };
}

/** Where failures come from; the Event table in production, an array in tests. */
export interface ThrottleStore {
  /** Failed logins from `sourceIp` since `since`, for one attempted username when given. */
  failures(q: { sourceIp: string; target?: string; since: Date }): Promise<Date[]>;
  /** Latest successful login of `target` from `sourceIp` since `since`. */
  lastSuccess(q: { sourceIp: string; target: string; since: Date }): Promise<Date | null>;
}

export async function checkLoginThrottle(
  store: ThrottleStore,
  q: { sourceIp: string; username: string; now: Date },
  policy: ThrottlePolicy = LOGIN_THROTTLE,
): Promise<ThrottleDecision> {
  const since = new Date(q.now.getTime() - policy.windowMs);
  const [userAll, ipFailures, lastOk] = await Promise.all([
    store.failures({ sourceIp: q.sourceIp, target: q.username, since }),
    store.failures({ sourceIp: q.sourceIp, since }),
    store.lastSuccess({ sourceIp: q.sourceIp, target: q.username, since }),
  ]);
  const userFailures = lastOk ? userAll.filter((t) => t > lastOk) : userAll;
  return decideThrottle({ userFailures, ipFailures, now: q.now }, policy);
}
