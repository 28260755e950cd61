import { Readable } from "node:stream";
import { HearthError, appLogsQuery } from "@hearth/contracts";
import { getApp } from "@hearth/db";
import { route } from "../../../../../../lib/server/route";
import { streamAppLogs } from "../../../../../../lib/box-client";
import { ADMIN_ROLES } from "../../../../../../lib/server/apps";
import { appIdOf } from "../../../../../../lib/server/app-ops";

export const dynamic = "force-dynamic";

/**
 * GET /api/v1/apps/:id/logs?follow=1&lines=N: the app's container log as server-sent events
 * (`event: log`, data {"line"}), proxied from box's socket (GET /apps/:id/logs). 502 external
 * when box is down or cannot stream it.
 */
export const GET = route({ roles: ADMIN_ROLES, query: appLogsQuery }, async ({ app, params, query, req, log }) => {
  const id = appIdOf(params);
  if (!(await getApp(app.db, id))) throw new HearthError("not_found", "No such app");
  const follow = query.follow === "1" || query.follow === "true";
  const abort = new AbortController();
  const upstream = await streamAppLogs(app.config.boxSocket, id, { follow, lines: query.lines ?? 100 }, abort.signal);
  req.signal.addEventListener("abort", () => abort.abort(), { once: true });
  upstream.on("error", (e) => {
    if (!abort.signal.aborted) log.warn({ err: e, appId: id }, "app log stream from box broke");
  });
  return new Response(Readable.toWeb(upstream) as unknown as ReadableStream<Uint8Array>, {
    status: 200,
    headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache, no-transform", "x-accel-buffering": "no" },
  });
});
