import { describe, expect, it } from "vitest";
import { alignLines, formatValue } from "./metrics-format";

describe("the graphs' formatting", () => {
  it("writes bytes in binary units, rates per second, percentages, and a dash for no value", () => {
    expect(formatValue(0, "bytes")).toBe("0 B");
    expect(formatValue(0.5, "bps")).toBe("0.5 B/s");
    expect(formatValue(1536, "bytes")).toBe("1.5 KiB");
    expect(formatValue(32 * 1024 * 1024, "bytes")).toBe("32 MiB");
    expect(formatValue(3 * 1024 ** 3, "bps")).toBe("3.0 GiB/s");
    expect(formatValue(4.25, "percent")).toBe("4.3 %");
    expect(formatValue(55.4, "percent")).toBe("55 %");
    expect(formatValue(null, "percent")).toBe("—");
    expect(formatValue(Number.NaN, "bytes")).toBe("—");
  });

  it("puts lines on one time axis in seconds, null where a line has no sample", () => {
    expect(
      alignLines([
        {
          label: "a",
          color: "#000",
          points: [
            [1000, 1],
            [3000, 3],
          ],
        },
        {
          label: "b",
          color: "#000",
          points: [
            [2000, 2],
            [3000, 4],
          ],
        },
      ]),
    ).toEqual([
      [1, 2, 3],
      [1, null, 3],
      [null, 2, 4],
    ]);
  });
});
