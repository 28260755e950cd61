import { Readable } from "node:stream";
import { HearthError, TASK_ID_PATTERN, taskLogsQuery } from "@hearth/contracts";
import { taskExists } from "@hearth/db";
import { route } from "../../../../../../lib/server/route";
import { createBoxClient } from "../../../../../../lib/box-client";

export const dynamic = "force-dynamic";

/**
 * GET /api/v1/tasks/:id/logs?follow=1: the task's progress and log as server-sent events,
 * proxied from box's socket (/tasks/:id/events). 502 `external` when box is down.
 */
export const GET = route({ roles: ["owner", "admin"], query: taskLogsQuery }, async ({ app, params, query, req, log }) => {
  const id = params.id ?? "";
  const exists = TASK_ID_PATTERN.test(id) ? await taskExists(app.db, id) : false;
  if (!exists) throw new HearthError("not_found", "No such task");
  const follow = query.follow === undefined || query.follow === "1" || query.follow === "true";

  const abort = new AbortController();
  const upstream = await createBoxClient(app.config.boxSocket).streamTaskEvents(id, follow, abort.signal);
  req.signal.addEventListener("abort", () => abort.abort(), { once: true });
  upstream.on("error", (e) => {
    if (!abort.signal.aborted) log.warn({ err: e, taskId: id }, "task event stream from box broke");
  });
  const body = Readable.toWeb(upstream) as unknown as ReadableStream<Uint8Array>;
  return new Response(body, {
    status: 200,
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      "x-accel-buffering": "no",
    },
  });
});
