import { spawnSync } from "node:child_process";
import { appendFileSync, mkdtempSync, statSync, writeFileSync, existsSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import type { BoxHealth } from "@hearth/contracts";
import { startBoxSocket, type BoxSocketDeps, type BoxSocketServer } from "./socket.server";
import type { TaskSnapshot } from "./task-events";

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function request(socketPath: string, method: string, urlPath: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, method, path: urlPath }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** Parses an SSE body into [event, data] pairs. */
function parseSse(body: string): { event: string; data: unknown }[] {
  return body
    .split("\n\n")
    .filter((b) => b.startsWith("event:"))
    .map((b) => {
      const [ev, data] = b.split("\n");
      return { event: ev!.slice("event: ".length), data: JSON.parse(data!.slice("data: ".length)) };
    });
}

const servers: BoxSocketServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

function setup(overrides: Partial<BoxSocketDeps> = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), "box-sock-"));
  const socketPath = path.join(dir, "run", "box.sock");
  const tasks = new Map<string, TaskSnapshot>();
  let wakes = 0;
  const deps: BoxSocketDeps = {
    boxId: "box-a",
    version: "9.9.9",
    startedAt: Date.now() - 5_000,
    runningTasks: () => 2,
    wake: () => void wakes++,
    getTask: async (id) => (tasks.has(id) ? { ...tasks.get(id)! } : null),
    logPath: (id) => path.join(dir, `${id}.log`),
    log: pino({ level: "silent" }),
    followPollMs: 20,
    ...overrides,
  };
  const start = async (gid?: number) => {
    const s = await startBoxSocket({ socketPath, gid }, deps);
    servers.push(s);
    return s;
  };
  return { dir, socketPath, tasks, deps, start, wakes: () => wakes };
}

const snap = (state: string, percent = 0, message = ""): TaskSnapshot => ({ state, percent, message, errorCode: null, errorMessage: null });

describe("box socket server", () => {
  it("creates the socket 0660 in its group and answers /health", async () => {
    const s = setup();
    await s.start(process.getgid!());
    const st = statSync(s.socketPath);
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o660);
    expect(st.gid).toBe(process.getgid!());
    const r = await request(s.socketPath, "GET", "/health");
    expect(r.status).toBe(200);
    const body = JSON.parse(r.body) as BoxHealth;
    expect(body).toEqual({ ok: true, version: "9.9.9", boxId: "box-a", uptimeSeconds: 5, runningTasks: 2 });
  });

  it("serves metrics for a range, refuses another range (400), an unknown app (404), and says 502 with the collector off", async () => {
    const asked: string[] = [];
    const s = setup({
      metrics: {
        app: async (id, range) => {
          asked.push(`${id}:${range}`);
          return id === "a1" ? ({ appId: id, range } as never) : null;
        },
        server: async (range) => {
          asked.push(`server:${range}`);
          return { range } as never;
        },
      },
    });
    await s.start();
    expect(JSON.parse((await request(s.socketPath, "GET", "/apps/a1/metrics?range=24h")).body)).toEqual({ appId: "a1", range: "24h" });
    expect(JSON.parse((await request(s.socketPath, "GET", "/server/metrics")).body)).toEqual({ range: "1h" });
    const bad = await request(s.socketPath, "GET", "/apps/a1/metrics?range=7d");
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).error).toEqual({ code: "invalid", message: "range must be one of 1h, 24h, 30d" });
    expect((await request(s.socketPath, "GET", "/server/metrics?range=1h&x=1")).status).toBe(400);
    expect((await request(s.socketPath, "GET", "/apps/nope/metrics")).status).toBe(404);
    expect(asked).toEqual(["a1:24h", "server:1h", "nope:1h"]);
    const off = setup();
    await off.start();
    expect((await request(off.socketPath, "GET", "/server/metrics")).status).toBe(502);
  });

  it("wakes the runner on POST /wake", async () => {
    const s = setup();
    await s.start();
    expect((await request(s.socketPath, "POST", "/wake")).status).toBe(204);
    expect(s.wakes()).toBe(1);
    const wrong = await request(s.socketPath, "GET", "/wake");
    expect(wrong.status).toBe(405);
    expect(wrong.headers.allow).toBe("POST");
  });

  it("answers unknown paths and odd task ids with a 404 in the error shape", async () => {
    const s = setup();
    await s.start();
    for (const p of ["/nope", "/tasks/x/other", "/tasks/..%2F..%2Fetc%2Fpasswd/log", "/tasks/missing/events"]) {
      const r = await request(s.socketPath, "GET", p);
      expect(r.status, p).toBe(404);
      expect(JSON.parse(r.body).error.code).toBe("not_found");
    }
  });

  it("routes /apps/:id/files/<op> to the file manager, 502 without one, 404 for an odd app id", async () => {
    const seen: string[] = [];
    const s = setup({
      appFiles: async (req, res, id, op, url) => {
        seen.push(`${req.method} ${id} ${op} ${url.searchParams.get("path")}`);
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      },
    });
    await s.start();
    expect((await request(s.socketPath, "GET", "/apps/app-1/files/list?path=a%2Fb")).status).toBe(200);
    expect(seen).toEqual(["GET app-1 list a/b"]);
    const odd = await request(s.socketPath, "GET", "/apps/..%2F..%2Fetc/files/list");
    expect(odd.status).toBe(404);
    expect(seen).toHaveLength(1);
    const bare = setup();
    bare.socketPath = path.join(bare.dir, "run", "bare.sock");
    const b = await startBoxSocket({ socketPath: bare.socketPath }, bare.deps);
    servers.push(b);
    const r = await request(bare.socketPath, "GET", "/apps/app-1/files/list");
    expect(r.status).toBe(502);
    expect(JSON.parse(r.body).error.code).toBe("external");
  });

  it("serves a task's log, 404 before it exists", async () => {
    const s = setup();
    await s.start();
    expect((await request(s.socketPath, "GET", "/tasks/t1/log")).status).toBe(404);
    writeFileSync(path.join(s.dir, "t1.log"), "2026-01-01T00:00:00.000Z hello\n");
    const r = await request(s.socketPath, "GET", "/tasks/t1/log");
    expect(r.status).toBe(200);
    expect(r.headers["content-type"]).toMatch(/^text\/plain/);
    expect(r.body).toBe("2026-01-01T00:00:00.000Z hello\n");
  });

  it("streams a finished task's state and log once, ending with `end`", async () => {
    const s = setup();
    s.tasks.set("t1", { state: "failed", percent: 40, message: "m", errorCode: "task_failed", errorMessage: "boom" });
    writeFileSync(path.join(s.dir, "t1.log"), "a\nb\n");
    await s.start();
    const r = await request(s.socketPath, "GET", "/tasks/t1/events");
    expect(r.headers["content-type"]).toMatch(/^text\/event-stream/);
    expect(parseSse(r.body)).toEqual([
      { event: "progress", data: { state: "failed", percent: 40, message: "m", error: { code: "task_failed", message: "boom" } } },
      { event: "log", data: { line: "a" } },
      { event: "log", data: { line: "b" } },
      { event: "end", data: { state: "failed" } },
    ]);
  });

  it("with follow=0 sends a running task's snapshot and closes without `end`", async () => {
    const s = setup();
    s.tasks.set("t1", snap("running", 10, "working"));
    writeFileSync(path.join(s.dir, "t1.log"), "a\n");
    await s.start();
    const events = parseSse((await request(s.socketPath, "GET", "/tasks/t1/events?follow=0")).body);
    expect(events.map((e) => e.event)).toEqual(["progress", "log"]);
  });

  it("follows a running task: new log lines, progress changes, then `end`", async () => {
    const s = setup();
    const log = path.join(s.dir, "t1.log");
    s.tasks.set("t1", snap("pending"));
    await s.start();
    const reply = request(s.socketPath, "GET", "/tasks/t1/events");
    const step = () => new Promise((r) => setTimeout(r, 60));
    await step();
    s.tasks.set("t1", snap("running", 0));
    appendFileSync(log, "start\npart");
    await step();
    appendFileSync(log, "ial line\n");
    s.tasks.set("t1", snap("running", 50, "half"));
    await step();
    appendFileSync(log, "done\n");
    s.tasks.set("t1", snap("succeeded", 100, "half"));
    const events = parseSse((await reply).body);
    // Log lines and progress are each in order; how they interleave depends on when the polls
    // fall. What is guaranteed: the whole log comes before `end`, and `end` is last.
    expect(events.filter((e) => e.event === "log").map((e) => e.data)).toEqual([{ line: "start" }, { line: "partial line" }, { line: "done" }]);
    expect(events.filter((e) => e.event === "progress").map((e) => e.data)).toEqual([
      { state: "pending", percent: 0, message: "", error: null },
      { state: "running", percent: 0, message: "", error: null },
      { state: "running", percent: 50, message: "half", error: null },
      { state: "succeeded", percent: 100, message: "half", error: null },
    ]);
    expect(events.at(-1)).toEqual({ event: "end", data: { state: "succeeded" } });
  });

  it("replaces a stale socket file but not a live socket or a regular file", async () => {
    const s = setup();
    // a socket file whose process died without cleaning up
    const { mkdirSync } = await import("node:fs");
    mkdirSync(path.dirname(s.socketPath), { recursive: true });
    const r = spawnSync(process.execPath, ["-e", "require('net').createServer().listen(process.argv[1], () => process.kill(process.pid, 'SIGKILL'))", s.socketPath]);
    expect(r.signal).toBe("SIGKILL");
    expect(statSync(s.socketPath).isSocket()).toBe(true);
    const server = await s.start();
    expect((await request(s.socketPath, "GET", "/health")).status).toBe(200);

    // a second box on the same path must not steal it
    await expect(startBoxSocket({ socketPath: s.socketPath }, s.deps)).rejects.toThrow(/another process is listening/);
    await server.close();
    expect(existsSync(s.socketPath)).toBe(false);

    writeFileSync(s.socketPath, "not a socket");
    await expect(startBoxSocket({ socketPath: s.socketPath }, s.deps)).rejects.toThrow(/is not a socket/);
  });

  it("closes open event streams when it closes", async () => {
    const s = setup();
    s.tasks.set("t1", snap("running"));
    const server = await s.start();
    const ended = new Promise<void>((resolve) => {
      const c = net.connect(s.socketPath, () => c.write("GET /tasks/t1/events HTTP/1.1\r\nHost: box\r\n\r\n"));
      c.on("close", () => resolve());
      c.resume();
    });
    await new Promise((r) => setTimeout(r, 50));
    await server.close();
    await ended;
  });
});
