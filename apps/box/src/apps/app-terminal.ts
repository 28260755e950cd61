import { randomUUID } from "node:crypto";
import type http from "node:http";
import type { Duplex } from "node:stream";
import { TERMINAL_CLOSE, TERMINAL_MAX_FRAME_BYTES, terminalControl, terminalSize } from "@hearth/contracts";
import { type WebSocket, WebSocketServer } from "ws";
import type { DockerApi } from "../docker/docker";
import type { Logger } from "../logger";
import { refuseUpgrade } from "../socket/socket.server";
import { containerNameOf } from "./container-spec";

/**
 * GET /apps/:id/terminal on box's socket, a WebSocket (protocol: contracts terminal.ts): a
 * shell in the app's running container through the Docker layer's `execShell` (TTY; bash when
 * the image has it). Bytes are relayed as they are and never logged. The session ends when the
 * shell exits, when the container stops or is removed (the exec's stream ends with it), or
 * when admin closes the WebSocket. Docker cannot kill an exec and a closed stdin does not end
 * what runs in the shell, so the shell is started with `HEARTH_TERMINAL=<uuid>` in its
 * environment and closing the session runs the Docker layer's `endTaggedExecs`: SIGHUP, then
 * SIGKILL, to every process of the container that carries the tag.
 */
export interface AppTerminalOptions {
  docker: DockerApi;
  appExists(appId: string): Promise<boolean>;
  log: Logger;
}

/** Output is paused while this much is waiting to go to admin (a `yes` in the shell stays bounded). */
const HIGH_WATER = 1024 * 1024;

/** After the shell's stream ends: how often and how long to look whether the container stopped. */
const STOP_CHECKS = 5;
const STOP_CHECK_MS = 300;

const wss = new WebSocketServer({ noServer: true, maxPayload: TERMINAL_MAX_FRAME_BYTES, perMessageDeflate: false });

export async function handleAppTerminal(o: AppTerminalOptions, req: http.IncomingMessage, socket: Duplex, head: Buffer, appId: string, url: URL): Promise<void> {
  // a handshake ws would refuse must fail before a shell is started (ws then never calls back)
  if (!isWebSocketHandshake(req)) return refuseUpgrade(socket, 400, "invalid", "not a valid WebSocket handshake");
  const size = terminalSize.safeParse(Object.fromEntries(url.searchParams));
  if (!size.success) return refuseUpgrade(socket, 400, "invalid", "cols and rows must be whole numbers in range");
  if (!(await o.appExists(appId))) return refuseUpgrade(socket, 404, "not_found", "no such app");
  const name = containerNameOf(appId);
  const state = await o.docker.inspectContainer(name);
  if (!state?.running) return refuseUpgrade(socket, 409, "bad_state", "the app is not running: start it to open a terminal");
  if (!o.docker.execShell) return refuseUpgrade(socket, 502, "external", "this box cannot open a shell");
  let shell: Awaited<ReturnType<NonNullable<DockerApi["execShell"]>>>;
  // the shell and all it starts carry this tag: closing the session ends them (endTaggedExecs)
  const tag = randomUUID();
  try {
    shell = await o.docker.execShell(state.id, size.data, tag);
  } catch (e) {
    o.log.warn({ err: e, appId }, "terminal: could not start a shell");
    return refuseUpgrade(socket, 409, "bad_state", "could not start a shell in the app's container");
  }
  const end = () => {
    shell.stream.destroy();
    void o.docker.endTaggedExecs?.(state.id, tag).catch((e: unknown) => o.log.warn({ err: e, appId }, "terminal: could not end the shell's processes"));
  };
  // ws.handleUpgrade never calls back for a socket that closed or half-closed meanwhile: then
  // the shell is ended here, or it would run on with nobody attached
  let handed = false;
  if (socket.destroyed) return end();
  socket.once("close", () => {
    if (!handed) end();
  });
  wss.handleUpgrade(req, socket, head, (ws) => {
    handed = true;
    relay(o, ws, shell, appId, state.id, end);
  });
}

/** What ws checks of a handshake before it upgrades (RFC 6455 4.2.1): GET, a 16-byte key, version 13. */
export function isWebSocketHandshake(req: http.IncomingMessage): boolean {
  const key = req.headers["sec-websocket-key"];
  return (
    req.method === "GET" &&
    (req.headers.upgrade ?? "").toLowerCase() === "websocket" &&
    typeof key === "string" &&
    /^[+/0-9A-Za-z]{22}==$/.test(key.trim()) &&
    req.headers["sec-websocket-version"] === "13"
  );
}

function relay(o: AppTerminalOptions, ws: WebSocket, shell: { stream: Duplex; resize(s: { cols: number; rows: number }): Promise<void> }, appId: string, containerId: string, end: () => void): void {
  const { stream } = shell;
  let open = true;
  let ending = false;
  const close = (code: number, reason: string) => {
    if (!open) return;
    open = false;
    end();
    if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(code, reason);
  };
  stream.on("data", (chunk: Buffer) => {
    if (ws.readyState !== ws.OPEN) return;
    ws.send(chunk, { binary: true });
    if (ws.bufferedAmount > HIGH_WATER) {
      stream.pause();
      const wait = setInterval(() => {
        if (!open || ws.bufferedAmount <= HIGH_WATER / 4) {
          clearInterval(wait);
          stream.resume();
        }
      }, 20);
    }
  });
  // the shell exited, or the container stopped or was removed (its exec went with it)
  stream.on("end", () => void shellEnded());
  stream.on("close", () => void shellEnded());
  stream.on("error", (e) => {
    o.log.warn({ err: e, appId }, "terminal: shell stream failed");
    close(TERMINAL_CLOSE.boxError, "the shell's connection failed");
  });
  const shellEnded = async () => {
    if (!open || ending) return;
    ending = true;
    // a stopping container ends its execs a moment before the engine reports it stopped
    for (let i = 0; i < STOP_CHECKS; i++) {
      const still = await o.docker.inspectContainer(containerNameOf(appId)).catch(() => null);
      // a configure or update replaces the container under the same name: a new id is not ours
      if (!still?.running || still.id !== containerId) return close(TERMINAL_CLOSE.appStopped, "the app stopped");
      await new Promise((r) => setTimeout(r, STOP_CHECK_MS));
    }
    close(TERMINAL_CLOSE.shellEnded, "the shell ended");
  };
  ws.on("message", (data, isBinary) => {
    if (!open) return;
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    if (isBinary) {
      stream.write(buf);
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(buf.toString("utf8"));
    } catch {
      parsed = null;
    }
    const c = terminalControl.safeParse(parsed);
    if (!c.success) return close(TERMINAL_CLOSE.badMessage, "not a terminal message");
    void shell.resize({ cols: c.data.cols, rows: c.data.rows });
  });
  ws.on("close", () => close(TERMINAL_CLOSE.shellEnded, ""));
  ws.on("error", () => close(TERMINAL_CLOSE.boxError, ""));
}

/** Closes every open terminal (box is shutting down). */
export function closeAllTerminals(): void {
  for (const ws of wss.clients) ws.close(TERMINAL_CLOSE.shutdown, "box is shutting down");
}
