import { describe, expect, it } from "vitest";
import { RESTART_LOOP_WINDOW_MS, RestartTracker } from "./notices";

describe("RestartTracker", () => {
  it("takes the first reading as the baseline, counts rises within the window and forgets older ones", () => {
    const r = new RestartTracker();
    const t0 = 1_000_000;
    // 7 restarts before box saw the container: not counted
    expect(r.observe("c1", 7, t0)).toEqual({ inWindow: 0, rose: false });
    expect(r.observe("c1", 7, t0 + 10_000)).toEqual({ inWindow: 0, rose: false });
    expect(r.observe("c1", 9, t0 + 20_000)).toEqual({ inWindow: 2, rose: true });
    expect(r.observe("c1", 10, t0 + 30_000)).toEqual({ inWindow: 3, rose: true });
    // no new restart: the count in the window stays, but nothing rose
    expect(r.observe("c1", 10, t0 + 40_000)).toEqual({ inWindow: 3, rose: false });
    // the first two fall out of the window
    expect(r.observe("c1", 10, t0 + 20_000 + RESTART_LOOP_WINDOW_MS)).toEqual({ inWindow: 1, rose: false });
    expect(r.observe("c1", 10, t0 + 30_000 + RESTART_LOOP_WINDOW_MS)).toEqual({ inWindow: 0, rose: false });
    // another container has its own baseline
    expect(r.observe("c2", 3, t0)).toEqual({ inWindow: 0, rose: false });
    expect(r.observe("c2", 4, t0 + 1000)).toEqual({ inWindow: 1, rose: true });
  });

  it("keeps a bounded number of containers", () => {
    const r = new RestartTracker();
    for (let i = 0; i < 2500; i++) r.observe(`c${i}`, 0, 0);
    // the oldest were dropped: a reading of c0 is a new baseline again
    expect(r.observe("c0", 5, 1)).toEqual({ inWindow: 0, rose: false });
    // a recent one is still known
    expect(r.observe("c2499", 1, 1)).toEqual({ inWindow: 1, rose: true });
  });
});
