import { describe, expect, it } from "vitest";
import type { Db } from "@hearth/db";
import { NotificationSweep } from "./schedule";

const silent = { info() {}, warn() {} };

describe("NotificationSweep.stop", () => {
  it("returns without waiting for a delivery in flight (a slow SMTP relay) and aborts it", async () => {
    let seen: AbortSignal | null = null;
    let finished = false;
    let calls = 0;
    const sweep = new NotificationSweep({
      // stop() never touches the database when no sweep pass runs
      db: {} as Db,
      dataDir: "/nonexistent",
      servedNames: async () => new Set(),
      log: silent,
      deliver: (signal) => {
        calls++;
        seen = signal;
        // a delivery that would take minutes: ends only on abort
        return new Promise<void>((resolve) => {
          const t = setTimeout(resolve, 600_000);
          signal.addEventListener("abort", () => {
            clearTimeout(t);
            setTimeout(() => {
              finished = true;
              resolve();
            }, 50);
          });
        });
      },
    });
    const delivery = sweep.deliverOnce();
    expect(seen).not.toBeNull();
    const t0 = performance.now();
    await sweep.stop();
    expect(performance.now() - t0).toBeLessThan(40);
    expect(seen!.aborted).toBe(true);
    expect(finished).toBe(false);
    await delivery;
    expect(finished).toBe(true);
    // stopped: no further delivery starts
    await sweep.deliverOnce();
    expect(calls).toBe(1);
  });
});
