import { describe, expect, it } from "vitest";
import { median, percentile } from "./stats";

describe("bench statistics", () => {
  it("nearest rank, whatever the input order", () => {
    const xs = [50, 10, 40, 20, 30, 100, 90, 80, 70, 60];
    expect(percentile(xs, 50)).toBe(50);
    expect(percentile(xs, 90)).toBe(90);
    expect(percentile(xs, 99)).toBe(100);
    expect(percentile(xs, 0)).toBe(10);
    expect(median([3, 1, 2])).toBe(2);
    expect(xs[0]).toBe(50); // not sorted in place
  });
  it("no values: NaN", () => {
    expect(percentile([], 50)).toBeNaN();
  });
});
