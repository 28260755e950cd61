import { describe, expect, it } from "vitest";
import { LOGIN_THROTTLE, accountBackoffMs, checkLoginThrottle, decideThrottle, waitMs, type ThrottleStore } from "./rate-limit";

const MIN = 60_000;
const now = new Date("2026-01-01T12:00:00Z");
const ago = (ms: number) => new Date(now.getTime() - ms);

describe("waitMs", () => {
  it("is 0 below the limit", () => {
    expect(waitMs([ago(1000), ago(2000)], 5, 15 * MIN, now)).toBe(0);
  });

  it("waits until the oldest failure in the window leaves it", () => {
    const times = [ago(10 * MIN), ago(8 * MIN), ago(3 * MIN), ago(2 * MIN), ago(1 * MIN)];
    expect(waitMs(times, 5, 15 * MIN, now)).toBe(5 * MIN);
  });

  it("ignores failures that already left the window", () => {
    const times = [ago(20 * MIN), ago(16 * MIN), ago(3 * MIN), ago(2 * MIN), ago(1 * MIN)];
    expect(waitMs(times, 5, 15 * MIN, now)).toBe(0);
  });

  it("with more failures than the limit, waits for enough of them to leave", () => {
    // 7 failures, limit 5: the three oldest must leave; the third oldest decides
    const times = [ago(14 * MIN), ago(13 * MIN), ago(12 * MIN), ago(4 * MIN), ago(3 * MIN), ago(2 * MIN), ago(1 * MIN)];
    expect(waitMs(times, 5, 15 * MIN, now)).toBe(3 * MIN);
  });

  it("accepts unsorted input", () => {
    const times = [ago(1 * MIN), ago(10 * MIN), ago(2 * MIN), ago(3 * MIN), ago(8 * MIN)];
    expect(waitMs(times, 5, 15 * MIN, now)).toBe(5 * MIN);
  });
});

describe("decideThrottle", () => {
  it("allows 4 failures for a user, refuses the 5th with Retry-After in seconds", () => {
    const four = [1, 2, 3, 4].map((m) => ago(m * MIN));
    expect(decideThrottle({ userFailures: four, ipFailures: four, now })).toEqual({ allowed: true });
    const five = [...four, ago(5 * MIN)];
    expect(decideThrottle({ userFailures: five, ipFailures: five, now })).toEqual({ allowed: false, retryAfterSeconds: 10 * 60, scope: "user" });
  });

  it("caps one IP across usernames (password spraying)", () => {
    const ipFailures = Array.from({ length: 20 }, (_, i) => ago((i + 1) * 30_000));
    const d = decideThrottle({ userFailures: [ago(1000)], ipFailures, now });
    expect(d).toEqual({ allowed: false, retryAfterSeconds: 15 * 60 - 10 * 60, scope: "ip" });
    expect(decideThrottle({ userFailures: [], ipFailures: ipFailures.slice(1), now }).allowed).toBe(true);
  });

  it("rounds Retry-After up and never says 0", () => {
    const five = Array.from({ length: 5 }, () => new Date(now.getTime() - 15 * MIN + 1));
    const d = decideThrottle({ userFailures: five, ipFailures: five, now });
    expect(d).toEqual({ allowed: false, retryAfterSeconds: 1, scope: "user" });
  });

  it("uses the documented policy", () => {
    expect(LOGIN_THROTTLE).toEqual({
      windowMs: 15 * MIN,
      perUser: 5,
      perIp: 20,
      account: { free: 10, baseMs: 1000, capMs: 5 * MIN, windowMs: 24 * 60 * MIN },
    });
  });
});

describe("checkLoginThrottle", () => {
  function store(failures: { ip: string; target: string; at: Date }[], successes: { ip: string; target: string; at: Date }[] = []): ThrottleStore {
    return {
      async failures(q) {
        return failures.filter((f) => f.ip === q.sourceIp && (q.target === undefined || f.target === q.target) && f.at >= q.since).map((f) => f.at);
      },
      async accountFailures(q) {
        return failures.filter((f) => f.target === q.target && f.at >= q.since).map((f) => f.at);
      },
      async lastSuccess(q) {
        const s = successes.filter((x) => (q.sourceIp === undefined || x.ip === q.sourceIp) && x.target === q.target && x.at >= q.since).sort((a, b) => +b.at - +a.at);
        return s[0]?.at ?? null;
      },
    };
  }

  it("counts per username and IP", async () => {
    const f = [1, 2, 3, 4, 5].map((m) => ({ ip: "10.0.0.1", target: "alice", at: ago(m * MIN) }));
    expect((await checkLoginThrottle(store(f), { sourceIp: "10.0.0.1", username: "alice", now })).allowed).toBe(false);
    expect((await checkLoginThrottle(store(f), { sourceIp: "10.0.0.2", username: "alice", now })).allowed).toBe(true);
    expect((await checkLoginThrottle(store(f), { sourceIp: "10.0.0.1", username: "bob", now })).allowed).toBe(true);
  });

  it("a successful login resets the per-user count", async () => {
    const f = [1, 2, 3, 6, 7].map((m) => ({ ip: "10.0.0.1", target: "alice", at: ago(m * MIN) }));
    const ok = [{ ip: "10.0.0.1", target: "alice", at: ago(5 * MIN) }];
    expect((await checkLoginThrottle(store(f, ok), { sourceIp: "10.0.0.1", username: "alice", now })).allowed).toBe(true);
  });

  it("a successful login does not reset the per-IP cap", async () => {
    const f = Array.from({ length: 20 }, (_, i) => ({ ip: "10.0.0.1", target: `u${i}`, at: ago((i + 1) * 10_000) }));
    const ok = [{ ip: "10.0.0.1", target: "alice", at: ago(1000) }];
    const d = await checkLoginThrottle(store(f, ok), { sourceIp: "10.0.0.1", username: "alice", now });
    expect(d).toMatchObject({ allowed: false, scope: "ip" });
  });
});

describe("per-account backoff (failures from any number of addresses)", () => {
  const SEC = 1000;
  it("lets the first failures through, then doubles the wait from the latest failure", () => {
    const nine = Array.from({ length: 9 }, (_, i) => ago((10 - i) * SEC));
    expect(accountBackoffMs(nine, now)).toBe(0);
    // 10 failures, the latest 0.5 s ago: 1 s after it
    expect(accountBackoffMs([...nine, ago(500)], now)).toBe(500);
    // 13 failures: 2^3 s = 8 s after the latest (1 s ago)
    const thirteen = Array.from({ length: 13 }, (_, i) => ago((13 - i) * SEC));
    expect(accountBackoffMs(thirteen, now)).toBe(8 * SEC - 1 * SEC);
  });

  it("is capped at five minutes however many failures there were: never a lock-out", () => {
    const many = Array.from({ length: 500 }, (_, i) => ago((500 - i) * SEC));
    expect(accountBackoffMs(many, now)).toBe(5 * MIN - SEC);
    expect(accountBackoffMs(many, new Date(now.getTime() + 5 * MIN))).toBe(0);
  });

  it("refuses spraying one account from many addresses, each below its own limit", async () => {
    // 17 addresses, one failure each in the last 17 s: no address is over its limits
    const f = Array.from({ length: 17 }, (_, i) => ({ ip: `198.51.100.${i + 1}`, target: "owner", at: ago((17 - i) * SEC) }));
    const store: ThrottleStore = {
      failures: async (q) => f.filter((x) => x.ip === q.sourceIp && (q.target === undefined || x.target === q.target)).map((x) => x.at),
      accountFailures: async (q) => f.filter((x) => x.target === q.target).map((x) => x.at),
      lastSuccess: async () => null,
    };
    const d = await checkLoginThrottle(store, { sourceIp: "203.0.113.9", username: "owner", now });
    // 17 failures: 2^7 s = 128 s after the latest (1 s ago)
    expect(d).toEqual({ allowed: false, retryAfterSeconds: 127, scope: "account" });
    // another account is not affected
    expect((await checkLoginThrottle(store, { sourceIp: "203.0.113.9", username: "alice", now })).allowed).toBe(true);
  });

  it("a successful login from anywhere resets the account's count", async () => {
    const f = Array.from({ length: 12 }, (_, i) => ({ ip: `198.51.100.${i + 1}`, target: "owner", at: ago((20 - i) * SEC) }));
    const store: ThrottleStore = {
      failures: async () => [],
      accountFailures: async (q) => f.filter((x) => x.target === q.target && x.at >= q.since).map((x) => x.at),
      lastSuccess: async (q) => (q.sourceIp === undefined ? ago(2 * SEC) : null),
    };
    expect((await checkLoginThrottle(store, { sourceIp: "203.0.113.9", username: "owner", now })).allowed).toBe(true);
  });
});
