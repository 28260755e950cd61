import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { HISTORY_FILE, HISTORY_OLDER_FILE, LogHistory, mergeLogs, pageOf, parseTimestamped, type LogLine } from "./log-history";

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(path.join(os.tmpdir(), "hearth-loghist-"));
  dirs.push(d);
  return path.join(d, "app");
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Line i at a distinct nanosecond timestamp, in order. */
const ts = (i: number) =>
  `2026-12-03T18:${String(Math.floor(i / 60_000_000) % 60).padStart(2, "0")}:${String(Math.floor(i / 1_000_000) % 60).padStart(2, "0")}.${String(i % 1_000_000_000).padStart(9, "0")}Z`;
const line = (i: number, text = `line ${i}`): LogLine => ({ ts: ts(i), text });
const range = (a: number, b: number) => Array.from({ length: b - a }, (_, k) => line(a + k));

describe("parseTimestamped", () => {
  it("splits Docker's timestamps from the text, keeps spaces and drops CR", () => {
    expect(parseTimestamped("2026-12-03T18:50:00.000000001Z hello  world\r\n2026-12-03T18:50:00.000000002Z \n")).toEqual([
      { ts: "2026-12-03T18:50:00.000000001Z", text: "hello  world" },
      { ts: "2026-12-03T18:50:00.000000002Z", text: "" },
    ]);
  });
});

describe("LogHistory", () => {
  it("appends only what is newer than its newest line (archiving the same container twice adds nothing)", async () => {
    const h = new LogHistory(tmp());
    expect(await h.read()).toEqual([]);
    expect(await h.append(range(0, 10))).toBe(10);
    expect(await h.append(range(0, 10))).toBe(0);
    expect(await h.append(range(5, 15))).toBe(5);
    expect((await h.read()).map((l) => l.text)).toEqual(range(0, 15).map((l) => l.text));
    expect(await h.newest()).toBe(ts(14));
  });

  it("finds the newest line's timestamp when that line is longer than the first window read from the end", async () => {
    const h = new LogHistory(tmp());
    const long = "x".repeat(300 * 1024);
    expect(await h.append([line(1), line(2, long)])).toBe(2);
    expect(await h.newest()).toBe(ts(2));
    // and archiving the same lines again adds nothing
    expect(await h.append([line(1), line(2, long)])).toBe(0);
    expect((await h.read()).length).toBe(2);
  });

  it("rotates at the bound and keeps at most two files, the newest lines in order", async () => {
    const dir = tmp();
    const max = 4096;
    const h = new LogHistory(dir, max);
    // ~45 bytes a line: 2000 lines are ~22 files' worth, appended in 40 archives
    for (let k = 0; k < 40; k++) await h.append(range(k * 50, k * 50 + 50));
    const files = readdirSync(dir).sort();
    expect(files).toEqual([HISTORY_FILE, HISTORY_OLDER_FILE]);
    for (const f of files) expect(statSync(path.join(dir, f)).size).toBeLessThanOrEqual(max);
    const kept = await h.read();
    expect(kept.length).toBeGreaterThan(max / 50);
    // the kept lines are the newest ones, contiguous, oldest first
    const first = Number(kept[0]!.text.split(" ")[1]);
    expect(kept.map((l) => l.text)).toEqual(range(first, 2000).map((l) => l.text));
  });

  it("cuts one append larger than the bound to its newest lines", async () => {
    const dir = tmp();
    const h = new LogHistory(dir, 1000);
    await h.append(range(0, 500));
    expect(statSync(path.join(dir, HISTORY_FILE)).size).toBeLessThanOrEqual(1000);
    expect((await h.read()).at(-1)!.text).toBe("line 499");
  });

  it("remove deletes the folder", async () => {
    const dir = tmp();
    const h = new LogHistory(dir);
    await h.append(range(0, 3));
    await h.remove();
    expect(() => statSync(dir)).toThrow();
    expect(await h.read()).toEqual([]);
  });
});

describe("mergeLogs", () => {
  it("history then the current container, the lines already archived only once", () => {
    expect(mergeLogs(range(0, 5), range(3, 8))).toEqual(range(0, 8));
    expect(mergeLogs([], range(0, 2))).toEqual(range(0, 2));
    expect(mergeLogs(range(0, 2), [])).toEqual(range(0, 2));
  });
});

describe("pageOf", () => {
  const health = (i: number) => line(i, `172.18.0.1 - - "GET /health HTTP/1.1" 200 2 "-" "hearth-health"`);
  const lines = [line(0, "Admin password: s3cret"), ...range(1, 5), health(5), health(6), line(7, "GET / 200"), health(8)];

  it("hides box's health checks unless asked, and says whether older lines exist", () => {
    const p = pageOf(lines, { n: 3 });
    expect(p.lines.map((l) => l.text)).toEqual(["line 3", "line 4", "GET / 200"]);
    expect(p.older).toBe(true);
    expect(pageOf(lines, { n: 3, health: true }).lines.map((l) => l.ts)).toEqual([ts(6), ts(7), ts(8)]);
  });

  it("pages back from a cursor to the start", () => {
    const p1 = pageOf(lines, { n: 3 });
    const p2 = pageOf(lines, { n: 3, before: p1.lines[0]!.ts });
    expect(p2.lines.map((l) => l.text)).toEqual(["Admin password: s3cret", "line 1", "line 2"]);
    expect(p2.older).toBe(false);
    expect(pageOf(lines, { n: 3, before: ts(0) })).toEqual({ lines: [], older: false });
  });

  it("searches case-insensitively for a plain substring", () => {
    expect(pageOf(lines, { n: 10, q: "PASSWORD" }).lines.map((l) => l.text)).toEqual(["Admin password: s3cret"]);
    expect(pageOf(lines, { n: 10, q: "(.*)" }).lines).toEqual([]);
    expect(pageOf(lines, { n: 10, q: "hearth-health" }).lines).toEqual([]);
    expect(pageOf(lines, { n: 10, q: "hearth-health", health: true }).lines).toHaveLength(3);
  });
});
