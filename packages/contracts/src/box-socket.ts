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
 *   GET  /apps/:id/logs          → 200 text/event-stream of the app container's output (stdout and
 *                                  stderr merged, newest last). Query: `lines=N` (default 100, max
 *                                  10000) lines of history first, then with `follow=1` (default 0)
 *                                  new lines as they come until the client goes away. Each line is
 *                                  `event: log` + `data: {"line": "..."}` (AppLogStreamEvent); when
 *                                  the container is gone or stops, `event: end` + `data: {}` and the
 *                                  stream ends. 404 when box knows no such app. admin proxies it as
 *                                  GET /api/v1/apps/:id/logs (502 `external` while box lacks it).
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
export type AppLogStreamEvent = { type: "log"; line: string } | { type: "end" };
