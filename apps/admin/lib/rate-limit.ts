/**
 * Login throttling. Pure: given the times of recent failed logins it says whether another
 * attempt may run now, and if not, how long to wait. The store (events.ts in @hearth/db) is
 * the Event table: every failed login is a `user.login_failed` event with the attempted
 * username as target and the source IP.
 *
 *  - per username and IP: after `perUser` failures within `windowMs` → locked until the
 *    oldest failure in the window leaves it (a successful login from that IP resets it);
 *  - per IP across usernames (password spraying): after `perIp` failures within `windowMs`;
 *  - per account, from any number of addresses (so above what one address may try): after
 *    `account.free` failures since the
 *    account's last successful login (within `account.windowMs`), each further attempt waits
 *    `baseMs · 2^(n − free)` after the latest failure, at most `capMs`. The cap keeps the
 *    owner from being locked out for good by someone guessing from many addresses.
 * "IP" is the client's network: an IPv4 address or an IPv6 /64 (sourceNetOf in @hearth/db).
 */
export interface ThrottlePolicy {
  windowMs: number;
  perUser: number;
  perIp: number;
  account: { free: number; baseMs: number; capMs: number; windowMs: number };
}

export const LOGIN_THROTTLE: ThrottlePolicy = {
  windowMs: 15 * 60_000,
  perUser: 5,
  perIp: 20,
  account: { free: 10, baseMs: 1000, capMs: 5 * 60_000, windowMs: 24 * 3600_000 },
};

export type ThrottleDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number; scope: "user" | "ip" | "account" };

/**
 * Milliseconds until fewer than `limit` of `times` are inside the window ending at `now`,
 * or 0 when that is already so.
 */
export function waitMs(times: readonly Date[], limit: number, windowMs: number, now: Date): number {
  const start = now.getTime() - windowMs;
  const inWindow = times
    .map((t) => t.getTime())
    .filter((t) => t > start && t <= now.getTime())
    .sort((a, b) => a - b);
  if (inWindow.length < limit) return 0;
  // the (n - limit + 1) oldest failures must leave the window; the last of them decides
  const decisive = inWindow[inWindow.length - limit]!;
  return Math.max(decisive + windowMs - now.getTime(), 1);
}

/**
 * Milliseconds the account must still wait: 0 below `free` failures, else the exponential
 * delay (capped) counted from the latest failure.
 */
export function accountBackoffMs(failures: readonly Date[], now: Date, policy: ThrottlePolicy["account"] = LOGIN_THROTTLE.account): number {
  const times = failures.map((t) => t.getTime()).filter((t) => t <= now.getTime());
  if (times.length < policy.free) return 0;
  const delay = Math.min(policy.baseMs * 2 ** Math.min(times.length - policy.free, 30), policy.capMs);
  return Math.max(0, Math.max(...times) + delay - now.getTime());
}

export function decideThrottle(
  input: { userFailures: readonly Date[]; ipFailures: readonly Date[]; accountFailures?: readonly Date[]; now: Date },
  policy: ThrottlePolicy = LOGIN_THROTTLE,
): ThrottleDecision {
  const waits = {
    user: waitMs(input.userFailures, policy.perUser, policy.windowMs, input.now),
    ip: waitMs(input.ipFailures, policy.perIp, policy.windowMs, input.now),
    account: accountBackoffMs(input.accountFailures ?? [], input.now, policy.account),
  };
  const [scope, ms] = (Object.entries(waits) as ["user" | "ip" | "account", number][]).reduce((a, b) => (b[1] > a[1] ? b : a));
  if (ms === 0) return { allowed: true };
  return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(ms / 1000)), scope };
}

/** Where failures come from; the Event table in production, an array in tests. */
export interface ThrottleStore {
  /** Failed logins from the network of `sourceIp` since `since`, for one attempted username when given. */
  failures(q: { sourceIp: string; target?: string; since: Date }): Promise<Date[]>;
  /** Failed logins of `target` from anywhere since `since`. */
  accountFailures(q: { target: string; since: Date }): Promise<Date[]>;
  /** Latest successful login of `target` since `since`, from the network of `sourceIp` when given. */
  lastSuccess(q: { sourceIp?: string; target: string; since: Date }): Promise<Date | null>;
}

export async function checkLoginThrottle(store: ThrottleStore, q: { sourceIp: string; username: string; now: Date }, policy: ThrottlePolicy = LOGIN_THROTTLE): Promise<ThrottleDecision> {
  const since = new Date(q.now.getTime() - policy.windowMs);
  const accountSince = new Date(q.now.getTime() - policy.account.windowMs);
  const [userAll, ipFailures, lastOk, accountAll, lastOkAnywhere] = await Promise.all([
    store.failures({ sourceIp: q.sourceIp, target: q.username, since }),
    store.failures({ sourceIp: q.sourceIp, since }),
    store.lastSuccess({ sourceIp: q.sourceIp, target: q.username, since }),
    store.accountFailures({ target: q.username, since: accountSince }),
    store.lastSuccess({ target: q.username, since: accountSince }),
  ]);
  const userFailures = lastOk ? userAll.filter((t) => t > lastOk) : userAll;
  const accountFailures = lastOkAnywhere ? accountAll.filter((t) => t > lastOkAnywhere) : accountAll;
  return decideThrottle({ userFailures, ipFailures, accountFailures, now: q.now }, policy);
}
