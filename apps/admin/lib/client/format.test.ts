import { describe, expect, it } from "vitest";
import { fmtRelative } from "./format";

describe("relative times", () => {
  const now = new Date("2025-03-01T12:00:00Z");
  const at = (ms: number) => new Date(now.getTime() + ms).toISOString();
  const DAY = 86_400_000;

  it("uses the largest unit that fits, rounded down", () => {
    expect(fmtRelative(at(89 * DAY + 5 * 3_600_000), now, "en")).toBe("in 89 days");
    expect(fmtRelative(at(23 * 3_600_000), now, "en")).toBe("in 23 hours");
    expect(fmtRelative(at(-3 * 3_600_000), now, "en")).toBe("3 hours ago");
    expect(fmtRelative(at(-90_000), now, "en")).toBe("1 minute ago");
    expect(fmtRelative(at(10_000), now, "en")).toBe("now");
  });

  it("counts days up to 100 (90-day certificates read in days), then months and years", () => {
    expect(fmtRelative(at(99 * DAY), now, "en")).toBe("in 99 days");
    expect(fmtRelative(at(120 * DAY), now, "en")).toBe("in 4 months");
    expect(fmtRelative(at(5 * 365 * DAY), now, "en")).toBe("in 5 years");
    expect(fmtRelative(null, now, "en")).toBe("—");
  });
});
