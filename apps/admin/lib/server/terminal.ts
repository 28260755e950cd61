import { randomUUID } from "node:crypto";
import type http from "node:http";
import type { Duplex } from "node:stream";
import { HearthError, TERMINAL_CLOSE, TERMINAL_IDLE_MS, TERMINAL_MAX_FRAME_BYTES, TERMINAL_SESSION_CHECK_MS, terminalAppIdOf, terminalControl, terminalSize, toHearthError } from "@hearth/contracts";
import { appExists, recordEvent } from "@hearth/db";
import WebSocket, { WebSocketServer } from "ws";
import { checkCsrf } from "../csrf";
import { sourceIpOf } from "../http";
import { SESSION_COOKIE_NAMES, cookieValue, sessionCookieName } from "../tokens";
import { authenticate, userFromSessionValue, type Principal } from "./auth";
import type { AdminContext } from "./context";

/**
 * The web terminal's front half (protocol: contracts terminal.ts): admin's own HTTP server
 * (server.ts) hands every WebSocket upgrade here. For /api/v1/apps/:id/terminal it checks
 * exactly what the API checks (the Origin against the Host as the CSRF rule does for a cookie,
 * then the session cookie or a read-write token, then the admin role), opens box's
 * /apps/:id/terminal on the unix socket and relays frames both ways, unread and unlogged.
 *
 * A session is closed when the admin's session ends (checked every TERMINAL_SESSION_CHECK_MS
 * and before each message is passed on), after TERMINAL_IDLE_MS without a keystroke, and when
 * box closes its side (the shell exited, the app stopped or was recreated). Its start and end
 * go to the event log (app.terminal_open / app.terminal_close: who, which app, how long);
 * what is typed never does.
 */
const ADMIN_ROLES: readonly string[] = ["owner", "admin"];
/** Output waiting for the browser beyond this pauses the relay from box. */
const HIGH_WATER = 1024 * 1024;

export interface TerminalOptions {
  context(): Promise<AdminContext>;
  /** defaults from contracts; tests shorten them */
  idleMs?: number;
  checkMs?: number;
}

const wss = new WebSocketServer({ noServer: true, maxPayload: TERMINAL_MAX_FRAME_BYTES, perMessageDeflate: false });

function headersOf(req: http.IncomingMessage): Headers {
  const h = new Headers();
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined) continue;
    for (const one of Array.isArray(v) ? v : [v]) h.append(k, one);
  }
  return h;
}

function refuse(socket: Duplex, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  const reasons: Record<number, string> = { 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 409: "Conflict", 502: "Bad Gateway" };
  if (!socket.writable) return void socket.destroy();
  socket.end(
    `HTTP/1.1 ${status} ${reasons[status] ?? "Error"}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n${text}`,
  );
}

function refuseError(socket: Duplex, e: unknown): void {
  const err = toHearthError(e);
  refuse(socket, err.status, err.toWire());
}

/** Who opened the terminal, and a check that they still may (no sliding of the session here). */
async function authorize(app: AdminContext, headers: Headers): Promise<{ principal: Principal; stillAllowed(): Promise<boolean> }> {
  const hasCookie = SESSION_COOKIE_NAMES.some((n) => cookieValue(headers.get("cookie"), n) !== null);
  const csrf = checkCsrf({
    // a WebSocket is a GET the browser sends from any page with the cookie: it is checked as a write
    method: "POST",
    host: headers.get("host"),
    origin: headers.get("origin"),
    referer: null,
    auth: headers.get("authorization") !== null ? "bearer" : hasCookie ? "cookie" : "none",
  });
  if (!csrf.ok) throw new HearthError("forbidden", `Origin check failed: ${csrf.reason}`);
  const { principal } = await authenticate(app, headers);
  if (!principal) throw new HearthError("unauthorized", "Log in first");
  if (principal.token?.scope === "read") throw new HearthError("forbidden", "This API token is read-only: a terminal needs a read-write token");
  if (!ADMIN_ROLES.includes(principal.user.role)) throw new HearthError("forbidden", "Only admins may open a terminal");
  const cookie = cookieValue(headers.get("cookie"), sessionCookieName(app.config.cookieSecure)) ?? undefined;
  const stillAllowed = async () => {
    try {
      if (principal.via === "session") {
        const user = await userFromSessionValue(app, cookie);
        return !!user && user.id === principal.user.id && ADMIN_ROLES.includes(user.role);
      }
      const again = (await authenticate(app, headers)).principal;
      return !!again && again.user.id === principal.user.id && again.token?.scope !== "read" && ADMIN_ROLES.includes(again.user.role);
    } catch {
      return false;
    }
  };
  return { principal, stillAllowed };
}

/** Box's side of the terminal; rejects with box's refusal as a HearthError. */
function openBox(socketPath: string, appId: string, size: { cols: number; rows: number }): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws+unix://${socketPath}:/apps/${encodeURIComponent(appId)}/terminal?cols=${size.cols}&rows=${size.rows}`, {
      maxPayload: TERMINAL_MAX_FRAME_BYTES,
      perMessageDeflate: false,
      handshakeTimeout: 15_000,
    });
    ws.once("open", () => {
      // the shell's first output (its prompt) waits until relay() listens
      ws.pause();
      resolve(ws);
    });
    ws.once("unexpected-response", (_req, res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.length < 16 && chunks.push(c));
      res.on("end", () => {
        let e: HearthError;
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { error: { code: string; message: string } };
          e = toHearthError(new HearthError(body.error.code as "not_found", body.error.message));
        } catch {
          e = new HearthError("external", `box answered ${res.statusCode}`);
        }
        reject(e);
      });
    });
    ws.once("error", (e) => reject(new HearthError("external", `box is not reachable (${(e as NodeJS.ErrnoException).code ?? e.message})`)));
  });
}

/** What ws checks of a handshake before it upgrades (RFC 6455 4.2.1): GET, a 16-byte key, version 13. */
function isWebSocketHandshake(req: http.IncomingMessage): boolean {
  const key = req.headers["sec-websocket-key"];
  return (
    req.method === "GET" &&
    (req.headers.upgrade ?? "").toLowerCase() === "websocket" &&
    typeof key === "string" &&
    /^[+/0-9A-Za-z]{22}==$/.test(key.trim()) &&
    req.headers["sec-websocket-version"] === "13"
  );
}

export function createTerminalUpgrade(o: TerminalOptions) {
  const idleMs = o.idleMs ?? TERMINAL_IDLE_MS;
  const checkMs = o.checkMs ?? TERMINAL_SESSION_CHECK_MS;

  /** Handles the upgrade when it is a terminal's; false when the path is not one. */
  return async function upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): Promise<boolean> {
    const url = new URL(req.url ?? "/", "http://admin");
    const appId = terminalAppIdOf(url.pathname, "/api/v1");
    if (appId === null) return false;
    socket.on("error", () => socket.destroy());
    let app: AdminContext;
    try {
      app = await o.context();
    } catch (e) {
      refuseError(socket, e);
      return true;
    }
    try {
      const headers = headersOf(req);
      const ip = sourceIpOf(headers);
      const { principal, stillAllowed } = await authorize(app, headers);
      const size = terminalSize.safeParse(Object.fromEntries(url.searchParams));
      if (!size.success) throw new HearthError("invalid", "cols and rows must be whole numbers in range");
      // a handshake ws would refuse must fail before box opens a shell (ws then never calls back)
      if (!isWebSocketHandshake(req)) throw new HearthError("invalid", "not a valid WebSocket handshake");
      if (!(await appExists(app.db, appId))) throw new HearthError("not_found", "No such app");
      const box = await openBox(app.config.boxSocket, appId, size.data);
      if (socket.destroyed) {
        box.terminate();
        return true;
      }
      // ws.handleUpgrade never calls back for a socket that half-closed or closed meanwhile:
      // box's side (and with it the shell) is ended here then
      let handed = false;
      socket.once("close", () => {
        if (!handed) box.terminate();
      });
      wss.handleUpgrade(req, socket, head, (client) => {
        handed = true;
        relay({ app, client, box, appId, principal, ip, stillAllowed, idleMs, checkMs });
      });
    } catch (e) {
      const err = toHearthError(e);
      if (err.code === "internal") app.logger.error({ err: e, path: url.pathname }, "terminal: unhandled error");
      refuseError(socket, err);
    }
    return true;
  };
}

interface Relay {
  app: AdminContext;
  client: WebSocket;
  box: WebSocket;
  appId: string;
  principal: Principal;
  ip: string;
  stillAllowed(): Promise<boolean>;
  idleMs: number;
  checkMs: number;
}

/** The open sessions' finish functions, and the event writes not yet done (awaited at shutdown). */
const sessions = new Set<(code: number, reason: string) => void>();
const pendingWrites = new Set<Promise<unknown>>();
function track(p: Promise<unknown>): Promise<unknown> {
  pendingWrites.add(p);
  void p.finally(() => pendingWrites.delete(p));
  return p;
}

function relay(r: Relay): void {
  const { app, client, box, appId, principal } = r;
  const started = Date.now();
  const sessionId = randomUUID();
  const actor = { actorId: principal.user.id, actorName: principal.user.username, sourceIp: r.ip, target: appId };
  const log = app.logger.child({ terminal: sessionId, appId, user: principal.user.username });
  log.info("terminal opened");
  // the end's event is written after the start's
  const opening = track(recordEvent(app.db, { action: "app.terminal_open", ...actor, data: { session: sessionId } }).catch((e) => log.error({ err: e }, "terminal: could not record its start")));

  let closed = false;
  let waiting: NodeJS.Timeout | null = null;
  let idle: NodeJS.Timeout;
  const finish = (code: number, reason: string) => {
    if (closed) return;
    closed = true;
    sessions.delete(finish);
    clearTimeout(idle);
    clearInterval(check);
    if (waiting) clearInterval(waiting);
    if (client.readyState === WebSocket.OPEN) client.close(code, reason);
    if (box.readyState === WebSocket.OPEN || box.readyState === WebSocket.CONNECTING) box.close(1000, "closed by admin");
    const seconds = Math.round((Date.now() - started) / 1000);
    log.info({ seconds, code, reason }, "terminal closed");
    track(
      opening.then(() =>
        recordEvent(app.db, { action: "app.terminal_close", ...actor, data: { session: sessionId, durationSeconds: seconds, reason: reason || "closed by the browser" } }).catch((e) =>
          log.error({ err: e }, "terminal: could not record its end"),
        ),
      ),
    );
  };
  sessions.add(finish);
  const resetIdle = () => {
    clearTimeout(idle);
    idle = setTimeout(() => finish(TERMINAL_CLOSE.idle, `closed after ${Math.round(r.idleMs / 1000)} s without input`), r.idleMs);
  };
  resetIdle();
  const sessionOver = () => finish(TERMINAL_CLOSE.sessionEnded, "your session ended: log in again");
  const check = setInterval(() => {
    void r.stillAllowed().then((ok) => ok || sessionOver());
  }, r.checkMs);

  // box → browser: the shell's output, as it comes
  box.on("message", (data, isBinary) => {
    if (closed || client.readyState !== WebSocket.OPEN) return;
    client.send(data as Buffer, { binary: isBinary });
    // a slow browser: stop reading from box (and box from the shell) until it caught up
    if (client.bufferedAmount > HIGH_WATER && !waiting) {
      waiting = setInterval(() => {
        if (closed || client.bufferedAmount <= HIGH_WATER / 4) {
          clearInterval(waiting!);
          waiting = null;
          box.resume();
        }
      }, 20);
      box.pause();
    }
  });
  box.on("close", (code, reason) => {
    const why = reason.toString("utf8");
    finish(code === TERMINAL_CLOSE.appStopped ? TERMINAL_CLOSE.appStopped : code === 1000 ? TERMINAL_CLOSE.shellEnded : TERMINAL_CLOSE.boxError, why || "box closed the terminal");
  });
  box.on("error", () => finish(TERMINAL_CLOSE.boxError, "lost the connection to box"));

  // browser → box: each message only while the session still holds, in order
  let chain = Promise.resolve();
  client.on("message", (data, isBinary) => {
    chain = chain.then(async () => {
      if (closed) return;
      if (!(await r.stillAllowed())) return sessionOver();
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      if (!isBinary) {
        let parsed: unknown = null;
        try {
          parsed = JSON.parse(buf.toString("utf8"));
        } catch {
          // not JSON
        }
        const c = terminalControl.safeParse(parsed);
        if (!c.success) return finish(TERMINAL_CLOSE.badMessage, "not a terminal message");
        if (box.readyState === WebSocket.OPEN) box.send(JSON.stringify(c.data));
        return;
      }
      resetIdle();
      if (box.readyState === WebSocket.OPEN) box.send(buf, { binary: true });
    });
  });
  client.on("close", () => finish(TERMINAL_CLOSE.shellEnded, ""));
  client.on("error", () => finish(TERMINAL_CLOSE.boxError, ""));
  box.resume();
}

/**
 * Closes every open terminal (admin is shutting down) and resolves once their
 * app.terminal_open / app.terminal_close events are written (or failed), so a restart loses
 * none; the caller bounds the wait.
 */
export async function closeAllTerminals(): Promise<void> {
  for (const finish of [...sessions]) finish(TERMINAL_CLOSE.shutdown, "the dashboard is restarting");
  for (const ws of wss.clients) ws.close(TERMINAL_CLOSE.shutdown, "the dashboard is restarting");
  await Promise.allSettled([...pendingWrites]);
}
