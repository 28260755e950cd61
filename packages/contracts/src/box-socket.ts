/**
 * admin ↔ box over the unix socket HEARTH_BOX_SOCKET (default /run/hearth/box.sock,
 * mode 0660, group hearth). Plain HTTP/1.1 on the socket; JSON bodies; no auth beyond the
 * socket's file permissions (only root and the hearth group can connect).
 *
 *   GET  /health                 → 200 BoxHealth
 *   POST /wake                   → 204   (the task runner looks for work now instead of at its next poll)
 *   GET  /tasks/:id/log          → 200 text/plain: the task's log file so far (404 when none yet)
 *   GET  /tasks/:id/events       → 200 text/event-stream, see TaskStreamEvent; `?follow=0` sends
 *                                  the current state and log once and ends. With follow (default)
 *                                  it sends log lines and progress as they happen and ends after
 *                                  the `end` event once the task has finished.
 *   GET  /apps/:id/logs          → 200 text/event-stream of the app's log: box's kept history of its
 *                                  earlier containers, then the current container's output (stdout
 *                                  and stderr merged, newest last). Query (appLogsQuery in apps.ts):
 *                                  `lines=N` (default 100, max 10000) lines first, the page before
 *                                  the cursor `before=<ts>` when given; `q=` a case-insensitive
 *                                  substring; `health=1` keeps the lines of box's health probe
 *                                  (user agent hearth-health; hidden by default); then with
 *                                  `follow=1` (default 0, not with `before`) new lines as they come
 *                                  until the client goes away. Each line is `event: log` +
 *                                  `data: {"line": "...", "ts": "<cursor>"}`; after the first
 *                                  lines `event: page` + `data: {"older": bool}` (more lines before
 *                                  them); when the container is gone or stops, `event: end` +
 *                                  `data: {}` and the stream ends. `format=text`: 200 text/plain,
 *                                  every kept line that passes `health`/`q` as `<ts> <line>`.
 *                                  400 `invalid` for a bad query, 404 when box knows no such app.
 *                                  admin proxies it as GET /api/v1/apps/:id/logs (and
 *                                  …/logs/download); 502 `external` while box lacks it.
 *   GET  /apps/:id/metrics       → 200 AppMetricsResponse (metrics.ts): the app's series for
 *                                  `range=1h|24h|30d` (metricsQuery; default 1h). 400 `invalid`
 *                                  for another range, 404 when box knows no such app, 502
 *                                  `external` with HEARTH_METRICS=off.
 *   GET  /server/metrics         → 200 ServerMetricsResponse: the server's series and overview
 *                                  (version, uptime, disk space per file system and for the data
 *                                  folder). Same query and errors.
 *   GET  /apps/:id/terminal      → WebSocket upgrade: a shell (docker exec, TTY) in the app's running
 *                                  container, `?cols=&rows=`; messages in terminal.ts. 404 when box
 *                                  knows no such app, 409 `bad_state` when its container is not
 *                                  running. admin relays it as /api/v1/apps/:id/terminal.
 *   /apps/:id/files/<op>         the file manager of the app's /app/data (files.ts; box's
 *                                  apps/box/src/files/files-socket.ts): GET list?path&offset&limit →
 *                                  FileListResponse · GET download?path → the bytes · GET text?path /
 *                                  PUT text (fileTextBody) · PUT upload?path&overwrite (raw body,
 *                                  streamed) · POST mkdir|rename|delete (JSON). Errors are
 *                                  `{ error: { code, message, details: { reason } } }`.
 */
export const DEFAULT_BOX_SOCKET = "/run/hearth/box.sock";

export interface BoxHealth {
  ok: true;
  version: string;
  boxId: string;
  uptimeSeconds: number;
  runningTasks: number;
}

/** SSE events on /tasks/:id/events: `event: <type>` and `data: <json of the rest>`. */
export type TaskStreamEvent =
  | { type: "progress"; state: string; percent: number; message: string; error: { code: string; message: string } | null }
  | { type: "log"; line: string }
  | { type: "end"; state: string };

/** SSE events on /apps/:id/logs. */
export type AppLogStreamEvent = { type: "log"; line: string; ts: string } | { type: "page"; older: boolean } | { type: "end" };
