import type http from "node:http";
import type { AppLogStreamEvent } from "@hearth/contracts";
import type { DockerApi } from "../docker/docker";
import { containerNameOf } from "./container-spec";

/**
 * GET /apps/:id/logs on box's socket (protocol in contracts/box-socket.ts): the app
 * container's output as server-sent events — `lines` lines of history, then with follow new
 * lines until the client goes away; `end` when the container stops or is gone.
 */
export interface AppLogsOptions {
  docker: DockerApi;
  /** Does this store know the app? (404 otherwise) */
  appExists(appId: string): Promise<boolean>;
}

export const DEFAULT_LOG_LINES = 100;
export const MAX_LOG_LINES = 10_000;

function send(res: http.ServerResponse, e: AppLogStreamEvent): void {
  const { type, ...data } = e;
  res.write(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
}

export async function streamAppLogs(o: AppLogsOptions, _req: http.IncomingMessage, res: http.ServerResponse, appId: string, url: URL): Promise<void> {
  const fail = (status: number, code: string, message: string) => {
    const body = JSON.stringify({ error: { code, message } });
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
    res.end(body);
  };
  if (!(await o.appExists(appId))) return fail(404, "not_found", "no such app");
  const rawLines = url.searchParams.get("lines");
  const lines = rawLines === null ? DEFAULT_LOG_LINES : Number(rawLines);
  if (!Number.isInteger(lines) || lines < 0 || lines > MAX_LOG_LINES) return fail(400, "invalid", `lines must be 0..${MAX_LOG_LINES}`);
  const follow = ["1", "true", "yes"].includes(url.searchParams.get("follow") ?? "0");

  res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store", "x-accel-buffering": "no" });
  const name = containerNameOf(appId);
  const c = await o.docker.inspectContainer(name);
  if (!c) {
    send(res, { type: "end" });
    return void res.end();
  }
  let stream: NodeJS.ReadableStream & { destroy?: () => void };
  try {
    stream = await o.docker.logs(c.id, { follow: follow && c.running, tail: lines });
  } catch {
    send(res, { type: "end" });
    return void res.end();
  }
  let partial = "";
  // the response's close (not the request's) tells that the client went away
  const onGone = () => stream.destroy?.();
  res.on("close", onGone);
  await new Promise<void>((resolve) => {
    stream.on("data", (chunk: Buffer) => {
      partial += chunk.toString("utf8");
      const parts = partial.split("\n");
      partial = parts.pop() ?? "";
      for (const line of parts) send(res, { type: "log", line: line.replace(/\r$/, "") });
    });
    stream.on("end", resolve);
    stream.on("close", resolve);
    stream.on("error", () => resolve());
  });
  res.off("close", onGone);
  if (partial) send(res, { type: "log", line: partial });
  if (!res.destroyed) {
    send(res, { type: "end" });
    res.end();
  }
}
