import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { appendTaskLog, formatLogLines, TaskLogFile, taskLogPath } from "./task-log";

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
    const lines = readFileSync(taskLogPath(path.join(dir, "nested"), "t1"), "utf8").trimEnd().split("\n");
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
