import { open } from "node:fs/promises";
import type http from "node:http";
import type { TaskStreamEvent } from "@hearth/contracts";

/**
 * GET /tasks/:id/events: a task's progress and log as server-sent events.
 *
 *   event: progress   data: {"state","percent","message","error"}   on connect and on each change
 *   event: log        data: {"line"}                                 one per log-file line
 *   event: end        data: {"state"}                                last event, once the task finished
 *
 * On connect it sends the current progress and the whole log so far. With follow (the
 * default) it then polls the log file for new bytes and the task row for changes every
 * `pollMs`, and once the task has finished it drains the log, sends `end` and closes.
 * With `follow=0` it closes after the snapshot, sending `end` only if the task already
 * finished (so `end` always means "finished", never "stream over").
 */
export interface TaskSnapshot {
  state: string;
  percent: number;
  message: string;
  errorCode: string | null;
  errorMessage: string | null;
}

const FINISHED = new Set(["succeeded", "failed", "cancelled"]);
const KEEPALIVE_MS = 15_000;
const READ_CHUNK = 256 * 1024;

type Payload<T extends TaskStreamEvent["type"]> = Omit<Extract<TaskStreamEvent, { type: T }>, "type">;

function progressOf(t: TaskSnapshot): Payload<"progress"> {
  return {
    state: t.state,
    percent: t.percent,
    message: t.message,
    error: t.errorCode ? { code: t.errorCode, message: t.errorMessage ?? "" } : null,
  };
}

/** Reads a growing file from an offset and splits it into whole lines. */
class LogTail {
  private offset = 0;
  private partial = "";
  private readonly decoder = new TextDecoder("utf-8");

  constructor(private readonly file: string) {}

  /** New complete lines since the last call; with `flush`, a trailing partial line too. */
  async read(flush = false): Promise<string[]> {
    let fh;
    try {
      fh = await open(this.file, "r");
    } catch {
      return []; // no log yet (task still pending)
    }
    try {
      const buf = Buffer.alloc(READ_CHUNK);
      for (;;) {
        const { bytesRead } = await fh.read(buf, 0, buf.length, this.offset);
        if (bytesRead === 0) break;
        this.offset += bytesRead;
        this.partial += this.decoder.decode(buf.subarray(0, bytesRead), { stream: true });
      }
    } finally {
      await fh.close();
    }
    const lines = this.partial.split("\n");
    this.partial = lines.pop() ?? "";
    if (flush && this.partial !== "") {
      lines.push(this.partial);
      this.partial = "";
    }
    return lines;
  }
}

export interface StreamOptions {
  first: TaskSnapshot;
  getTask(): Promise<TaskSnapshot | null>;
  logPath: string;
  follow: boolean;
  pollMs: number;
}

export async function streamTaskEvents(req: http.IncomingMessage, res: http.ServerResponse, o: StreamOptions): Promise<void> {
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-store",
    connection: "keep-alive",
    "x-accel-buffering": "no",
  });
  let closed = false;
  const onClose = () => {
    closed = true;
  };
  req.on("close", onClose);
  res.on("close", onClose);

  let lastWrite = Date.now();
  const send = <T extends TaskStreamEvent["type"]>(type: T, data: Payload<T>) => {
    if (closed) return;
    res.write(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
    lastWrite = Date.now();
  };
  const tail = new LogTail(o.logPath);
  const sendLog = async (flush = false) => {
    for (const line of await tail.read(flush)) send("log", { line });
  };

  let task = o.first;
  let lastProgress = JSON.stringify(progressOf(task));
  send("progress", progressOf(task));
  await sendLog(FINISHED.has(task.state));

  if (FINISHED.has(task.state) || !o.follow) {
    if (FINISHED.has(task.state)) send("end", { state: task.state });
    res.end();
    return;
  }

  while (!closed) {
    await new Promise((r) => setTimeout(r, o.pollMs));
    if (closed) break;
    // log first, then the row: the runner writes a line before the progress it belongs to
    await sendLog();
    const next = await o.getTask();
    if (!next) break; // the row is gone; nothing more will happen
    task = next;
    const p = progressOf(task);
    const json = JSON.stringify(p);
    if (json !== lastProgress) {
      lastProgress = json;
      send("progress", p);
    }
    if (FINISHED.has(task.state)) {
      await sendLog(true);
      send("end", { state: task.state });
      break;
    }
    if (Date.now() - lastWrite > KEEPALIVE_MS && !closed) {
      res.write(": keepalive\n\n");
      lastWrite = Date.now();
    }
  }
  req.off("close", onClose);
  if (!closed) res.end();
}
