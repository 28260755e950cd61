import type { IncomingMessage } from "node:http";
import { HearthError, type DirectEventAction } from "@hearth/contracts";
import { getApp, recordEvent } from "@hearth/db";
import { boxFiles } from "../box-client";
import type { Principal } from "./auth";
import type { AdminContext } from "./context";
import { appIdOf } from "./app-ops";

/**
 * The file manager's admin side (`/api/v1/apps/:id/files…`): admin checks who asks and what
 * (contracts files.ts), proxies to box's socket and records each change in the event log
 * (the paths, never the content). admin never touches app data itself.
 */
export async function knownApp(app: AdminContext, params: Record<string, string>): Promise<string> {
  const id = appIdOf(params);
  if (!(await getApp(app.db, id))) throw new HearthError("not_found", "No such app");
  return id;
}

export async function jsonOf(res: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString("utf8"));
}

/** A change through box, then its event; returns box's JSON answer. */
export async function fileChange(
  ctx: { app: AdminContext; params: Record<string, string>; principal: Principal; ip: string },
  op: "mkdir" | "rename" | "delete" | "text",
  method: "POST" | "PUT",
  body: Record<string, unknown>,
  action: DirectEventAction,
  data: Record<string, unknown>,
): Promise<unknown> {
  const id = await knownApp(ctx.app, ctx.params);
  const answer = await jsonOf(await boxFiles(ctx.app.config.boxSocket, id, op, { method, json: body }));
  await recordEvent(ctx.app.db, {
    action,
    actorId: ctx.principal.user.id,
    actorName: ctx.principal.user.username,
    sourceIp: ctx.ip,
    target: id,
    data: { appId: id, ...data, ...(typeof answer === "object" && answer && "size" in answer ? { size: (answer as { size: number }).size } : {}) },
  });
  return answer;
}

/**
 * `Content-Disposition: attachment` for a file's name: an ASCII fallback (anything else, and
 * quotes, backslashes and control characters, become `_`) and the exact name as RFC 5987
 * `filename*`.
 */
export function attachmentHeader(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\%;]/g, "_").trim() || "download";
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`;
}
