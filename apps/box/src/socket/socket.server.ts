import { chmod, chown, lstat, mkdir, stat, unlink } from "node:fs/promises";
import { createReadStream } from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import type { Duplex } from "node:stream";
import { HearthError, metricsQuery, TASK_ID_PATTERN, terminalAppIdOf, type AppMetricsResponse, type BoxHealth, type ErrorCode, type MetricsRange, type ServerMetricsResponse } from "@hearth/contracts";
import type { Logger } from "../logger";
import { streamTaskEvents, type TaskSnapshot } from "./task-events";

/**
 * The admin ↔ box unix-socket server (protocol: packages/contracts/src/box-socket.ts).
 * Plain node:http on a unix socket; who may connect is decided by the socket file's mode
 * (0660) and group, so there is no other authentication.
 */
export interface BoxSocketDeps {
  boxId: string;
  version: string;
  /** Process start, ms since the epoch. */
  startedAt: number;
  runningTasks(): number;
  wake(): void;
  getTask(id: string): Promise<TaskSnapshot | null>;
  logPath(id: string): string;
  log: Logger;
  /** How often a followed event stream looks at the log file and the task row. */
  followPollMs?: number;
  /** GET /apps/:id/logs (apps/app-logs.ts); 502 `external` when absent. */
  appLogs?(req: http.IncomingMessage, res: http.ServerResponse, appId: string, url: URL): Promise<void>;
  /** GET /apps/:id/metrics and /server/metrics (metrics/metrics.service.ts); 502 `external` when absent (collector off). */
  metrics?: {
    app(appId: string, range: MetricsRange): Promise<AppMetricsResponse | null>;
    server(range: MetricsRange): Promise<ServerMetricsResponse>;
  };
  /** GET /apps/:id/terminal, a WebSocket upgrade (apps/app-terminal.ts); refused with 502 when absent. */
  appTerminal?(req: http.IncomingMessage, socket: Duplex, head: Buffer, appId: string, url: URL): Promise<void>;
  /** /apps/:id/files/<op> (files/files-socket.ts); 502 `external` when absent. */
  appFiles?(req: http.IncomingMessage, res: http.ServerResponse, appId: string, op: string, url: URL): Promise<void>;
}

export interface BoxSocketOptions {
  socketPath: string;
  /** chgrp the socket to this gid (so admin's user, in that group, can connect). */
  gid?: number | null;
}

export interface BoxSocketServer {
  server: http.Server;
  close(): Promise<void>;
}

function sendError(res: http.ServerResponse, status: number, code: ErrorCode, message: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ error: { code, message } });
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body), ...headers });
  res.end(body);
}

function sendJson(res: http.ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

type Route = { method: string; handle: (req: http.IncomingMessage, res: http.ServerResponse, url: URL, id: string) => Promise<void> | void };

export function createRequestHandler(deps: BoxSocketDeps) {
  const health: Route = {
    method: "GET",
    handle: (_req, res) => {
      const body: BoxHealth = {
        ok: true,
        version: deps.version,
        boxId: deps.boxId,
        uptimeSeconds: Math.floor((Date.now() - deps.startedAt) / 1000),
        runningTasks: deps.runningTasks(),
      };
      sendJson(res, 200, body);
    },
  };
  const wake: Route = {
    method: "POST",
    handle: (req, res) => {
      req.resume(); // no body expected; drain whatever came
      deps.wake();
      res.writeHead(204).end();
    },
  };
  const taskLog: Route = {
    method: "GET",
    handle: async (_req, res, _url, id) => {
      const file = deps.logPath(id);
      let size: number;
      try {
        size = (await stat(file)).size;
      } catch {
        return sendError(res, 404, "not_found", "this task has no log yet");
      }
      res.writeHead(200, { "content-type": "text/plain; charset=utf-8", "content-length": size, "cache-control": "no-store" });
      if (size === 0) return void res.end();
      // exactly the bytes that existed when we looked, so content-length holds while it grows
      createReadStream(file, { start: 0, end: size - 1 })
        .on("error", () => res.destroy())
        .pipe(res);
    },
  };
  const taskEvents: Route = {
    method: "GET",
    handle: async (req, res, url, id) => {
      const task = await deps.getTask(id);
      if (!task) return sendError(res, 404, "not_found", "no such task");
      const follow = !["0", "false", "no"].includes(url.searchParams.get("follow") ?? "1");
      await streamTaskEvents(req, res, {
        first: task,
        getTask: () => deps.getTask(id),
        logPath: deps.logPath(id),
        follow,
        pollMs: deps.followPollMs ?? 500,
      });
    },
  };

  const appLogs: Route = {
    method: "GET",
    handle: async (req, res, url, id) => {
      if (!deps.appLogs) return sendError(res, 502, "external", "this box does not stream app logs");
      await deps.appLogs(req, res, id, url);
    },
  };

  const rangeOf = (url: URL): MetricsRange | { error: string } => {
    const q = metricsQuery.safeParse(Object.fromEntries(url.searchParams));
    return q.success ? q.data.range : { error: q.error.issues.map((i) => i.message).join("; ") };
  };
  const appMetrics: Route = {
    method: "GET",
    handle: async (_req, res, url, id) => {
      if (!deps.metrics) return sendError(res, 502, "external", "this box does not collect metrics (HEARTH_METRICS=off)");
      const range = rangeOf(url);
      if (typeof range === "object") return sendError(res, 400, "invalid", range.error);
      const body = await deps.metrics.app(id, range);
      if (!body) return sendError(res, 404, "not_found", "no such app");
      sendJson(res, 200, body);
    },
  };
  const serverMetrics: Route = {
    method: "GET",
    handle: async (_req, res, url) => {
      if (!deps.metrics) return sendError(res, 502, "external", "this box does not collect metrics (HEARTH_METRICS=off)");
      const range = rangeOf(url);
      if (typeof range === "object") return sendError(res, 400, "invalid", range.error);
      sendJson(res, 200, await deps.metrics.server(range));
    },
  };

  return async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    try {
      const url = new URL(req.url ?? "/", "http://box");
      let route: Route | undefined;
      let id = "";
      if (url.pathname === "/health") route = health;
      else if (url.pathname === "/wake") route = wake;
      else if (url.pathname === "/server/metrics") route = serverMetrics;
      else {
        const m = /^\/tasks\/([^/]+)\/(log|events)$/.exec(url.pathname);
        if (m) {
          id = decodeURIComponent(m[1]!);
          // ids name files on disk: anything unusual cannot be a task of ours
          if (!TASK_ID_PATTERN.test(id)) return sendError(res, 404, "not_found", "no such task");
          route = m[2] === "log" ? taskLog : taskEvents;
        }
      }
      if (!route) {
        const m = /^\/apps\/([^/]+)\/(logs|metrics)$/.exec(url.pathname);
        if (m) {
          id = decodeURIComponent(m[1]!);
          if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) return sendError(res, 404, "not_found", "no such app");
          route = m[2] === "logs" ? appLogs : appMetrics;
        }
      }
      if (!route) {
        const m = /^\/apps\/([^/]+)\/files\/([a-z]+)$/.exec(url.pathname);
        if (m) {
          id = decodeURIComponent(m[1]!);
          if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) return sendError(res, 404, "not_found", "no such app");
          if (!deps.appFiles) return sendError(res, 502, "external", "this box has no file manager");
          // the method is checked per operation there
          return await deps.appFiles(req, res, id, m[2]!, url);
        }
      }
      if (!route) return sendError(res, 404, "not_found", "no such endpoint");
      if (req.method !== route.method) {
        return sendError(res, 405, "invalid", `use ${route.method}`, { allow: route.method });
      }
      await route.handle(req, res, url, id);
    } catch (e) {
      if (e instanceof HearthError && e.code === "not_found") return sendError(res, 404, "not_found", e.message);
      deps.log.error({ err: e, path: req.url }, "socket request failed");
      sendError(res, 500, "internal", "Internal error");
    }
  };
}

/** A plain HTTP refusal on a socket that asked for an upgrade (the client sees the status and error body). */
export function refuseUpgrade(socket: Duplex, status: number, code: ErrorCode, message: string): void {
  const body = JSON.stringify({ error: { code, message } });
  socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? "Error"}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/** The socket's WebSocket upgrades: only GET /apps/:id/terminal. */
export function createUpgradeHandler(deps: BoxSocketDeps) {
  return async (req: http.IncomingMessage, socket: Duplex, head: Buffer): Promise<void> => {
    socket.on("error", () => socket.destroy());
    try {
      const url = new URL(req.url ?? "/", "http://box");
      const appId = terminalAppIdOf(url.pathname, "");
      if (!appId || req.method !== "GET") return refuseUpgrade(socket, 404, "not_found", "no such endpoint");
      if (!deps.appTerminal) return refuseUpgrade(socket, 502, "external", "this box does not open terminals");
      await deps.appTerminal(req, socket, head, appId, url);
    } catch (e) {
      deps.log.error({ err: e, path: req.url }, "socket upgrade failed");
      if (socket.writable) refuseUpgrade(socket, 500, "internal", "Internal error");
    }
  };
}

/** Fails if a live process answers on the socket path; removes a stale socket file. */
async function clearStaleSocket(socketPath: string): Promise<void> {
  let st;
  try {
    st = await lstat(socketPath);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
    throw e;
  }
  if (!st.isSocket()) throw new Error(`${socketPath} exists and is not a socket; refusing to replace it`);
  const alive = await new Promise<boolean>((resolve) => {
    const c = net.connect(socketPath);
    c.once("connect", () => {
      c.destroy();
      resolve(true);
    });
    c.once("error", () => resolve(false));
  });
  if (alive) throw new Error(`another process is listening on ${socketPath}`);
  await unlink(socketPath);
}

export async function startBoxSocket(opts: BoxSocketOptions, deps: BoxSocketDeps): Promise<BoxSocketServer> {
  await mkdir(path.dirname(opts.socketPath), { recursive: true, mode: 0o750 });
  await clearStaleSocket(opts.socketPath);

  const handler = createRequestHandler(deps);
  const server = http.createServer((req, res) => void handler(req, res));
  const upgrade = createUpgradeHandler(deps);
  server.on("upgrade", (req, socket, head) => void upgrade(req, socket, head));
  // event streams stay open for as long as a task runs
  server.requestTimeout = 0;
  server.headersTimeout = 10_000;

  // Create the socket file as 0660 from the start (umask), not world-connectable until chmod.
  const oldUmask = process.umask(0o117);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(opts.socketPath, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } finally {
    process.umask(oldUmask);
  }
  await chmod(opts.socketPath, 0o660);
  if (opts.gid !== undefined && opts.gid !== null) {
    try {
      await chown(opts.socketPath, -1, opts.gid);
    } catch (e) {
      server.close();
      throw new Error(`cannot give the socket ${opts.socketPath} to group ${opts.gid} (${(e as NodeJS.ErrnoException).code}); ` + "run box as a member of that group or set HEARTH_SOCKET_GROUP", {
        cause: e,
      });
    }
  }

  let closing: Promise<void> | null = null;
  return {
    server,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // open event streams would hold close() forever
        server.closeAllConnections();
      }).then(() => unlink(opts.socketPath).catch(() => {}));
      return closing;
    },
  };
}
