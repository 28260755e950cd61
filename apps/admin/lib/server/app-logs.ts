import { Readable } from "node:stream";
import { HearthError, type AppLogsQuery } from "@hearth/contracts";
import { getApp } from "@hearth/db";
import type { Logger } from "../logger";
import { streamAppLogs } from "../box-client";
import type { AdminContext } from "./context";

/**
 * GET /api/v1/apps/:id/logs and …/logs/download: the app's log proxied from box's socket
 * (GET /apps/:id/logs, contracts/box-socket.ts). Events by default; `format=text` (and the
 * download route) the whole kept log as a text/plain attachment. 404 for an unknown app, 502
 * external when box is down or cannot serve it.
 */
export async function appLogsResponse(o: { app: AdminContext; id: string; query: AppLogsQuery; req: Request; log: Logger }): Promise<Response> {
  const row = await getApp(o.app.db, o.id);
  if (!row) throw new HearthError("not_found", "No such app");
  const text = o.query.format === "text";
  const follow = !text && (o.query.follow === "1" || o.query.follow === "true");
  const abort = new AbortController();
  const upstream = await streamAppLogs(
    o.app.config.boxSocket,
    o.id,
    { follow, lines: o.query.lines ?? 100, before: o.query.before, q: o.query.q, health: o.query.health === "1", format: text ? "text" : "events" },
    abort.signal,
  );
  o.req.signal.addEventListener("abort", () => abort.abort(), { once: true });
  upstream.on("error", (e) => {
    if (!abort.signal.aborted) o.log.warn({ err: e, appId: o.id }, "app log stream from box broke");
  });
  const body = Readable.toWeb(upstream) as unknown as ReadableStream<Uint8Array>;
  if (text) {
    const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, "-");
    const name = `${row.subdomain || "app"}.${row.domain}-${stamp}.log`.replace(/[^A-Za-z0-9._-]/g, "_");
    return new Response(body, {
      status: 200,
      headers: { "content-type": "text/plain; charset=utf-8", "content-disposition": `attachment; filename="${name}"`, "cache-control": "no-store", "x-content-type-options": "nosniff" },
    });
  }
  return new Response(body, {
    status: 200,
    headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache, no-transform", "x-accel-buffering": "no" },
  });
}
