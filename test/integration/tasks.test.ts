import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { cancelTask, claimNext, createDb, createTask, finishTask, getTask, heartbeat, recoverTasks, releaseTask, toTaskView, updateProgress, type CreateTaskInput, type Db } from "@hearth/db";
import { migratedDatabase, type TestDatabase } from "../helpers/db";

/** The task repository on the real MariaDB. */
let t: TestDatabase & { db: Db };
let db: Db;
const KNOWN = ["_sleep", "_fail", "_crash", "work"];
const A = "box-a/instance-1";
const B = "box-b/instance-1";
const LEASE = 30_000;

beforeAll(async () => {
  t = await migratedDatabase("tasks");
  db = t.db;
});
afterAll(async () => {
  await t?.drop();
});
beforeEach(async () => {
  await db.task.deleteMany({});
});

/** Creates tasks in order; createdAt has ms precision, so keep them apart. */
async function create(...inputs: Partial<CreateTaskInput>[]) {
  const out = [];
  for (const i of inputs) {
    out.push(await createTask(db, { type: "work", ...i }));
    await sleep(3);
  }
  return out;
}

const claim = (by = A, known = KNOWN) => claimNext(db, by, LEASE, known);

describe("createTask", () => {
  it("records a pending task with defaults", async () => {
    const task = await createTask(db, { type: "_sleep", args: { ms: 5 }, appId: "app1", createdBy: "u1" });
    expect(task).toMatchObject({ type: "_sleep", appId: "app1", exclusive: false, state: "pending", percent: 0, attempts: 0, maxAttempts: 3, createdBy: "u1", leasedBy: null });
    expect(task.args).toEqual({ ms: 5 });
    expect(toTaskView(task)).toMatchObject({ id: task.id, state: "pending", error: null, startedAt: null, finishedAt: null });
  });

  it("works inside a transaction with other writes", async () => {
    await expect(
      db.$transaction(async (tx) => {
        await createTask(tx, { type: "work" });
        throw new Error("roll back");
      }),
    ).rejects.toThrow("roll back");
    expect(await db.task.count()).toBe(0);
  });
});

describe("claimNext", () => {
  it("claims the oldest pending task first and marks it running under a lease", async () => {
    const [first, second] = await create({}, {});
    const before = Date.now();
    const c = await claim();
    expect(c?.id).toBe(first!.id);
    expect(c).toMatchObject({ state: "running", attempts: 1, leasedBy: A, percent: 0 });
    expect(c!.startedAt!.getTime()).toBeGreaterThanOrEqual(before - 5);
    expect(c!.leaseExpiresAt!.getTime() - c!.heartbeatAt!.getTime()).toBe(LEASE);
    expect((await claim())?.id).toBe(second!.id);
    expect(await claim()).toBeNull();
  });

  it("fails tasks of unknown types instead of returning them", async () => {
    const [odd, good] = await create({ type: "nosuch" }, { type: "work" });
    expect((await claim())?.id).toBe(good!.id);
    expect(await getTask(db, odd!.id)).toMatchObject({ state: "failed", errorCode: "unknown_task_type", attempts: 0 });
  });

  it("runs one task per app at a time, in order, without holding up other apps", async () => {
    const [a1, a2, b1, none] = await create({ appId: "A" }, { appId: "A" }, { appId: "B" }, {});
    expect((await claim())?.id).toBe(a1!.id);
    expect((await claim())?.id).toBe(b1!.id); // a2 waits for a1
    expect((await claim())?.id).toBe(none!.id);
    expect(await claim()).toBeNull();
    await finishTask(db, a1!.id, A, { state: "succeeded" });
    expect((await claim())?.id).toBe(a2!.id);
  });

  it("holds the platform lock for exclusive tasks", async () => {
    const [x] = await create({ appId: "A" });
    expect((await claim())?.id).toBe(x!.id);
    const [excl, later] = await create({ exclusive: true }, { appId: "B" });
    // the exclusive task waits for x, and nothing newer jumps ahead of it
    expect(await claim()).toBeNull();
    await finishTask(db, x!.id, A, { state: "succeeded" });
    expect((await claim())?.id).toBe(excl!.id);
    // while it runs nothing starts
    expect(await claim(B)).toBeNull();
    await finishTask(db, excl!.id, A, { state: "failed", errorCode: "task_failed", errorMessage: "x" });
    expect((await claim(B))?.id).toBe(later!.id);
  });

  it("never hands one task to two competing claimers, nor two tasks of one app", async () => {
    const apps = ["a1", "a2", "a3", "a4"];
    await create(...Array.from({ length: 24 }, (_, i) => ({ appId: apps[i % apps.length] })));
    // a second client = a second pool, as another process would have
    const db2 = createDb(t.url);
    try {
      const claimers = Array.from({ length: 10 }, (_, i) => claimNext(i % 2 ? db2 : db, i % 2 ? B : A, LEASE, KNOWN));
      const claimed = (await Promise.all(claimers)).filter((c) => c !== null);
      expect(claimed).toHaveLength(apps.length);
      expect(new Set(claimed.map((c) => c.id)).size).toBe(claimed.length);
      expect(new Set(claimed.map((c) => c.appId)).size).toBe(apps.length);
      const running = await db.task.groupBy({ by: ["appId"], where: { state: "running" }, _count: true });
      expect(running.every((r) => r._count === 1)).toBe(true);
    } finally {
      await db2.$disconnect();
    }
  });
});

describe("lease ownership", () => {
  it("lets only the holder heartbeat, report progress and finish", async () => {
    await create({});
    const c = (await claim())!;
    await sleep(5);
    expect(await heartbeat(db, c.id, B, LEASE)).toBe(false);
    expect(await heartbeat(db, c.id, A, LEASE)).toBe(true);
    const after = (await getTask(db, c.id))!;
    expect(after.leaseExpiresAt!.getTime()).toBeGreaterThan(c.leaseExpiresAt!.getTime());

    expect(await updateProgress(db, c.id, B, 50, "theirs")).toBe(false);
    expect(await updateProgress(db, c.id, A, 140.4, "x".repeat(600))).toBe(true);
    const p = (await getTask(db, c.id))!;
    expect(p.percent).toBe(100);
    expect(p.message).toHaveLength(512);

    expect(await finishTask(db, c.id, B, { state: "succeeded" })).toBe(false);
    expect(await finishTask(db, c.id, A, { state: "succeeded", result: { ok: 1 } })).toBe(true);
    const done = (await getTask(db, c.id))!;
    expect(done).toMatchObject({ state: "succeeded", percent: 100, result: { ok: 1 }, leaseExpiresAt: null });
    expect(done.finishedAt).not.toBeNull();
    // finished: no more heartbeats or second endings
    expect(await heartbeat(db, c.id, A, LEASE)).toBe(false);
    expect(await finishTask(db, c.id, A, { state: "failed", errorCode: "x", errorMessage: "y" })).toBe(false);
  });

  it("stores a failure's code and message", async () => {
    await create({});
    const c = (await claim())!;
    await finishTask(db, c.id, A, { state: "failed", errorCode: "task_failed", errorMessage: "boom" });
    expect(toTaskView((await getTask(db, c.id))!)).toMatchObject({ state: "failed", error: { code: "task_failed", message: "boom" } });
  });
});

describe("recoverTasks", () => {
  const resumable = (type: string) => type !== "_crash";
  const expire = (id: string) => db.task.update({ where: { id }, data: { leaseExpiresAt: new Date(Date.now() - 1000) } });

  it("puts a resumable task whose lease expired back to pending, attempts kept", async () => {
    await create({ type: "_sleep" });
    const c = (await claim())!;
    await updateProgress(db, c.id, A, 40, "half");
    expect(await recoverTasks(db, { resumable })).toEqual([]); // lease still valid
    await expire(c.id);
    expect(await recoverTasks(db, { resumable })).toEqual([{ id: c.id, type: "_sleep", action: "resume", appId: null, errorMessage: "" }]);
    expect(await getTask(db, c.id)).toMatchObject({ state: "pending", attempts: 1, leasedBy: null, leaseExpiresAt: null, percent: 0 });
    // the next claim is attempt 2
    expect(await claim(B)).toMatchObject({ id: c.id, attempts: 2, leasedBy: B });
  });

  it("fails a task that cannot resume, or has no attempts left, as interrupted", async () => {
    const [crash, last] = await create({ type: "_crash" }, { type: "_sleep", maxAttempts: 1 });
    await claim();
    await claim();
    await expire(crash!.id);
    await expire(last!.id);
    const r = await recoverTasks(db, { resumable });
    expect(r.map((x) => x.action)).toEqual(["fail", "fail"]);
    expect(await getTask(db, crash!.id)).toMatchObject({ state: "failed", errorCode: "interrupted" });
    const l = (await getTask(db, last!.id))!;
    expect(l).toMatchObject({ state: "failed", errorCode: "interrupted" });
    expect(l.errorMessage).toMatch(/attempt 1 of 1/);
  });

  it("at start recovers this box's dead instance at once, leaving other boxes' live leases alone", async () => {
    const [mine, theirs] = await create({ type: "_sleep", appId: "A" }, { type: "_sleep", appId: "B" });
    await claim("box-a/old-instance");
    await claim("box-b/instance-9");
    // a periodic sweep does not apply the same-box rule
    expect(await recoverTasks(db, { resumable })).toEqual([]);
    const r = await recoverTasks(db, { resumable, self: { boxId: "box-a", leasedBy: "box-a/new-instance" } });
    expect(r).toEqual([{ id: mine!.id, type: "_sleep", action: "resume", appId: "A", errorMessage: "" }]);
    expect((await getTask(db, theirs!.id))!.state).toBe("running");
    // a box whose id merely starts with ours is not us
    await claim("box-a2/x");
    expect(await recoverTasks(db, { resumable, self: { boxId: "box-a", leasedBy: "box-a/new-instance" } })).toHaveLength(0);
  });

  it("does not take a task whose owner renewed the lease meanwhile", async () => {
    await create({ type: "_sleep" });
    const c = (await claim())!;
    await expire(c.id);
    await heartbeat(db, c.id, A, LEASE); // the owner was slow, not dead
    expect(await recoverTasks(db, { resumable })).toEqual([]);
  });
});

describe("releaseTask and cancelTask", () => {
  it("releases our running task like recovery would, and only ours", async () => {
    const [s, c] = await create({ type: "_sleep" }, { type: "_crash" });
    await claim();
    await claim();
    expect(await releaseTask(db, s!.id, B, true)).toBeNull();
    expect(await releaseTask(db, s!.id, A, true)).toBe("resume");
    expect(await releaseTask(db, c!.id, A, false)).toBe("fail");
    expect((await getTask(db, s!.id))!.state).toBe("pending");
    expect(await getTask(db, c!.id)).toMatchObject({ state: "failed", errorCode: "interrupted" });
  });

  it("cancels pending tasks only", async () => {
    const [p, r] = await create({ appId: "X" }, { appId: "Y" });
    const cancelled = await cancelTask(db, p!.id);
    expect(cancelled.state).toBe("cancelled");
    expect(cancelled.finishedAt).not.toBeNull();
    expect((await claim())?.id).toBe(r!.id);
    await expect(cancelTask(db, r!.id)).rejects.toMatchObject({ code: "bad_state" });
    await expect(cancelTask(db, p!.id)).rejects.toMatchObject({ code: "bad_state" });
    await expect(cancelTask(db, "no-such-task")).rejects.toMatchObject({ code: "not_found" });
  });
});
