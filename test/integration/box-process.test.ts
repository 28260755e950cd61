import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { BoxHealth } from "@hearth/contracts";
import { createTask, getTask, type Db, type Task } from "@hearth/db";
import { migratedDatabase, REPO_ROOT, type TestDatabase } from "../helpers/db";

/**
 * Real box processes (`node --import tsx apps/box/src/main.ts`, and once the esbuild bundle)
 * against a real MariaDB: competing boxes, kill -9 recovery, crash, failure, graceful stop,
 * and the unix-socket protocol.
 */

interface Box {
  id: string;
  child: ChildProcess;
  dataDir: string;
  socket: string;
  stdout: string[];
  stderr: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves on the "box ready" log line; rejects if the process exits first. */
  ready: Promise<void>;
}

let t: TestDatabase & { db: Db };
let db: Db;
const tmpRoot = mkdtempSync(path.join(os.tmpdir(), "hearth-box-"));
const boxes: Box[] = [];

/** Our environment minus any HEARTH_* of the outer shell, plus the box's own. */
function boxEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("HEARTH_")) env[k] = v;
  return { ...env, ...extra };
}

function startBox(boxId: string, opts: { pollMs?: number; leaseMs?: number; dataDir?: string; bundle?: string; env?: Record<string, string>; unset?: string[] } = {}): Box {
  const dataDir = opts.dataDir ?? mkdtempSync(path.join(tmpRoot, `${boxId}-`));
  const socket = path.join(dataDir, "box.sock");
  const args = opts.bundle ? [opts.bundle] : ["--import", "tsx", path.join(REPO_ROOT, "apps/box/src/main.ts")];
  const env = boxEnv({
    HEARTH_DATABASE_URL: t.url,
    HEARTH_DATA_DIR: dataDir,
    HEARTH_PROXY: "off",
    HEARTH_SERVICES: "off",
    HEARTH_BOX_SOCKET: socket,
    HEARTH_SOCKET_GROUP: "",
    HEARTH_BOX_ID: boxId,
    HEARTH_TASK_POLL_MS: String(opts.pollMs ?? 200),
    HEARTH_TASK_LEASE_MS: String(opts.leaseMs ?? 30_000),
    HEARTH_LOG_LEVEL: "info",
    ...opts.env,
  });
  for (const k of opts.unset ?? []) delete env[k];
  const child = spawn(process.execPath, args, {
    // the bundle must not depend on the working directory
    cwd: opts.bundle ? os.tmpdir() : REPO_ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const box: Box = {
    id: boxId,
    child,
    dataDir,
    socket,
    stdout: [],
    stderr: [],
    exited: new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal }))),
    ready: Promise.resolve(),
  };
  box.ready = new Promise<void>((resolve, reject) => {
    let buf = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      buf += chunk.toString("utf8");
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        box.stdout.push(line);
        if (line.includes('"msg":"box ready"')) resolve();
      }
    });
    child.stderr!.on("data", (chunk: Buffer) => box.stderr.push(chunk.toString("utf8")));
    void box.exited.then(({ code, signal }) => reject(new Error(`box ${boxId} exited (${code ?? signal}) before it was ready:\n${box.stderr.join("")}\n${box.stdout.join("\n")}`)));
  });
  box.ready.catch(() => {}); // tests that expect an early exit do not await it
  boxes.push(box);
  return box;
}

async function kill(box: Box, signal: NodeJS.Signals = "SIGKILL") {
  if (box.child.exitCode === null && box.child.signalCode === null) box.child.kill(signal);
  return box.exited;
}

interface Reply {
  status: number;
  body: string;
}
function call(box: Box, method: string, urlPath: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: box.socket, method, path: urlPath }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

function parseSse(body: string): { event: string; data: Record<string, unknown> }[] {
  return body
    .split("\n\n")
    .filter((b) => b.startsWith("event:"))
    .map((b) => {
      const [ev, data] = b.split("\n");
      return { event: ev!.slice(7), data: JSON.parse(data!.slice(6)) as Record<string, unknown> };
    });
}

async function waitFor<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs = 30_000, everyMs = 50): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

const taskWhere = (id: string, cond: (t: Task) => boolean) => async () => {
  const task = await getTask(db, id);
  return task && cond(task) ? task : null;
};
const finished = (task: Task) => ["succeeded", "failed", "cancelled"].includes(task.state);

function logOf(box: Box, taskId: string): string {
  const file = path.join(box.dataDir, "logs", "tasks", `${taskId}.log`);
  return existsSync(file) ? readFileSync(file, "utf8") : "";
}

beforeAll(async () => {
  t = await migratedDatabase("box");
  db = t.db;
});
afterEach(async () => {
  await Promise.all(boxes.splice(0).map((b) => kill(b)));
});
afterAll(async () => {
  await t?.drop();
  rmSync(tmpRoot, { recursive: true, force: true });
});
beforeEach(async () => {
  await db.task.deleteMany({});
});

describe("box process", () => {
  it("refuses to start with a missing variable, naming it", async () => {
    const box = startBox("badconfig", { unset: ["HEARTH_DATABASE_URL"], env: { HEARTH_TASK_POLL_MS: "soon" } });
    const { code } = await box.exited;
    expect(code).toBe(1);
    expect(box.stderr.join("")).toMatch(/HEARTH_DATABASE_URL: is required/);
    expect(box.stderr.join("")).toMatch(/HEARTH_TASK_POLL_MS:/);
  });

  it("two competing boxes drain 30 tasks: each runs exactly once, one per app at a time", async () => {
    const a = startBox("compete-a", { pollMs: 100 });
    const b = startBox("compete-b", { pollMs: 100 });
    await Promise.all([a.ready, b.ready]);

    const apps = ["app1", "app2", "app3", "app4", "app5", null];
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) {
      ids.push((await createTask(db, { type: "_sleep", args: { ms: 150, steps: 3 }, appId: apps[i % apps.length] })).id);
    }

    // watch for two running tasks of one app while they drain
    const violations: unknown[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const rows = await t.sql<{ appId: string; n: bigint }[]>("SELECT appId, COUNT(*) AS n FROM Task WHERE state = 'running' AND appId IS NOT NULL GROUP BY appId HAVING n > 1");
        if (rows.length > 0) violations.push(rows);
        await sleep(20);
      }
    })();
    try {
      await waitFor("all tasks to finish", async () => (await db.task.count({ where: { state: { in: ["pending", "running"] } } })) === 0, 90_000, 100);
    } finally {
      sampling = false;
      await sampler;
    }

    const tasks = await db.task.findMany({ where: { id: { in: ids } } });
    expect(tasks.map((x) => x.state)).toEqual(Array(30).fill("succeeded"));
    expect(tasks.every((x) => x.attempts === 1)).toBe(true);
    expect(violations).toEqual([]);

    // both boxes took part, and each task's log (in the box that ran it) shows a single run
    const byBox = { a: tasks.filter((x) => x.leasedBy?.startsWith("compete-a/")), b: tasks.filter((x) => x.leasedBy?.startsWith("compete-b/")) };
    expect(byBox.a.length + byBox.b.length).toBe(30);
    expect(byBox.a.length).toBeGreaterThan(0);
    expect(byBox.b.length).toBeGreaterThan(0);
    for (const [ran, other] of [
      [a, b],
      [b, a],
    ] as const) {
      for (const task of ran === a ? byBox.a : byBox.b) {
        const log = logOf(ran, task.id);
        expect(log.match(/=== _sleep started/g)).toHaveLength(1);
        expect(log).toContain("step 3 of 3 done");
        expect(logOf(other, task.id)).toBe("");
      }
    }

    // per app, runs never overlapped in time either
    for (const app of apps.filter((x) => x !== null)) {
      const runs = tasks.filter((x) => x.appId === app).sort((p, q) => p.startedAt!.getTime() - q.startedAt!.getTime());
      for (let i = 1; i < runs.length; i++) expect(runs[i]!.startedAt!.getTime()).toBeGreaterThanOrEqual(runs[i - 1]!.finishedAt!.getTime());
    }
  });

  it("after kill -9, the restarted box resumes its task at once and it succeeds on attempt 2", async () => {
    // a lease far longer than the test: only the same-boxId rule can bring the task back
    const first = startBox("killed", { leaseMs: 120_000 });
    await first.ready;
    const task = await createTask(db, { type: "_sleep", args: { ms: 3000, steps: 6 } });
    await waitFor(
      "the task to make progress",
      taskWhere(task.id, (x) => x.state === "running" && x.percent > 0),
    );
    await kill(first, "SIGKILL");
    expect((await getTask(db, task.id))!.state).toBe("running");

    const second = startBox("killed", { leaseMs: 120_000, dataDir: first.dataDir });
    await second.ready;
    const done = await waitFor("the task to finish", taskWhere(task.id, finished), 20_000);
    expect(done).toMatchObject({ state: "succeeded", attempts: 2, percent: 100 });
    expect(done.leasedBy).not.toBe(null);
    const log = logOf(second, task.id);
    expect(log).toContain("=== _sleep started\n");
    expect(log).toContain("box recovered the task after an interruption; it will run again from its start");
    expect(log).toContain("=== _sleep started again from its start (try 2 of 3)");
    // resumed from its start: all six steps ran again in attempt 2
    expect(log.slice(log.indexOf("try 2 of 3")).match(/step \d of 6 done/g)).toHaveLength(6);
  });

  it("_crash kills its box; after restart the task is failed as interrupted, never left running", async () => {
    const first = startBox("crasher", { leaseMs: 120_000 });
    await first.ready;
    const task = await createTask(db, { type: "_crash", args: { afterMs: 300 } });
    const { signal } = await first.exited;
    expect(signal).toBe("SIGKILL");
    expect((await getTask(db, task.id))!.state).toBe("running");

    const second = startBox("crasher", { leaseMs: 120_000, dataDir: first.dataDir });
    await second.ready;
    const done = (await getTask(db, task.id))!; // recovery runs before "box ready"
    expect(done).toMatchObject({ state: "failed", errorCode: "interrupted", attempts: 1 });
    await sleep(500);
    expect((await getTask(db, task.id))!.state).toBe("failed");
    expect(second.child.exitCode).toBeNull();
  });

  it("_fail ends failed with task_failed and its message", async () => {
    const box = startBox("failer");
    await box.ready;
    const task = await createTask(db, { type: "_fail", args: { message: "nope, not today" } });
    const done = await waitFor("the task to finish", taskWhere(task.id, finished));
    expect(done).toMatchObject({ state: "failed", errorCode: "task_failed", errorMessage: "nope, not today", attempts: 1 });
    expect(logOf(box, task.id)).toContain("failed: task_failed: nope, not today");
  });

  it("an unknown task type ends failed with unknown_task_type", async () => {
    const box = startBox("unknown");
    await box.ready;
    const task = await createTask(db, { type: "no_such_type" });
    const done = await waitFor("the task to finish", taskWhere(task.id, finished));
    expect(done).toMatchObject({ state: "failed", errorCode: "unknown_task_type" });
  });

  it("on SIGTERM gives running tasks back (resumable → pending, _crash → interrupted) and exits 0", async () => {
    const box = startBox("graceful");
    await box.ready;
    const sleeper = await createTask(db, { type: "_sleep", args: { ms: 20_000, steps: 20 } });
    const crasher = await createTask(db, { type: "_crash", args: { afterMs: 60_000 } });
    await waitFor("both to run", async () => (await db.task.count({ where: { state: "running" } })) === 2);
    await waitFor(
      "progress",
      taskWhere(sleeper.id, (x) => x.percent > 0),
    );
    box.child.kill("SIGTERM");
    expect(await box.exited).toEqual({ code: 0, signal: null });
    expect(await getTask(db, sleeper.id)).toMatchObject({ state: "pending", attempts: 1, leasedBy: null });
    expect(await getTask(db, crasher.id)).toMatchObject({ state: "failed", errorCode: "interrupted" });
    expect(existsSync(box.socket)).toBe(false);
    expect(box.stdout.some((l) => l.includes('"msg":"box stopped"'))).toBe(true);
  });
});

describe("box socket", () => {
  it("answers /health", async () => {
    const box = startBox("health");
    await box.ready;
    const r = await call(box, "GET", "/health");
    expect(r.status).toBe(200);
    const h = JSON.parse(r.body) as BoxHealth;
    expect(h).toMatchObject({ ok: true, boxId: "health", runningTasks: 0 });
    expect(typeof h.version).toBe("string");
  });

  it("POST /wake starts a task without waiting for the poll interval", async () => {
    const box = startBox("waker", { pollMs: 600_000 });
    await box.ready;
    await sleep(500); // let the first poll, made at start, go by
    const task = await createTask(db, { type: "_sleep", args: { ms: 100, steps: 1 } });
    await sleep(1000);
    expect((await getTask(db, task.id))!.state).toBe("pending");
    const woke = Date.now();
    expect((await call(box, "POST", "/wake")).status).toBe(204);
    await waitFor("the task to finish", taskWhere(task.id, finished), 5_000);
    expect(Date.now() - woke).toBeLessThan(5_000);
    expect((await getTask(db, task.id))!.state).toBe("succeeded");
  });

  it("/tasks/:id/events streams progress and log, ending with `end`; /log serves the file", async () => {
    const box = startBox("streamer", { pollMs: 100 });
    await box.ready;
    const task = await createTask(db, { type: "_sleep", args: { ms: 2000, steps: 4 } });
    const r = await call(box, "GET", `/tasks/${task.id}/events`);
    expect(r.status).toBe(200);
    const events = parseSse(r.body);

    expect(events[0]!.event).toBe("progress");
    expect(events.at(-1)).toEqual({ event: "end", data: { state: "succeeded" } });
    const percents = events.filter((e) => e.event === "progress").map((e) => e.data.percent as number);
    expect(percents.length).toBeGreaterThanOrEqual(3);
    expect(percents).toEqual([...percents].sort((x, y) => x - y));
    expect(percents.at(-1)).toBe(100);
    const lines = events.filter((e) => e.event === "log").map((e) => e.data.line as string);
    for (let i = 1; i <= 4; i++) expect(lines.some((l) => l.endsWith(`step ${i} of 4 done`))).toBe(true);
    expect(lines.at(-1)).toMatch(/ succeeded$/);

    const log = await call(box, "GET", `/tasks/${task.id}/log`);
    expect(log.status).toBe(200);
    expect(log.body.trimEnd().split("\n")).toEqual(lines);

    const once = parseSse((await call(box, "GET", `/tasks/${task.id}/events?follow=0`)).body);
    expect(once.map((e) => e.event)).toEqual(["progress", ...lines.map(() => "log"), "end"]);
    expect((await call(box, "GET", "/tasks/nope/events")).status).toBe(404);
  });
});

describe("box bundle", () => {
  it("builds with esbuild and runs from dist/main.mjs", async () => {
    execFileSync(process.execPath, [path.join(REPO_ROOT, "apps/box/build.mjs")], { cwd: REPO_ROOT, stdio: "pipe" });
    const bundle = path.join(REPO_ROOT, "apps/box/dist/main.mjs");
    const box = startBox("bundled", { bundle });
    await box.ready;
    expect(JSON.parse((await call(box, "GET", "/health")).body)).toMatchObject({ ok: true, boxId: "bundled" });
    const task = await createTask(db, { type: "_sleep", args: { ms: 100, steps: 2 } });
    await call(box, "POST", "/wake");
    expect(await waitFor("the task to finish", taskWhere(task.id, finished))).toMatchObject({ state: "succeeded" });
  });
});
