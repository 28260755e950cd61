import type http from "node:http";
import { appLogsQuery, type AppLogStreamEvent } from "@hearth/contracts";
import type { DockerApi } from "../docker/docker";
import { containerNameOf } from "./container-spec";
import { lineFilter, LogHistory, mergeLogs, pageOf, parseTimestamped, type LogLine } from "./log-history";

/**
 * GET /apps/:id/logs on box's socket (protocol in contracts/box-socket.ts): the app's log as
 * server-sent events — box's kept history of the earlier containers (log-history.ts), then
 * the current container's output; `lines` lines (the page before `before` when given),
 * filtered (`q`, `health`), then with follow new lines until the client goes away; `end`
 * when the container stops or is gone. `format=text`: the whole kept log as text/plain.
 */
export interface AppLogsOptions {
  docker: DockerApi;
  /** Does this store know the app? (404 otherwise) */
  appExists(appId: string): Promise<boolean>;
  /** The app's history folder (paths.ts dataPaths().appLogs); absent: only the current container. */
  historyDir?(appId: string): string;
}

export const DEFAULT_LOG_LINES = 100;
export const MAX_LOG_LINES = 10_000;
/** How much of the running container's output is read beyond the history (Docker keeps all of it). */
export const MAX_CONTAINER_LINES = 100_000;

function send(res: http.ServerResponse, e: AppLogStreamEvent): void {
  const { type, ...data } = e;
  res.write(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
}

/** Docker's "<seconds>.<nanoseconds>" for a log timestamp (the `since` of a log request). */
export function dockerSince(ts: string): string {
  return `${Math.floor(Date.parse(`${ts.slice(0, 19)}Z`) / 1000)}.${ts.slice(20, 29)}`;
}

/** A container's output with Docker's timestamps, the newest MAX_CONTAINER_LINES (from `since` when given). */
export async function containerLines(docker: DockerApi, nameOrId: string, since?: string, tail = MAX_CONTAINER_LINES): Promise<LogLine[]> {
  // Docker takes the tail first, then drops what is older than since: never more than `tail` lines in memory
  const stream = await docker.logs(nameOrId, { timestamps: true, tail, since: since === undefined ? 0 : dockerSince(since) });
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(String(c)));
  return parseTimestamped(Buffer.concat(chunks).toString("utf8"));
}

/**
 * Appends what the container printed since the history's newest line to the app's history
 * (before box removes the container). Never throws: a container that is gone or whose output
 * cannot be read loses nothing that was kept; the failure is returned for the task log.
 */
export async function archiveContainerLogs(docker: DockerApi, history: LogHistory, nameOrId: string): Promise<{ added: number } | { error: string }> {
  try {
    const since = (await history.newest()) ?? undefined;
    const lines = await containerLines(docker, nameOrId, since);
    return { added: await history.append(lines) };
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
}

/** Every kept line of the app, oldest first: the history, then the current container's. */
async function allLines(o: AppLogsOptions, appId: string, container: { id: string } | null): Promise<{ lines: LogLine[]; currentNewest: string | undefined }> {
  const history = o.historyDir ? await new LogHistory(o.historyDir(appId)).read() : [];
  let current: LogLine[] = [];
  if (container) current = await containerLines(o.docker, container.id).catch(() => []);
  return { lines: mergeLogs(history, current), currentNewest: current.at(-1)?.ts ?? history.at(-1)?.ts };
}

/**
 * The first page from a Docker tail of the container (max(4 × lines, 1000) lines): null when
 * the filters leave fewer than `lines` of them and older lines may exist (the caller then
 * reads everything). `older`: lines before the tail exist (the tail was full, or the history
 * has lines).
 */
async function firstPageFromTail(
  o: AppLogsOptions,
  appId: string,
  containerId: string,
  lines: number,
  filter: { health: boolean; q: string | undefined },
): Promise<{ lines: LogLine[]; currentNewest: string | undefined; older: boolean } | null> {
  const tail = Math.max(4 * lines, 1000);
  const got = await containerLines(o.docker, containerId, undefined, tail).catch(() => null);
  if (!got) return null;
  const full = got.length >= tail;
  const history = o.historyDir ? new LogHistory(o.historyDir(appId)) : null;
  const older = full || (history !== null && (await history.newest()) !== null);
  if (older && pageOf(got, { ...filter, n: lines }).lines.length < lines) return null;
  return { lines: got, currentNewest: got.at(-1)?.ts, older };
}

export async function streamAppLogs(o: AppLogsOptions, _req: http.IncomingMessage, res: http.ServerResponse, appId: string, url: URL): Promise<void> {
  const fail = (status: number, code: string, message: string) => {
    const body = JSON.stringify({ error: { code, message } });
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
    res.end(body);
  };
  if (!(await o.appExists(appId))) return fail(404, "not_found", "no such app");
  const parsed = appLogsQuery.safeParse(Object.fromEntries(url.searchParams));
  if (!parsed.success) return fail(400, "invalid", parsed.error.issues.map((i) => `${i.path.join(".") || "query"}: ${i.message}`).join("; "));
  const query = parsed.data;
  const lines = query.lines ?? DEFAULT_LOG_LINES;
  const follow = query.follow === "1" || query.follow === "true";
  const filter = { health: query.health === "1", q: query.q };

  const name = containerNameOf(appId);
  const c = await o.docker.inspectContainer(name);
  // the first page (no cursor) usually comes from the container's newest lines alone: a
  // Docker tail of a few times the page, read whole (history and the full output) only when
  // the filters leave too few of them
  const quick = query.format !== "text" && query.before === undefined && c ? await firstPageFromTail(o, appId, c.id, lines, filter) : null;
  const { lines: all, currentNewest } = quick ?? (await allLines(o, appId, c));

  if (query.format === "text") {
    const keep = lineFilter(filter);
    const body = all
      .filter(keep)
      .map((l) => `${l.ts} ${l.text}\n`)
      .join("");
    res.writeHead(200, { "content-type": "text/plain; charset=utf-8", "content-length": Buffer.byteLength(body), "cache-control": "no-store" });
    return void res.end(body);
  }

  res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store", "x-accel-buffering": "no" });
  const found = pageOf(all, { ...filter, n: lines, before: query.before });
  const page = quick ? { lines: found.lines, older: found.older || quick.older } : found;
  for (const l of page.lines) send(res, { type: "log", line: l.text, ts: l.ts });
  send(res, { type: "page", older: page.older });
  if (!follow || query.before !== undefined || !c?.running) {
    send(res, { type: "end" });
    return void res.end();
  }

  let stream: NodeJS.ReadableStream & { destroy?: () => void };
  try {
    // from the newest line already read on: Docker's `since` is inclusive, so that one is skipped below
    stream = await o.docker.logs(c.id, { follow: true, timestamps: true, tail: currentNewest === undefined ? 0 : "all", since: currentNewest === undefined ? 0 : dockerSince(currentNewest) });
  } catch {
    send(res, { type: "end" });
    return void res.end();
  }
  const keep = lineFilter(filter);
  // only the overlap with what was already read is skipped: Docker stamps stdout and stderr
  // apart, so a later line may carry a slightly earlier stamp and must still be shown
  const read = currentNewest ?? "";
  let partial = "";
  const emit = (text: string) => {
    for (const l of parseTimestamped(text)) {
      if (l.ts <= read) continue;
      if (keep(l)) send(res, { type: "log", line: l.text, ts: l.ts });
    }
  };
  // the response's close (not the request's) tells that the client went away
  const onGone = () => stream.destroy?.();
  res.on("close", onGone);
  await new Promise<void>((resolve) => {
    stream.on("data", (chunk: Buffer) => {
      partial += chunk.toString("utf8");
      const cut = partial.lastIndexOf("\n");
      if (cut < 0) return;
      emit(partial.slice(0, cut));
      partial = partial.slice(cut + 1);
    });
    stream.on("end", resolve);
    stream.on("close", resolve);
    stream.on("error", () => resolve());
  });
  res.off("close", onGone);
  if (partial) emit(partial);
  if (!res.destroyed) {
    send(res, { type: "end" });
    res.end();
  }
}
