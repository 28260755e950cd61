import { describe, expect, it } from "vitest";
import { SharedValue } from "./shared-value";

/** A load the test resolves by hand, counting its calls. */
function manualLoad() {
  const pending: Array<(v: number) => void> = [];
  let calls = 0;
  const load = () => {
    calls++;
    return new Promise<number>((resolve) => pending.push(resolve));
  };
  return { load, pending, calls: () => calls };
}

describe("SharedValue", () => {
  it("shares one load among concurrent callers, then answers from memory within the max age", async () => {
    const v = new SharedValue<number>();
    const l = manualLoad();
    const a = v.get(1000, l.load);
    const b = v.get(1000, l.load);
    expect(l.calls()).toBe(1);
    l.pending[0]!(7);
    expect(await a).toBe(7);
    expect(await b).toBe(7);
    expect(await v.get(1000, l.load)).toBe(7);
    expect(l.calls()).toBe(1);
  });

  it("loads again once the value is older than the max age", async () => {
    const v = new SharedValue<number>();
    let n = 0;
    const load = async () => ++n;
    const t = Date.now();
    expect(await v.get(1000, load, t)).toBe(1);
    expect(await v.get(1000, load, t + 500)).toBe(1);
    expect(await v.get(1000, load, t + 5000)).toBe(2);
    expect(await v.get(0, load)).toBe(3);
  });

  it("after forget, a load that started before is answered to its callers but not kept", async () => {
    const v = new SharedValue<number>();
    const l = manualLoad();
    const old = v.get(60_000, l.load);
    v.forget();
    const fresh = v.get(60_000, l.load);
    expect(l.calls()).toBe(2);
    l.pending[0]!(1);
    l.pending[1]!(2);
    expect(await old).toBe(1);
    expect(await fresh).toBe(2);
    expect(await v.get(60_000, l.load)).toBe(2);
    expect(l.calls()).toBe(2);
  });

  it("a failed load is not kept: the next call loads again", async () => {
    const v = new SharedValue<number>();
    await expect(v.get(60_000, () => Promise.reject(new Error("box is down")))).rejects.toThrow("box is down");
    expect(await v.get(60_000, async () => 5)).toBe(5);
  });
});
