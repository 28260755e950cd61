import { describe, expect, it } from "vitest";
import { progressWriter } from "./progress-writer";

/** A write the test lets finish when it wants. */
function gatedWrites() {
  const written: string[] = [];
  const gates: (() => void)[] = [];
  const write = (percent: number, message: string) =>
    new Promise<void>((resolve) => {
      gates.push(() => {
        written.push(`${percent} ${message}`);
        resolve();
      });
    });
  return { written, gates, write };
}

describe("progressWriter", () => {
  it("returns at once, writes one at a time and only the newest value that waited", async () => {
    const w = gatedWrites();
    const p = progressWriter(w.write, () => {});
    p.set(5, "a");
    p.set(10, "b");
    p.set(20, "c");
    expect(w.gates).toHaveLength(1); // "a" is being written; b was replaced by c
    w.gates.shift()!();
    await new Promise((r) => setImmediate(r));
    expect(w.written).toEqual(["5 a"]);
    expect(w.gates).toHaveLength(1);
    w.gates.shift()!();
    await p.drain();
    expect(w.written).toEqual(["5 a", "20 c"]);
  });

  it("drain waits for a value set while it waits, and a failed write goes to onError without stopping later ones", async () => {
    const errors: unknown[] = [];
    const written: string[] = [];
    let fail = true;
    const p = progressWriter(
      async (percent, message) => {
        await new Promise((r) => setTimeout(r, 5));
        if (fail) {
          fail = false;
          throw new Error("db down");
        }
        written.push(`${percent} ${message}`);
      },
      (e) => errors.push(e),
    );
    p.set(1, "x");
    const drained = p.drain();
    p.set(2, "y");
    await drained;
    expect(errors.map((e) => (e as Error).message)).toEqual(["db down"]);
    expect(written).toEqual(["2 y"]);
    await p.drain(); // idle: resolves at once
    p.set(3, "z");
    await p.drain();
    expect(written).toEqual(["2 y", "3 z"]);
  });
});

describe("progressWriter keeps the percent from going backwards", () => {
  it("writes a lower value as the highest so far with its new message, and says so to the caller", async () => {
    const written: string[] = [];
    const p = progressWriter(
      async (percent, message) => void written.push(`${percent} ${message}`),
      () => {},
    );
    expect(p.set(40, "network")).toBe(40);
    await p.drain();
    expect(p.set(50, "creating the container")).toBe(50);
    await p.drain();
    // the old install pipeline reported its addons at 45 after 50
    expect(p.set(45, "addons")).toBe(50);
    await p.drain();
    expect(p.set(60, "starting")).toBe(60);
    await p.drain();
    expect(written).toEqual(["40 network", "50 creating the container", "50 addons", "60 starting"]);
  });

  it("rounds and keeps values within 0..100, and a value that waited is never below one written", async () => {
    const written: number[] = [];
    let release: () => void = () => {};
    const p = progressWriter(
      (percent) =>
        new Promise<void>((r) => {
          written.push(percent);
          release = r;
        }),
      () => {},
    );
    expect(p.set(70.6, "a")).toBe(71);
    expect(p.set(10, "b")).toBe(71); // waits behind "a": still 71
    expect(p.set(Number.NaN, "c")).toBe(71);
    expect(p.set(150, "d")).toBe(100);
    expect(p.set(-5, "e")).toBe(100);
    release();
    await new Promise((r) => setImmediate(r));
    release();
    await p.drain();
    expect(written).toEqual([71, 100]);
    for (let i = 1; i < written.length; i++) expect(written[i]!).toBeGreaterThanOrEqual(written[i - 1]!);
  });
});
