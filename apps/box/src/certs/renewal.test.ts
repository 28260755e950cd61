import { describe, expect, it } from "vitest";
import { DEFAULT_RENEWAL_POLICY, planRenewals, renewalCronExpression, retryDelayMs } from "./renewal";

const H = 3_600_000;
const DAY = 24 * H;
const now = new Date("2030-06-01T12:00:00Z");
const at = (ms: number) => new Date(now.getTime() + ms);

describe("retryDelayMs", () => {
  it("doubles from 1 h up to 24 h, at most 4 h within a week of expiry", () => {
    expect([0, 1, 2, 3, 4, 5, 6, 40].map((f) => retryDelayMs(f, 20 * DAY) / H)).toEqual([0, 1, 2, 4, 8, 16, 24, 24]);
    expect([1, 2, 3, 4, 9].map((f) => retryDelayMs(f, 6 * DAY) / H)).toEqual([1, 2, 4, 4, 4]);
    expect(retryDelayMs(3, -DAY) / H).toBe(4);
  });
});

describe("planRenewals", () => {
  it("renews what has fewer than 30 days left, most urgent first, with jitter inside the window", () => {
    const plan = planRenewals(
      [
        { id: "fresh", notAfter: at(60 * DAY) },
        { id: "due", notAfter: at(20 * DAY) },
        { id: "urgent", notAfter: at(2 * DAY) },
        { id: "gone", notAfter: at(-DAY) },
        { id: "edge", notAfter: at(30 * DAY + 1) },
      ],
      now,
      { random: () => 0.5 },
    );
    expect(plan.renew.map((d) => [d.id, d.reason])).toEqual([
      ["gone", "expired"],
      ["urgent", "due"],
      ["due", "due"],
    ]);
    for (const d of plan.renew) expect(d.at.getTime()).toBe(now.getTime() + DEFAULT_RENEWAL_POLICY.jitterMs / 2);
    const fresh = plan.decisions.find((d) => d.id === "fresh")!;
    expect(fresh).toMatchObject({ action: "ok", reason: "valid", at: at(30 * DAY) });
    expect(plan.decisions.find((d) => d.id === "edge")).toMatchObject({ action: "ok", at: at(1) });
    expect(plan.nextCheckAt).toEqual(at(1));
  });

  it("keeps jitter within [0, jitterMs) whatever random returns", () => {
    const c = [{ id: "a", notAfter: at(DAY) }];
    expect(planRenewals(c, now, { random: () => 0 }).renew[0]!.at).toEqual(now);
    const top = planRenewals(c, now, { random: () => 1 }).renew[0]!.at.getTime() - now.getTime();
    expect(top).toBeLessThan(DEFAULT_RENEWAL_POLICY.jitterMs);
    expect(top).toBeGreaterThan(DEFAULT_RENEWAL_POLICY.jitterMs - 1000);
    const spread = new Set(Array.from({ length: 20 }, () => planRenewals(c, now).renew[0]!.at.getTime()));
    expect(spread.size).toBeGreaterThan(1);
  });

  it("backs off exponentially after failures and retries when the delay is over", () => {
    const notAfter = at(20 * DAY);
    const lastAttemptAt = new Date(now.getTime() - 90 * 60_000); // 1.5 h ago
    const plan = planRenewals(
      [
        { id: "f1", notAfter, failures: 1, lastAttemptAt }, // 1 h: over
        { id: "f2", notAfter, failures: 2, lastAttemptAt }, // 2 h: 30 min to go
        { id: "f5", notAfter, failures: 5, lastAttemptAt }, // 16 h
      ],
      now,
      { random: () => 0 },
    );
    expect(plan.decisions.map((d) => [d.id, d.action, d.reason])).toEqual([
      ["f1", "renew", "retry"],
      ["f2", "wait", "backoff"],
      ["f5", "wait", "backoff"],
    ]);
    expect(plan.decisions[1]!.at).toEqual(new Date(lastAttemptAt.getTime() + 2 * H));
    expect(plan.decisions[2]!.at).toEqual(new Date(lastAttemptAt.getTime() + 16 * H));
    expect(plan.nextCheckAt).toEqual(new Date(lastAttemptAt.getTime() + 2 * H));
  });

  it("caps the backoff near expiry and honours a custom policy", () => {
    const lastAttemptAt = new Date(now.getTime() - 5 * H);
    const plan = planRenewals([{ id: "x", notAfter: at(3 * DAY), failures: 8, lastAttemptAt }], now);
    expect(plan.renew.map((d) => d.id)).toEqual(["x"]); // 4 h cap, 5 h passed
    const custom = planRenewals([{ id: "y", notAfter: at(50 * DAY) }], now, { policy: { renewBeforeDays: 60, jitterMs: 0 } });
    expect(custom.renew[0]!.at).toEqual(now);
    expect(planRenewals([], now)).toEqual({ decisions: [], renew: [], nextCheckAt: null });
  });
});

describe("renewalCronExpression", () => {
  it("is twice a day, 12 h apart, at a random minute", () => {
    expect(renewalCronExpression(() => 0)).toBe("0 0,12 * * *");
    expect(renewalCronExpression(() => 0.999)).toBe("59 11,23 * * *");
    expect(renewalCronExpression()).toMatch(/^([0-5]?\d) ([0-9]|1[01]),(1[2-9]|2[0-3]) \* \* \*$/);
  });
});
