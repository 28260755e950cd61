import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import pino from "pino";
import { afterEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { HearthError, recoveryOf } from "@hearth/contracts";
import { defineTask, TaskRegistry, type TaskDefinition } from "./registry";
import { taskLogPath } from "./task-log";
import type { ClaimedTask, RecoveredTask, RecoverOptions, TaskOutcome, TaskStore } from "./task-store";
import { TaskRunner } from "./tasks.service";
import { testTasks } from "./test-tasks";

/** An in-memory task table with the same ownership rules as the real repository. */
interface Row extends ClaimedTask {
  state: "pending" | "running" | "succeeded" | "failed" | "cancelled";
  leasedBy: string | null;
  percent: number;
  message: string;
  outcome?: TaskOutcome;
}

class FakeStore implements TaskStore {
  rows: Row[] = [];
  heartbeats = 0;
  claimsInFlight = 0;
  maxClaimsInFlight = 0;
  /** Makes heartbeats report a lost lease for these ids. */
  stolen = new Set<string>();
  recoverCalls: RecoverOptions[] = [];
  recoverResult: RecoveredTask[] = [];

  add(type: string, args: unknown = {}, maxAttempts = 3): string {
    const id = `t${this.rows.length + 1}`;
    this.rows.push({ id, type, args, appId: null, attempts: 0, maxAttempts, state: "pending", leasedBy: null, percent: 0, message: "" });
    return id;
  }
  get(id: string): Row {
    return this.rows.find((r) => r.id === id)!;
  }
  private owned(id: string, leasedBy: string): Row | undefined {
    const r = this.get(id);
    return r && r.state === "running" && r.leasedBy === leasedBy ? r : undefined;
  }

  async claimNext(leasedBy: string, _leaseMs: number, knownTypes: readonly string[]): Promise<ClaimedTask | null> {
    this.claimsInFlight++;
    this.maxClaimsInFlight = Math.max(this.maxClaimsInFlight, this.claimsInFlight);
    await sleep(2);
    this.claimsInFlight--;
    const r = this.rows.find((x) => x.state === "pending" && knownTypes.includes(x.type));
    if (!r) return null;
    Object.assign(r, { state: "running", leasedBy, attempts: r.attempts + 1, percent: 0 });
    return { id: r.id, type: r.type, appId: r.appId, args: r.args, attempts: r.attempts, maxAttempts: r.maxAttempts };
  }
  async heartbeat(id: string, leasedBy: string): Promise<boolean> {
    this.heartbeats++;
    return !this.stolen.has(id) && this.owned(id, leasedBy) !== undefined;
  }
  async updateProgress(id: string, leasedBy: string, percent: number, message: string): Promise<boolean> {
    const r = this.owned(id, leasedBy);
    if (r) Object.assign(r, { percent, message });
    return r !== undefined;
  }
  async finish(id: string, leasedBy: string, outcome: TaskOutcome): Promise<boolean> {
    const r = this.owned(id, leasedBy);
    if (r) Object.assign(r, { state: outcome.state, outcome });
    return r !== undefined;
  }
  async release(id: string, leasedBy: string, resumable: boolean) {
    const r = this.owned(id, leasedBy);
    if (!r) return null;
    const action = recoveryOf(r, resumable);
    Object.assign(r, action === "resume" ? { state: "pending", leasedBy: null } : { state: "failed" });
    return action;
  }
  async recover(opts: RecoverOptions): Promise<RecoveredTask[]> {
    this.recoverCalls.push(opts);
    return this.recoverResult;
  }
}

/** A task type the test controls: it runs until `release(id)` (or its signal aborts, if `obeys`). */
function gateTask(type = "gate", opts: { resumable?: boolean; obeys?: boolean } = {}) {
  const gates = new Map<string, () => void>();
  const started: string[] = [];
  const def = defineTask({
    type,
    resumable: opts.resumable ?? true,
    args: z.object({}),
    async run(ctx) {
      started.push(ctx.taskId);
      await new Promise<void>((resolve, reject) => {
        gates.set(ctx.taskId, resolve);
        if (opts.obeys ?? true) ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason as Error));
      });
      return { done: ctx.taskId };
    },
  });
  return { def, started, release: (id: string) => gates.get(id)?.(), gates };
}

async function until(cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not reached in time");
    await sleep(5);
  }
}

const runners: TaskRunner[] = [];
afterEach(async () => {
  await Promise.all(runners.splice(0).map((r) => r.stop()));
});

function makeRunner(store: FakeStore, defs: TaskDefinition[], opts: Partial<ConstructorParameters<typeof TaskRunner>[0]> = {}) {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "box-runner-"));
  const runner = new TaskRunner({
    store,
    registry: new TaskRegistry(defs),
    boxId: "box-a",
    leasedBy: "box-a/instance-1",
    dataDir,
    pollMs: 60_000, // tests drive the runner with wake()
    leaseMs: 30_000,
    concurrency: 4,
    log: pino({ level: "silent" }),
    ...opts,
  });
  runners.push(runner);
  return { runner, dataDir, logOf: (id: string) => readFileSync(taskLogPath(dataDir, id), "utf8") };
}

describe("TaskRunner", () => {
  it("runs a task to success with progress, result and a timestamped log", async () => {
    const store = new FakeStore();
    const id = store.add("_sleep", { ms: 20, steps: 2 });
    const { runner, logOf } = makeRunner(store, testTasks());
    runner.start();
    await until(() => store.get(id).state === "succeeded");
    expect(store.get(id)).toMatchObject({ attempts: 1, percent: 100, message: "step 2 of 2" });
    expect(store.get(id).outcome).toEqual({ state: "succeeded", result: { steps: 2 } });
    const log = logOf(id).trimEnd().split("\n");
    expect(log[0]).toMatch(/^\S+Z === _sleep started$/);
    // the admin reads this log: no lease holder, no attempt bookkeeping
    expect(logOf(id)).not.toMatch(/instance-1|box-a|lease|attempt/);
    expect(log.some((l) => l.endsWith("step 1 of 2 done"))).toBe(true);
    expect(log.at(-1)).toMatch(/ succeeded$/);
  });

  it("a second attempt says it runs again from its start; progress that goes down is shown and logged at the highest so far", async () => {
    const store = new FakeStore();
    const id = store.add("zigzag");
    store.get(id).attempts = 1; // one attempt was interrupted before
    const zigzag = defineTask({
      type: "zigzag",
      resumable: true,
      args: z.object({}),
      run: async (ctx) => {
        await ctx.progress(50, "creating the container");
        await ctx.progress(45, "addons");
        await ctx.progress(60, "starting");
      },
    });
    const { runner, logOf } = makeRunner(store, [zigzag]);
    runner.start();
    await until(() => store.get(id).state === "succeeded");
    const log = logOf(id).trimEnd().split("\n");
    expect(log[0]).toMatch(/ === zigzag started again from its start \(try 2 of 3\)$/);
    expect(log.filter((l) => / \[\d+%\] /.test(l)).map((l) => l.replace(/^\S+ /, ""))).toEqual(["[50%] creating the container", "[50%] addons", "[60%] starting"]);
  });

  it("ends a TaskError with its code and message, a HearthError with its code", async () => {
    const store = new FakeStore();
    const failId = store.add("_fail", { message: "boom" });
    const hearthId = store.add("hearth");
    const hearth = defineTask({
      type: "hearth",
      resumable: true,
      args: z.object({}),
      run: async () => {
        throw new HearthError("external", "registry unreachable");
      },
    });
    const { runner } = makeRunner(store, [...testTasks(), hearth]);
    runner.start();
    await until(() => store.get(failId).state === "failed" && store.get(hearthId).state === "failed");
    expect(store.get(failId).outcome).toEqual({ state: "failed", errorCode: "task_failed", errorMessage: "boom" });
    expect(store.get(hearthId).outcome).toEqual({ state: "failed", errorCode: "external", errorMessage: "registry unreachable" });
  });

  it("hides unexpected errors' text from the task row but keeps it in the task log", async () => {
    const store = new FakeStore();
    const id = store.add("oops");
    const oops = defineTask({
      type: "oops",
      resumable: true,
      args: z.object({}),
      run: async () => {
        throw new Error("connect failed: password=hunter2");
      },
    });
    const { runner, logOf } = makeRunner(store, [oops]);
    runner.start();
    await until(() => store.get(id).state === "failed");
    expect(store.get(id).outcome).toEqual({ state: "failed", errorCode: "internal", errorMessage: "internal error; see the task log" });
    expect(logOf(id)).toContain("internal error: Error: connect failed: password=hunter2");
    // one line: no stack frame, no source path
    expect(logOf(id)).not.toMatch(/^\s*at\s|\.test\.ts|node_modules/m);
    expect(logOf(id)).not.toContain(import.meta.dirname);
  });

  it("fails a task whose args do not match its schema without running it", async () => {
    const store = new FakeStore();
    const id = store.add("_sleep", { ms: "soon" });
    const { runner } = makeRunner(store, testTasks());
    runner.start();
    await until(() => store.get(id).state === "failed");
    const outcome = store.get(id).outcome;
    expect(outcome).toMatchObject({ state: "failed", errorCode: "invalid" });
    expect(outcome?.state === "failed" && outcome.errorMessage).toMatch(/^invalid task arguments: ms:/);
  });

  it("runs at most `concurrency` tasks at once and starts the next when a slot frees", async () => {
    const store = new FakeStore();
    const gate = gateTask();
    const ids = Array.from({ length: 6 }, () => store.add("gate"));
    const { runner } = makeRunner(store, [gate.def], { concurrency: 4 });
    runner.start();
    await until(() => gate.started.length === 4);
    await sleep(30);
    expect(gate.started).toHaveLength(4);
    expect(runner.runningCount).toBe(4);
    gate.release(ids[0]!);
    await until(() => gate.started.length === 5);
    expect(store.get(ids[0]!).state).toBe("succeeded");
    // release the rest as they start
    await until(() => {
      for (const id of gate.started) gate.release(id);
      return store.rows.every((r) => r.state === "succeeded");
    });
    expect(runner.runningCount).toBe(0);
  });

  it("never runs two claim loops at once, however often it is woken", async () => {
    const store = new FakeStore();
    for (let i = 0; i < 10; i++) store.add("_sleep", { ms: 0, steps: 1 });
    const { runner } = makeRunner(store, testTasks());
    runner.start();
    for (let i = 0; i < 50; i++) runner.wake();
    await until(() => store.rows.every((r) => r.state === "succeeded"));
    expect(store.maxClaimsInFlight).toBe(1);
  });

  it("picks up work on wake() without waiting for the poll", async () => {
    const store = new FakeStore();
    const { runner } = makeRunner(store, testTasks());
    runner.start();
    await runner.settled();
    await sleep(20);
    const id = store.add("_sleep", { ms: 0, steps: 1 });
    await sleep(50);
    expect(store.get(id).state).toBe("pending"); // the next poll is a minute away
    runner.wake();
    await until(() => store.get(id).state === "succeeded", 1000);
  });

  it("heartbeats at leaseMs/3 and aborts a task whose lease was lost, writing nothing", async () => {
    const store = new FakeStore();
    const gate = gateTask();
    const id = store.add("gate");
    const { runner, logOf } = makeRunner(store, [gate.def], { leaseMs: 300 });
    runner.start();
    await until(() => gate.started.length === 1);
    await until(() => store.heartbeats >= 2, 1000);
    const finish = vi.spyOn(store, "finish");
    store.stolen.add(id);
    await until(() => runner.runningCount === 0, 1000);
    expect(finish).not.toHaveBeenCalled();
    expect(store.get(id).state).toBe("running"); // untouched: it belongs to whoever took it
    expect(logOf(id)).toContain("stopped: this run was interrupted");
    expect(logOf(id)).not.toMatch(/lease|instance-1/);
  });

  it("at stop gives running tasks back: resumable → pending, others → failed", async () => {
    const store = new FakeStore();
    const resumable = gateTask("resumable", { resumable: true });
    const oneShot = gateTask("oneshot", { resumable: false });
    const a = store.add("resumable");
    const b = store.add("oneshot");
    const { runner } = makeRunner(store, [resumable.def, oneShot.def]);
    runner.start();
    await until(() => runner.runningCount === 2);
    await runner.stop();
    expect(store.get(a)).toMatchObject({ state: "pending", attempts: 1, leasedBy: null });
    expect(store.get(b)).toMatchObject({ state: "failed", attempts: 1 });
    // and it claims nothing more
    store.add("resumable");
    runner.wake();
    await sleep(30);
    expect(store.rows.filter((r) => r.state === "running")).toHaveLength(0);
  });

  it("at stop gives back a task that ignores its signal once the grace period is over", async () => {
    const store = new FakeStore();
    const deaf = gateTask("deaf", { obeys: false });
    const id = store.add("deaf");
    const { runner } = makeRunner(store, [deaf.def], { shutdownGraceMs: 50 });
    runner.start();
    await until(() => runner.runningCount === 1);
    await runner.stop();
    expect(store.get(id).state).toBe("pending");
    const finish = vi.spyOn(store, "finish");
    deaf.release(id); // the run ends later: it must not write over the released row
    await until(() => runner.runningCount === 0);
    expect(finish).not.toHaveBeenCalled();
    expect(store.get(id).state).toBe("pending");
  });

  it("lets a task that finishes during shutdown succeed", async () => {
    const store = new FakeStore();
    const id = store.add("quick");
    const quick = defineTask({
      type: "quick",
      resumable: true,
      args: z.object({}),
      async run() {
        await sleep(50); // ignores the signal but finishes within the grace period
        return "ok";
      },
    });
    const { runner } = makeRunner(store, [quick]);
    runner.start();
    await until(() => runner.runningCount === 1);
    await runner.stop();
    expect(store.get(id).state).toBe("succeeded");
  });

  it("runs _crash's crash hook", async () => {
    const store = new FakeStore();
    const crash = vi.fn();
    store.add("_crash", { afterMs: 10 });
    const { runner } = makeRunner(store, testTasks({ crash }));
    runner.start();
    await until(() => crash.mock.calls.length === 1);
  });

  it("recovers its own dead instance's tasks at startup and notes it in their logs", async () => {
    const store = new FakeStore();
    store.recoverResult = [{ id: "old1", type: "_sleep", action: "resume" }];
    const { runner, logOf } = makeRunner(store, testTasks());
    await runner.recoverAtStartup();
    expect(store.recoverCalls[0]?.self).toEqual({ boxId: "box-a", leasedBy: "box-a/instance-1" });
    expect(store.recoverCalls[0]?.resumable("_sleep")).toBe(true);
    expect(store.recoverCalls[0]?.resumable("_crash")).toBe(false);
    expect(logOf("old1")).toMatch(/run again from its start/);
  });

  it("sweeps expired leases on every poll, without the same-box rule", async () => {
    const store = new FakeStore();
    const { runner, dataDir } = makeRunner(store, testTasks(), { pollMs: 20 });
    runner.start();
    await until(() => store.recoverCalls.length >= 3);
    expect(store.recoverCalls.every((c) => c.self === undefined)).toBe(true);
    expect(existsSync(path.join(dataDir, "logs"))).toBe(false);
  });
});
