import { mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { appendTaskLog, errorLine, formatLogLines, removeTaskLogs, TaskLogFile, taskLogPath, taskLogsOlderThan } from "./task-log";

describe("task log files", () => {
  it("live under <dataDir>/logs/tasks and refuse ids that could escape it", () => {
    expect(taskLogPath("/var/lib/hearth", "abc-123")).toBe("/var/lib/hearth/logs/tasks/abc-123.log");
    expect(() => taskLogPath("/d", "../../etc/passwd")).toThrow();
    expect(() => taskLogPath("/d", "a/b")).toThrow();
  });

  it("timestamp every line, splitting multi-line entries", () => {
    const at = new Date("2026-01-02T03:04:05.678Z");
    expect(formatLogLines("one\ntwo\n", at)).toBe("2026-01-02T03:04:05.678Z one\n2026-01-02T03:04:05.678Z two\n");
  });

  it("create their directories and append across opens", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "box-log-"));
    const f = TaskLogFile.open(path.join(dir, "nested"), "t1");
    expect(f.failed).toBeNull();
    f.write("first");
    f.close();
    f.write("ignored after close");
    appendTaskLog(path.join(dir, "nested"), "t1", "second");
    const lines = readFileSync(taskLogPath(path.join(dir, "nested"), "t1"), "utf8")
      .trimEnd()
      .split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z first$/);
    expect(lines[1]).toMatch(/ second$/);
  });

  it("report an unwritable place instead of throwing", () => {
    // a data dir below a regular file: mkdir fails with ENOTDIR
    // (not /proc: Node's recursive mkdirSync spins forever there)
    const dir = mkdtempSync(path.join(os.tmpdir(), "box-log-"));
    writeFileSync(path.join(dir, "file"), "");
    const f = TaskLogFile.open(path.join(dir, "file", "data"), "t1");
    expect(f.failed).toBeInstanceOf(Error);
    expect(() => f.write("x")).not.toThrow();
  });
});

describe("errorLine", () => {
  it("gives a Prisma error's code and what happened, without its path and code frame", () => {
    const e = Object.assign(
      new Error(
        "\nInvalid `prisma.app.update()` invocation in\n/opt/hearth/app/apps/box/src/apps/apps.service.ts:287:22\n\n  284 }\n  285 \n→ 287 await this.db.app.update({\nThe provided value for the column is too long for the column's type. Column: version",
      ),
      { name: "PrismaClientKnownRequestError", code: "P2000" },
    );
    expect(errorLine(e)).toBe("P2000: The provided value for the column is too long for the column's type. Column: version");
  });

  it("keeps one line, cuts source paths, and handles non-errors", () => {
    const e = new TypeError("cannot read x of undefined at /work/main/apps/box/src/x.ts:12:3\n    at foo (/work/main/node_modules/y/index.js:1:1)");
    expect(errorLine(e)).toBe("TypeError: cannot read x of undefined at <source>");
    expect(errorLine(Object.assign(new Error("no such file"), { code: "ENOENT" }))).toBe("ENOENT: no such file");
    expect(errorLine("plain")).toBe("error: plain");
    expect(errorLine(undefined)).toBe("error: undefined");
  });
});

describe("the purge's view of task log files", () => {
  it("lists only <task id>.log regular files last written before the cut, in chunks, and removes them by id", async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), "box-log-purge-"));
    const old = new Date("2026-01-01T00:00:00Z");
    const cut = new Date("2026-02-01T00:00:00Z");
    for (const id of ["a1", "a2", "a3", "fresh"]) appendTaskLog(dataDir, id, "x");
    for (const id of ["a1", "a2", "a3"]) utimesSync(taskLogPath(dataDir, id), old, old);
    const dir = path.dirname(taskLogPath(dataDir, "a1"));
    writeFileSync(path.join(dir, "not a task.log"), "x");
    writeFileSync(path.join(dir, "notes.txt"), "x");
    mkdirSync(path.join(dir, "sub.log"));
    symlinkSync("/etc/hostname", path.join(dir, "link.log"));
    for (const f of ["not a task.log", "notes.txt", "sub.log"]) utimesSync(path.join(dir, f), old, old);
    const chunks: string[][] = [];
    for await (const c of taskLogsOlderThan(dataDir, cut, 2)) chunks.push(c);
    expect(chunks.map((c) => c.length)).toEqual([2, 1]);
    expect(chunks.flat().sort()).toEqual(["a1", "a2", "a3"]);
    expect(await removeTaskLogs(dataDir, ["a1", "a2", "gone", "../x"])).toBe(2);
    expect(readdirSync(dir).sort()).toEqual(["a3.log", "fresh.log", "link.log", "not a task.log", "notes.txt", "sub.log"]);
    const none: string[][] = [];
    for await (const c of taskLogsOlderThan(path.join(dataDir, "missing"), cut)) none.push(c);
    expect(none).toEqual([]);
  });
});
