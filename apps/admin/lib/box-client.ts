import http from "node:http";
import type { IncomingMessage } from "node:http";
import { HearthError, type BoxHealth } from "@hearth/contracts";

/**
 * admin → box over the unix socket (see packages/contracts/src/box-socket.ts). admin never
 * changes the machine itself; it records intent in the database and wakes box.
 */
export interface BoxClient {
  health(timeoutMs?: number): Promise<BoxHealth>;
  wake(): Promise<void>;
  /** The task's SSE stream; the caller owns (and must destroy) the returned response. */
  streamTaskEvents(taskId: string, follow: boolean, signal?: AbortSignal): Promise<IncomingMessage>;
}

function unreachable(socketPath: string, cause: unknown): HearthError {
  const code = (cause as NodeJS.ErrnoException)?.code ?? "error";
  return new HearthError("external", `box is not reachable (${code})`, { cause, details: { socket: socketPath } });
}

function request(socketPath: string, opts: { method: string; path: string; timeoutMs?: number; signal?: AbortSignal }): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, method: opts.method, path: opts.path, headers: { accept: "*/*" }, signal: opts.signal });
    let timer: NodeJS.Timeout | undefined;
    if (opts.timeoutMs !== undefined) {
      timer = setTimeout(() => req.destroy(Object.assign(new Error("timed out"), { code: "ETIMEDOUT" })), opts.timeoutMs);
    }
    req.on("response", (res) => {
      if (timer) clearTimeout(timer);
      resolve(res);
    });
    req.on("error", (e) => {
      if (timer) clearTimeout(timer);
      reject(unreachable(socketPath, e));
    });
    req.end();
  });
}

async function readBody(res: IncomingMessage, limit = 1024 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      res.destroy();
      throw new HearthError("external", "box answered with too much data");
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

export function createBoxClient(socketPath: string): BoxClient {
  return {
    async health(timeoutMs = 1000) {
      const res = await request(socketPath, { method: "GET", path: "/health", timeoutMs });
      const body = await readBody(res);
      if (res.statusCode !== 200) throw new HearthError("external", `box health answered ${res.statusCode}`);
      try {
        return JSON.parse(body) as BoxHealth;
      } catch (e) {
        throw new HearthError("external", "box health answered junk", { cause: e });
      }
    },

    async wake() {
      const res = await request(socketPath, { method: "POST", path: "/wake", timeoutMs: 2000 });
      res.resume();
      if (res.statusCode !== 204 && res.statusCode !== 200) throw new HearthError("external", `box wake answered ${res.statusCode}`);
    },

    async streamTaskEvents(taskId, follow, signal) {
      const path = `/tasks/${encodeURIComponent(taskId)}/events?follow=${follow ? 1 : 0}`;
      const res = await request(socketPath, { method: "GET", path, signal });
      if (res.statusCode === 200) return res;
      const body = await readBody(res).catch(() => "");
      if (res.statusCode === 404) throw new HearthError("not_found", "no such task");
      throw new HearthError("external", `box answered ${res.statusCode}`, { details: { body: body.slice(0, 200) } });
    },
  };
}

/** True when box answers GET /health within `timeoutMs`. */
export async function boxIsUp(box: BoxClient, timeoutMs = 1000): Promise<boolean> {
  try {
    await box.health(timeoutMs);
    return true;
  } catch {
    return false;
  }
}

/** What admin asks box for on GET /apps/:id/logs (contracts appLogsQuery; admin has checked it). */
export interface AppLogsRequest {
  follow: boolean;
  lines: number;
  before?: string;
  q?: string;
  health?: boolean;
  format?: "events" | "text";
}

/**
 * The app's log from box (`GET /apps/:id/logs`): server-sent events, or with format=text the
 * whole kept log as text/plain. A box that does not serve this yet (404 for an app admin
 * knows) or answers anything else → 502 external; a query box refuses → 400 invalid.
 */
export async function streamAppLogs(socketPath: string, appId: string, q: AppLogsRequest, signal?: AbortSignal): Promise<IncomingMessage> {
  const extra = new URLSearchParams();
  if (q.before !== undefined) extra.set("before", q.before);
  if (q.q !== undefined) extra.set("q", q.q);
  if (q.health) extra.set("health", "1");
  if (q.format === "text") extra.set("format", "text");
  const rest = extra.toString();
  const path = `/apps/${encodeURIComponent(appId)}/logs?follow=${q.follow ? 1 : 0}&lines=${q.lines}${rest ? `&${rest}` : ""}`;
  const res = await request(socketPath, { method: "GET", path, signal });
  if (res.statusCode === 200) return res;
  const body = await readBody(res).catch(() => "");
  if (res.statusCode === 400) {
    let message = "box refused the log query";
    try {
      message = (JSON.parse(body) as { error: { message: string } }).error.message;
    } catch {
      // keep the generic message
    }
    throw new HearthError("invalid", message);
  }
  throw new HearthError("external", res.statusCode === 404 ? "box cannot stream this app's logs (yet)" : `box answered ${res.statusCode}`, {
    details: { body: body.slice(0, 200) },
  });
}

/**
 * The metrics box keeps (`GET /apps/:id/metrics` or `/server/metrics` on the socket, range
 * already checked by admin): the parsed JSON. 404 → not_found, 400 → invalid, box down or
 * collector off → 502 external.
 */
export async function fetchBoxMetrics(socketPath: string, what: { appId: string } | "server", range: string): Promise<unknown> {
  const path = what === "server" ? `/server/metrics?range=${encodeURIComponent(range)}` : `/apps/${encodeURIComponent(what.appId)}/metrics?range=${encodeURIComponent(range)}`;
  const res = await request(socketPath, { method: "GET", path, timeoutMs: 10_000 });
  const body = await readBody(res, 8 * 1024 * 1024);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (e) {
    throw new HearthError("external", `box answered ${res.statusCode} with junk`, { cause: e });
  }
  if (res.statusCode === 200) return parsed;
  const message = (parsed as { error?: { message?: string } })?.error?.message ?? `box answered ${res.statusCode}`;
  if (res.statusCode === 404) throw new HearthError("not_found", message);
  if (res.statusCode === 400) throw new HearthError("invalid", message);
  throw new HearthError("external", message);
}

/**
 * The file manager on box (`/apps/:id/files/<op>`, apps/box/src/files/files-socket.ts): the
 * request as given (a JSON body, or a stream for an upload), box's answer on 200; box's
 * `{ error }` answers become the same HearthError (code, message, details).
 */
export async function boxFiles(
  socketPath: string,
  appId: string,
  op: string,
  o: { method: string; query?: Record<string, string>; json?: unknown; body?: NodeJS.ReadableStream; contentLength?: string | null; signal?: AbortSignal },
): Promise<IncomingMessage> {
  const qs = new URLSearchParams(o.query ?? {}).toString();
  const reqPath = `/apps/${encodeURIComponent(appId)}/files/${op}${qs ? `?${qs}` : ""}`;
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const headers: Record<string, string> = { accept: "*/*" };
    if (o.json !== undefined) headers["content-type"] = "application/json";
    if (o.contentLength) headers["content-length"] = o.contentLength;
    const req = http.request({ socketPath, method: o.method, path: reqPath, headers, signal: o.signal });
    req.on("response", resolve);
    req.on("error", (e) => reject(unreachable(socketPath, e)));
    if (o.json !== undefined) req.end(JSON.stringify(o.json));
    else if (o.body) {
      o.body.on("error", (e) => req.destroy(e));
      o.body.pipe(req);
    } else req.end();
  });
  if (res.statusCode === 200) return res;
  const text = await readBody(res).catch(() => "");
  let err: { code?: string; message?: string; details?: unknown } | undefined;
  try {
    err = (JSON.parse(text) as { error?: typeof err }).error;
  } catch {
    // not box's error shape
  }
  const codes = ["not_found", "conflict", "bad_state", "invalid", "forbidden", "external"] as const;
  const code = codes.find((c) => c === err?.code);
  if (code && err?.message) throw new HearthError(code, err.message, { details: err.details });
  throw new HearthError("external", `box answered ${res.statusCode}`, { details: { body: text.slice(0, 200) } });
}
