import { describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { defineTask, TaskError, TaskRegistry, type TaskContext } from "./registry";
import { testTasks } from "./test-tasks";

function fakeContext<A>(args: A, signal = new AbortController().signal) {
  const progress: [number, string][] = [];
  const lines: string[] = [];
  const ctx: TaskContext<A> = {
    taskId: "t1",
    attempt: 1,
    args,
    signal,
    log: (l) => void lines.push(l),
    progress: async (p, m) => void progress.push([p, m]),
  };
  return { ctx, progress, lines };
}

describe("TaskRegistry", () => {
  const registry = new TaskRegistry(testTasks({ crash: () => {} }));

  it("holds the test task types and whether they resume", () => {
    expect(registry.types().sort()).toEqual(["_crash", "_fail", "_sleep"]);
    expect(registry.isResumable("_sleep")).toBe(true);
    expect(registry.isResumable("_fail")).toBe(true);
    expect(registry.isResumable("_crash")).toBe(false);
    expect(registry.isResumable("nope")).toBe(false);
    expect(registry.get("nope")).toBeUndefined();
  });

  it("validates args with the type's schema and applies defaults", () => {
    expect(registry.checkArgs("_sleep", { ms: 10 })).toEqual({ ok: true, args: { ms: 10, steps: 10 } });
    expect(registry.checkArgs("_fail", {})).toEqual({ ok: true, args: { message: "failed on purpose" } });
    const bad = registry.checkArgs("_sleep", { ms: "x", extra: true });
    expect(bad.ok).toBe(false);
    if (!bad.ok) {
      expect(bad.message).toMatch(/^invalid task arguments: /);
      expect(bad.message).toContain("ms:");
    }
    expect(registry.checkArgs("nope", {})).toEqual({ ok: false, message: "unknown task type 'nope'" });
  });

  it("refuses duplicate and badly named types", () => {
    const def = defineTask({ type: "x", resumable: true, args: z.object({}), run: async () => null });
    const r = new TaskRegistry([def]);
    expect(() => r.register(def)).toThrow(/twice/);
    expect(() => r.register({ ...def, type: "Bad Name" })).toThrow(/bad task type name/);
  });
});

describe("test task types", () => {
  const byType = (type: string, crash: () => void = () => {}) => testTasks({ crash }).find((d) => d.type === type)!;

  it("_sleep progresses in steps to 100% and returns the step count", async () => {
    const { ctx, progress, lines } = fakeContext({ ms: 30, steps: 3 });
    await expect(byType("_sleep").run(ctx)).resolves.toEqual({ steps: 3 });
    expect(progress).toEqual([
      [100 / 3, "step 1 of 3"],
      [200 / 3, "step 2 of 3"],
      [100, "step 3 of 3"],
    ]);
    expect(lines).toEqual(["step 1 of 3 done", "step 2 of 3 done", "step 3 of 3 done"]);
  });

  it("_sleep stops when its signal aborts", async () => {
    const ac = new AbortController();
    const { ctx } = fakeContext({ ms: 10_000, steps: 2 }, ac.signal);
    const run = byType("_sleep").run(ctx);
    ac.abort(new Error("stop"));
    await expect(run).rejects.toThrow();
  });

  it("_fail throws a task_failed TaskError with its message", async () => {
    const { ctx } = fakeContext({ message: "boom" });
    const err = await byType("_fail")
      .run(ctx)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskError);
    expect(err).toMatchObject({ code: "task_failed", message: "boom" });
  });

  it("_crash calls its crash hook after afterMs", async () => {
    const crash = vi.fn();
    const { ctx, progress } = fakeContext({ afterMs: 20 });
    const started = Date.now();
    await expect(byType("_crash", crash).run(ctx)).rejects.toThrow(/did not happen/);
    expect(crash).toHaveBeenCalledOnce();
    expect(Date.now() - started).toBeGreaterThanOrEqual(15);
    expect(progress[0]?.[0]).toBe(10);
  });
});
