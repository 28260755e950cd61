import { describe, expect, it } from "vitest";
import { healthProbeDelay } from "./health-wait";

describe("the health wait's schedule", () => {
  it("starts at 25 ms and doubles up to the cap (500 ms by default), then stays there", () => {
    expect(Array.from({ length: 8 }, (_, i) => healthProbeDelay(i))).toEqual([25, 50, 100, 200, 400, 500, 500, 500]);
    expect(healthProbeDelay(10_000)).toBe(500);
  });

  it("an app answering after 30 ms is found after one short pause, not a fixed 500 ms", () => {
    let waited = 0;
    let attempt = 0;
    // probes at t = 0 (fails), then after each pause until t >= 30
    while (waited < 30) waited += healthProbeDelay(attempt++);
    expect(waited).toBe(75);
    expect(attempt).toBe(2);
  });

  it("keeps to a smaller cap (a test's healthIntervalMs) and never waits 0 ms", () => {
    expect(Array.from({ length: 5 }, (_, i) => healthProbeDelay(i, 100))).toEqual([25, 50, 100, 100, 100]);
    expect(healthProbeDelay(0, 10)).toBe(10);
    expect(healthProbeDelay(3, 0)).toBe(1);
  });

  it("refuses a negative or fractional attempt", () => {
    expect(() => healthProbeDelay(-1)).toThrow(RangeError);
    expect(() => healthProbeDelay(1.5)).toThrow(/non-negative integer/);
  });
});
