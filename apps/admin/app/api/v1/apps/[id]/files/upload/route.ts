import { Readable } from "node:stream";
import { FILE_UPLOAD_MAX_BYTES, fileUploadQuery, HearthError } from "@hearth/contracts";
import { recordEvent } from "@hearth/db";
import { boxFiles } from "../../../../../../../lib/box-client";
import { json } from "../../../../../../../lib/http";
import { ADMIN_ROLES } from "../../../../../../../lib/server/apps";
import { jsonOf, knownApp } from "../../../../../../../lib/server/app-files";
import { route } from "../../../../../../../lib/server/route";

export const dynamic = "force-dynamic";

/**
 * POST /api/v1/apps/:id/files/upload?path=<file>&overwrite=0|1 with the file as the raw
 * body (any content type) with its Content-Length (400 `length_required` without), at most
 * 1 GiB: streamed through to box, which writes it under a temporary name and moves it into
 * place only when exactly Content-Length bytes arrived (a cut-off upload changes nothing). 409 conflict when the file exists
 * and overwrite is not 1. Event app.files_upload (path and size).
 */
export const POST = route({ roles: ADMIN_ROLES, query: fileUploadQuery }, async ({ app, params, query, req, principal, ip }) => {
  const id = await knownApp(app, params);
  // box writes exactly this many bytes or nothing: a cut-off upload never lands as a file
  const length = req.headers.get("content-length");
  if (length === null || !/^\d{1,15}$/.test(length)) {
    throw new HearthError("invalid", "an upload needs a Content-Length header (send the file as the body, not chunked)", { details: { reason: "length_required" } });
  }
  if (Number(length) > FILE_UPLOAD_MAX_BYTES) {
    throw new HearthError("invalid", "an upload is at most 1 GiB", { details: { reason: "too_big" } });
  }
  const abort = new AbortController();
  req.signal.addEventListener("abort", () => abort.abort(), { once: true });
  const body = req.body ? Readable.fromWeb(req.body as import("node:stream/web").ReadableStream) : Readable.from([]);
  const q: Record<string, string> = { path: query.path };
  if (query.overwrite) q.overwrite = query.overwrite;
  const answer = (await jsonOf(await boxFiles(app.config.boxSocket, id, "upload", { method: "PUT", query: q, body, contentLength: length, signal: abort.signal }))) as { size: number };
  await recordEvent(app.db, {
    action: "app.files_upload",
    actorId: principal.user.id,
    actorName: principal.user.username,
    sourceIp: ip,
    target: id,
    data: { appId: id, path: query.path, size: answer.size, overwrite: query.overwrite === "1" },
  });
  return json(answer);
});
