import { describe, expect, it } from "vitest";
import { TASK_STATES, type TaskState } from "./enums";
import { assertTransition, canTransition, crashTaskArgs, failTaskArgs, isFinishedTaskState, recoveryOf, sleepTaskArgs, TASK_ID_PATTERN } from "./tasks";

const ALLOWED: [TaskState, TaskState][] = [
  ["pending", "running"],
  ["pending", "cancelled"],
  ["pending", "failed"],
  ["running", "succeeded"],
  ["running", "failed"],
  ["running", "pending"],
];

describe("task state machine", () => {
  const all = TASK_STATES.flatMap((from) => TASK_STATES.map((to) => [from, to] as [TaskState, TaskState]));
  const isAllowed = (from: TaskState, to: TaskState) => ALLOWED.some(([f, t]) => f === from && t === to);

  it.each(all.filter(([f, t]) => isAllowed(f, t)))("allows %s → %s", (from, to) => {
    expect(canTransition(from, to)).toBe(true);
    expect(() => assertTransition(from, to)).not.toThrow();
  });

  it.each(all.filter(([f, t]) => !isAllowed(f, t)))("forbids %s → %s", (from, to) => {
    expect(canTransition(from, to)).toBe(false);
    expect(() => assertTransition(from, to)).toThrow(`task cannot go from ${from} to ${to}`);
  });

  it("checks all 25 pairs, 6 of them allowed", () => {
    expect(all).toHaveLength(25);
    expect(
      all
        .filter(([f, t]) => canTransition(f, t))
        .map((p) => p.join("→"))
        .sort(),
    ).toEqual(ALLOWED.map((p) => p.join("→")).sort());
  });

  it("knows which states are final", () => {
    expect(TASK_STATES.filter(isFinishedTaskState)).toEqual(["succeeded", "failed", "cancelled"]);
  });
});

describe("recoveryOf", () => {
  it("resumes a resumable task with attempts left", () => {
    expect(recoveryOf({ attempts: 1, maxAttempts: 3 }, true)).toBe("resume");
    expect(recoveryOf({ attempts: 2, maxAttempts: 3 }, true)).toBe("resume");
  });
  it("fails a resumable task that used all its attempts", () => {
    expect(recoveryOf({ attempts: 3, maxAttempts: 3 }, true)).toBe("fail");
    expect(recoveryOf({ attempts: 1, maxAttempts: 1 }, true)).toBe("fail");
  });
  it("always fails a task that cannot be resumed", () => {
    expect(recoveryOf({ attempts: 1, maxAttempts: 3 }, false)).toBe("fail");
    expect(recoveryOf({ attempts: 0, maxAttempts: 3 }, false)).toBe("fail");
  });
});

describe("test task args", () => {
  it("_sleep needs ms, defaults steps, rejects extra keys and bad ranges", () => {
    expect(sleepTaskArgs.parse({ ms: 100 })).toEqual({ ms: 100, steps: 10 });
    expect(sleepTaskArgs.safeParse({}).success).toBe(false);
    expect(sleepTaskArgs.safeParse({ ms: -1 }).success).toBe(false);
    expect(sleepTaskArgs.safeParse({ ms: 10, steps: 0 }).success).toBe(false);
    expect(sleepTaskArgs.safeParse({ ms: 10, extra: 1 }).success).toBe(false);
  });
  it("_fail and _crash have defaults", () => {
    expect(failTaskArgs.parse({})).toEqual({ message: "failed on purpose" });
    expect(crashTaskArgs.parse({})).toEqual({ afterMs: 0 });
    expect(crashTaskArgs.safeParse({ afterMs: 60_001 }).success).toBe(false);
  });
});

describe("task ids", () => {
  it("accept uuids and refuse anything that could leave a directory", () => {
    expect(TASK_ID_PATTERN.test("0b8f1d2e-8c4e-4a57-9a57-1f2d3c4b5a69")).toBe(true);
    for (const bad of ["", "../x", "a/b", "a.log", "x".repeat(65), "a b"]) expect(TASK_ID_PATTERN.test(bad)).toBe(false);
  });
});
