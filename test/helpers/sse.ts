import http from "node:http";

export type SseEvent = { event: string; data: any };

/**
 * GET http://127.0.0.1:<port><urlPath> read as server-sent events. Resolves at the response's
 * end, or as soon as `until(events so far)` is true (the request is then closed: a follow
 * stream never ends by itself). `body` is the raw text read, for non-SSE answers.
 */
export function fetchEvents(port: number, urlPath: string, until?: (events: SseEvent[]) => boolean): Promise<{ status: number; events: SseEvent[]; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path: urlPath }, (res) => {
      let buf = "";
      let body = "";
      const events: SseEvent[] = [];
      const done = () => resolve({ status: res.statusCode!, events, body, headers: res.headers });
      res.on("data", (c: Buffer) => {
        body += c.toString();
        buf += c.toString();
        let i: number;
        while ((i = buf.indexOf("\n\n")) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const ev = /^event: (.*)$/m.exec(block)?.[1] ?? "";
          const data = /^data: (.*)$/m.exec(block)?.[1];
          events.push({ event: ev, data: data ? JSON.parse(data) : null });
        }
        if (until?.(events)) {
          req.destroy();
          done();
        }
      });
      res.on("end", done);
    });
    req.on("error", (e) => (until ? undefined : reject(e)));
  });
}
