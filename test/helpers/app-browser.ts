import http from "node:http";

export interface AppResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface AppBrowserOptions {
  /** The app's name (the Host header). */
  host: string;
  /** The client's address in X-Forwarded-For. */
  ip?: string;
  /** Send X-Real-IP as well (as Hearth's nginx does). */
  realIp?: boolean;
}

/**
 * A browser on an app's host port (127.0.0.1) as Hearth's nginx forwards to it: the Host,
 * X-Forwarded-Proto https and the client's address, a cookie jar. The catalog tests extend it
 * with the app's own forms and APIs.
 */
export class AppBrowser {
  readonly cookies = new Map<string, string>();
  readonly ip: string;
  constructor(
    readonly port: number,
    private readonly o: AppBrowserOptions,
  ) {
    this.ip = o.ip ?? "203.0.113.7";
  }

  /** A request with a form (urlencoded) or a JSON body and headers of its own. */
  request(method: string, pathname: string, send: { form?: Record<string, string>; json?: unknown; headers?: Record<string, string> } = {}): Promise<AppResponse> {
    const body = send.form ? new URLSearchParams(send.form).toString() : send.json !== undefined ? JSON.stringify(send.json) : undefined;
    const headers: Record<string, string> = {
      host: this.o.host,
      "x-forwarded-proto": "https",
      "x-forwarded-for": this.ip,
      ...(this.o.realIp ? { "x-real-ip": this.ip } : {}),
      "user-agent": "hearth-test",
      ...send.headers,
    };
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
    if (body !== undefined) Object.assign(headers, { "content-type": send.form ? "application/x-www-form-urlencoded" : "application/json", "content-length": String(Buffer.byteLength(body)) });
    return new Promise((resolve, reject) => {
      const req = http.request({ host: "127.0.0.1", port: this.port, method, path: pathname, headers, timeout: 60_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          for (const c of res.headers["set-cookie"] ?? []) {
            const [pair] = c.split(";");
            const i = pair!.indexOf("=");
            const [k, v] = [pair!.slice(0, i).trim(), pair!.slice(i + 1).trim()];
            if (v === "" || v === "deleted" || /expires=Thu, 01[- ]Jan[- ]1970/i.test(c) || /max-age=0/i.test(c)) this.cookies.delete(k);
            else this.cookies.set(k, v);
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") });
        });
      });
      req.on("timeout", () => req.destroy(new Error(`${method} ${pathname} timed out`)));
      req.on("error", reject);
      if (body !== undefined) req.write(body);
      req.end();
    });
  }
  get = (p: string) => this.request("GET", p);
  post = (p: string, form: Record<string, string>) => this.request("POST", p, { form });
}

/** Calls `fn` every `every` ms until it returns something other than undefined; throws after `ms`. */
export async function until<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, ms = 60_000, every = 250): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, every));
  }
}
