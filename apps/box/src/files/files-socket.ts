import type http from "node:http";
import type { z } from "zod";
import { FILE_TEXT_BODY_MAX_BYTES, FILE_UPLOAD_MAX_BYTES, fileListQuery, filePathBody, filePathQuery, fileRenameBody, fileTextBody, fileUploadQuery, HearthError } from "@hearth/contracts";
import type { FilesService } from "./files.service";

/**
 * box's socket side of the file manager (contracts box-socket.ts): `/apps/:id/files/<op>`.
 * GET list?path&offset&limit · GET download?path (the bytes; x-hearth-file-size) ·
 * GET text?path · PUT text (JSON fileTextBody) · PUT upload?path&overwrite (the raw body,
 * streamed; Content-Length required, and a body that ends before it saves nothing) · POST mkdir|rename|delete (JSON). Errors: `{ error: { code, message, details } }`.
 */
export const FILE_OPS: Record<string, string> = { list: "GET", download: "GET", text: "GET|PUT", upload: "PUT", mkdir: "POST", rename: "POST", delete: "POST" };

function check<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const reason = (issue as { params?: { reason?: string } }).params?.reason ?? "invalid";
  throw new HearthError("invalid", `${issue.path.join(".") || "request"}: ${issue.message}`, { details: { reason } });
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > FILE_TEXT_BODY_MAX_BYTES) throw new HearthError("invalid", "the request body is too large", { details: { reason: "too_big" } });
    chunks.push(c as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new HearthError("invalid", "the request body is not JSON");
  }
}

const query = (url: URL) => Object.fromEntries(url.searchParams);

function sendJson(res: http.ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

export async function handleFilesRequest(files: FilesService, req: http.IncomingMessage, res: http.ServerResponse, appId: string, op: string, url: URL): Promise<void> {
  try {
    const method = req.method ?? "GET";
    const allowed = FILE_OPS[op];
    if (!allowed) throw new HearthError("not_found", "no such endpoint");
    if (!allowed.split("|").includes(method)) {
      res.setHeader("allow", allowed.replace("|", ", "));
      throw new HearthError("invalid", `use ${allowed.replace("|", " or ")}`);
    }
    if (op === "list") {
      const q = check(fileListQuery, query(url));
      return sendJson(res, 200, await files.list(appId, q.path ?? "", q.offset ?? 0, q.limit ?? 200));
    }
    if (op === "download") {
      const q = check(filePathQuery, query(url));
      const abort = new AbortController();
      res.on("close", () => abort.abort());
      await files.download(
        appId,
        q.path,
        (size) => {
          res.writeHead(200, { "content-type": "application/octet-stream", "content-length": size, "x-hearth-file-size": String(size) });
          return res;
        },
        abort.signal,
      );
      res.end();
      return;
    }
    if (op === "text" && method === "GET") {
      const q = check(filePathQuery, query(url));
      const t = await files.readText(appId, q.path);
      return sendJson(res, 200, { path: q.path, ...t });
    }
    if (op === "text") {
      const b = check(fileTextBody, await readJson(req));
      const size = await files.writeText(appId, b.path, b.content, b.overwrite ?? true);
      return sendJson(res, 200, { path: b.path, size });
    }
    if (op === "upload") {
      const q = check(fileUploadQuery, query(url));
      // the announced length is what the helper must receive: a cut-off body saves nothing
      const header = req.headers["content-length"];
      if (header === undefined || !/^\d{1,15}$/.test(header)) {
        throw new HearthError("invalid", "an upload needs a Content-Length header", { details: { reason: "length_required" } });
      }
      const declared = Number(header);
      if (declared > FILE_UPLOAD_MAX_BYTES) throw new HearthError("invalid", `an upload is at most ${FILE_UPLOAD_MAX_BYTES} bytes (1 GiB)`, { details: { reason: "too_big" } });
      const abort = new AbortController();
      req.on("aborted", () => abort.abort());
      const size = await files.write(appId, q.path, req, { replace: q.overwrite === "1", size: declared, signal: abort.signal });
      return sendJson(res, 200, { path: q.path, size });
    }
    const body = await readJson(req);
    if (op === "mkdir") {
      const b = check(filePathBody, body);
      await files.mkdir(appId, b.path);
      return sendJson(res, 200, { path: b.path });
    }
    if (op === "rename") {
      const b = check(fileRenameBody, body);
      await files.rename(appId, b.from, b.to);
      return sendJson(res, 200, { from: b.from, to: b.to });
    }
    const b = check(filePathBody, body);
    const removed = await files.delete(appId, b.path);
    return sendJson(res, 200, { path: b.path, removed });
  } catch (e) {
    if (!(e instanceof HearthError)) throw e;
    if (res.headersSent) return void res.destroy();
    if (!req.complete) req.resume(); // drain what is left of a refused upload
    const body = JSON.stringify(e.toWire());
    res.writeHead(e.status, { "content-type": "application/json", "content-length": Buffer.byteLength(body), connection: "close" });
    res.end(body);
  }
}
