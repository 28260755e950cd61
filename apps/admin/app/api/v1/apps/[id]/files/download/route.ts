import { Readable } from "node:stream";
import { filePathQuery } from "@hearth/contracts";
import { boxFiles } from "../../../../../../../lib/box-client";
import { ADMIN_ROLES } from "../../../../../../../lib/server/apps";
import { attachmentHeader, knownApp } from "../../../../../../../lib/server/app-files";
import { route } from "../../../../../../../lib/server/route";

export const dynamic = "force-dynamic";

/** GET /api/v1/apps/:id/files/download?path=<file>: the file's bytes, streamed from box, as an attachment. */
export const GET = route({ roles: ADMIN_ROLES, query: filePathQuery }, async ({ app, params, query, req, log }) => {
  const id = await knownApp(app, params);
  const abort = new AbortController();
  req.signal.addEventListener("abort", () => abort.abort(), { once: true });
  const upstream = await boxFiles(app.config.boxSocket, id, "download", { method: "GET", query: { path: query.path }, signal: abort.signal });
  upstream.on("error", (e) => {
    if (!abort.signal.aborted) log.warn({ err: e, appId: id }, "file download from box broke");
  });
  const name = query.path.split("/").pop() ?? "download";
  return new Response(Readable.toWeb(upstream) as unknown as ReadableStream<Uint8Array>, {
    status: 200,
    headers: {
      "content-type": "application/octet-stream",
      "content-length": String(upstream.headers["content-length"] ?? ""),
      "content-disposition": attachmentHeader(name),
      "x-content-type-options": "nosniff",
      "cache-control": "no-store",
    },
  });
});
