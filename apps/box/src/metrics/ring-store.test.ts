import { mkdtempSync, readdirSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { COARSE, FINE, fileSize, mergeCoarse, MetricsStore, RingFile, type StoreSpec } from "./ring-store";

const spec: StoreSpec = { fields: 3, fine: FINE, coarse: COARSE };
const tmp = () => mkdtempSync(path.join(os.tmpdir(), "hearth-metrics-"));
// a time on a 5-minute boundary
const T0 = 1_796_000_100 - (1_796_000_100 % 300);

describe("RingFile", () => {
  it("keeps the samples of the last 6 hours at 10 s and averages/maxima per 5 minutes", () => {
    const r = new RingFile(path.join(tmp(), "a.hmtr"), spec);
    // one bucket: values 0..29 for field 0, a constant for field 1, NaN for field 2 but in one sample
    for (let i = 0; i < 30; i++) r.record(T0 + i * 10, [i, 5, i === 7 ? 42 : Number.NaN]);
    const fine = r.readFine(T0 - 1, T0 + 300);
    expect(fine).toHaveLength(30);
    expect(fine[0]).toEqual({ t: T0, values: [0, 5, Number.NaN] });
    expect(fine[29]!.values[0]).toBe(29);
    const coarse = r.readCoarse(T0 - 1, T0 + 300);
    expect(coarse).toEqual([{ t: T0, avg: [14.5, 5, 42], max: [29, 5, 42] }]);
    // the next bucket starts its own row; a gap (no samples) is no row at all
    r.record(T0 + 900, [1, 1, 1]);
    expect(r.readCoarse(T0 - 1, T0 + 1200).map((p) => p.t)).toEqual([T0, T0 + 900]);
    r.close();
  });

  it("a partial bucket's row is the aggregate of what arrived so far", () => {
    const r = new RingFile(path.join(tmp(), "a.hmtr"), spec);
    r.record(T0 + 10, [2, 0, 0]);
    r.record(T0 + 20, [4, 0, 0]);
    expect(r.readCoarse(T0 - 1, T0 + 300)[0]!.avg[0]).toBe(3);
    r.close();
  });

  it("stays at its fixed size, and its series within their windows, after five weeks of samples every 10 s", () => {
    const dir = tmp();
    const file = path.join(dir, "a.hmtr");
    const r = new RingFile(file, spec);
    const expected = fileSize(spec);
    expect(statSync(file).size).toBe(expected);
    const weeks = 5;
    const end = T0 + weeks * 7 * 86_400;
    let checked = 0;
    for (let t = T0; t < end; t += 10) {
      r.record(t, [t % 100, 1, 2]);
      if ((t - T0) % (7 * 86_400) === 0) {
        expect(statSync(file).size).toBe(expected);
        checked++;
      }
    }
    expect(checked).toBe(weeks);
    expect(statSync(file).size).toBe(expected);
    expect(readdirSync(dir)).toEqual(["a.hmtr"]);
    const last = end - 10;
    const fine = r.readFine(0, last);
    expect(fine).toHaveLength(FINE.slots); // 6 h, not 5 weeks
    expect(fine[0]!.t).toBe(last - (FINE.slots - 1) * FINE.step);
    const coarse = r.readCoarse(0, last);
    expect(coarse).toHaveLength(COARSE.slots); // 30 days
    expect(last - coarse[0]!.t).toBeLessThan(30 * 86_400);
    r.close();
    // the figure the README gives: ≈ 0.5 MiB per app
    expect(expected).toBeLessThan(600 * 1024);
  }, 120_000);

  it("keeps what it stored across a close and reopen (a box restart), and carries on the same bucket", () => {
    const file = path.join(tmp(), "a.hmtr");
    const a = new RingFile(file, spec);
    for (let i = 0; i < 10; i++) a.record(T0 + i * 10, [10, 0, 0]);
    a.close();
    const b = new RingFile(file, spec);
    expect(b.readFine(0, T0 + 300)).toHaveLength(10);
    for (let i = 10; i < 20; i++) b.record(T0 + i * 10, [40, 0, 0]);
    expect(b.readCoarse(0, T0 + 300)[0]!.avg[0]).toBe(25);
    expect(b.readCoarse(0, T0 + 300)[0]!.max[0]).toBe(40);
    b.close();
  });

  it("starts a fresh file when the one on disk has another layout (never misreads it)", () => {
    const file = path.join(tmp(), "a.hmtr");
    writeFileSync(file, "not a metrics file");
    const r = new RingFile(file, spec);
    expect(r.readFine(0, 2 ** 32)).toEqual([]);
    expect(statSync(file).size).toBe(fileSize(spec));
    r.close();
    const other = new RingFile(file, { ...spec, fields: 4 });
    expect(statSync(file).size).toBe(fileSize({ ...spec, fields: 4 }));
    other.close();
  });

  it("is written out in full at creation (not sparse), so its size is taken on disk from the start", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "hearth-ring-full-"));
    const spec: StoreSpec = { fields: 8, fine: FINE, coarse: COARSE };
    const r = new RingFile(path.join(dir, "s.ring"), spec);
    const st = statSync(r.file);
    expect(st.size).toBe(fileSize(spec));
    expect(st.blocks * 512).toBeGreaterThanOrEqual(fileSize(spec));
    r.close();
  });

  it("refuses a spec whose buckets would straddle the ring's end", () => {
    expect(() => new RingFile(path.join(tmp(), "a.hmtr"), { fields: 1, fine: { step: 10, slots: 100 }, coarse: { step: 300, slots: 10 } })).toThrow(/multiple/);
  });
});

describe("mergeCoarse", () => {
  it("averages the averages and takes the highest maximum per step", () => {
    const pts = [
      { t: 3600, avg: [1], max: [2] },
      { t: 3900, avg: [3], max: [9] },
      { t: 7200, avg: [Number.NaN], max: [Number.NaN] },
    ];
    expect(mergeCoarse(pts, 3600)).toEqual([
      { t: 3600, avg: [2], max: [9] },
      { t: 7200, avg: [Number.NaN], max: [Number.NaN] },
    ]);
  });
});

describe("MetricsStore", () => {
  it("keeps one file per app and drops an app's file", () => {
    const dir = tmp();
    const s = new MetricsStore(dir, { app: spec, server: { ...spec, fields: 2 } });
    s.ring("app-a1").record(T0, [1, 2, 3]);
    s.ring("server").record(T0, [1, 2]);
    expect(s.appIds()).toEqual(["a1"]);
    expect(s.existingRing("app-nope")).toBeNull();
    s.dropApp("a1");
    expect(s.appIds()).toEqual([]);
    expect(readdirSync(dir)).toEqual(["server.hmtr"]);
    expect(() => s.ring("app-../x" as `app-${string}`)).toThrow(/bad metrics key/);
    s.close();
  });
});
