import { z } from "zod";

/**
 * The web terminal (a shell in an app's running container): browser ⇄ admin ⇄ box, each hop a
 * WebSocket.
 *
 *   browser → admin  wss://my.<domain>/api/v1/apps/:id/terminal?cols=80&rows=24
 *                    (admin's own server, apps/admin/server.ts: session cookie + same Origin,
 *                    admin role; refusals are plain HTTP answers with the usual error body)
 *   admin → box      ws+unix://<box socket>:/apps/:id/terminal?cols=80&rows=24
 *                    (box's socket server; `docker exec` with a TTY, apps/box/src/apps/app-terminal.ts)
 *
 * On both hops the same messages: binary frames are the terminal's bytes (keystrokes in,
 * output out); a text frame is a control message (TerminalControl, only `resize` today). The
 * side that ends a session closes with one of TERMINAL_CLOSE and a short reason.
 */
export const TERMINAL_MIN_COLS = 2;
export const TERMINAL_MAX_COLS = 1000;
export const TERMINAL_MIN_ROWS = 1;
export const TERMINAL_MAX_ROWS = 500;

export const terminalSize = z.object({
  cols: z.coerce.number().int().min(TERMINAL_MIN_COLS).max(TERMINAL_MAX_COLS).default(80),
  rows: z.coerce.number().int().min(TERMINAL_MIN_ROWS).max(TERMINAL_MAX_ROWS).default(24),
});
export type TerminalSize = z.infer<typeof terminalSize>;

export const terminalControl = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("resize"),
    cols: z.number().int().min(TERMINAL_MIN_COLS).max(TERMINAL_MAX_COLS),
    rows: z.number().int().min(TERMINAL_MIN_ROWS).max(TERMINAL_MAX_ROWS),
  }),
]);
export type TerminalControl = z.infer<typeof terminalControl>;

/** Close codes of a terminal WebSocket (4000–4999 are the application's own). */
export const TERMINAL_CLOSE = {
  /** the shell exited */
  shellEnded: 1000,
  /** the admin's session ended (logout, expiry, revocation) or the user lost the admin role */
  sessionEnded: 4001,
  /** no input for TERMINAL_IDLE_MS */
  idle: 4002,
  /** the app's container stopped, was recreated or is gone */
  appStopped: 4003,
  /** box could not open the shell or went away */
  boxError: 4004,
  /** a frame that is not a terminal message */
  badMessage: 4005,
  /** admin or box is shutting down */
  shutdown: 4006,
} as const;

/** No keystroke for this long closes the session. */
export const TERMINAL_IDLE_MS = 15 * 60_000;
/** How often admin re-checks the admin's session while a terminal is open (and on each message). */
export const TERMINAL_SESSION_CHECK_MS = 10_000;
/** The longest frame either side accepts (a paste is split by the browser well below this). */
export const TERMINAL_MAX_FRAME_BYTES = 64 * 1024;

/** `/api/v1/apps/<id>/terminal` (admin) and `/apps/<id>/terminal` (box): the app id, else null. */
export function terminalAppIdOf(pathname: string, prefix: "/api/v1" | ""): string | null {
  const m = (prefix ? /^\/api\/v1\/apps\/([^/]+)\/terminal$/ : /^\/apps\/([^/]+)\/terminal$/).exec(pathname);
  if (!m) return null;
  let id: string;
  try {
    id = decodeURIComponent(m[1]!);
  } catch {
    return null;
  }
  return /^[A-Za-z0-9_-]{1,64}$/.test(id) ? id : null;
}
