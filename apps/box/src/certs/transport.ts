import https from "node:https";
import tls from "node:tls";
import { setTimeout as sleep } from "node:timers/promises";
import { HearthError } from "@hearth/contracts";

/**
 * The HTTP transport under acme-client. acme-client signs requests (JWS), handles nonces and
 * speaks the protocol; it sends every request through `HttpClient.request(url, method,
 * { data, headers })` on a shared axios instance. We replace that one method on each
 * client with this transport because the shared instance cannot do what box needs:
 *  - trust per client: a test CA (Pebble) or a private CA (step-ca) is trusted for that
 *    directory only, on top of the system roots, never process-wide;
 *  - fail fast: axios' interceptor retries unreachable servers for ~75 s and waits out a
 *    429's Retry-After (hours with Let's Encrypt) inside the task; our renewal planner
 *    retries with backoff instead. Only idempotent GET/HEAD are retried, twice, briefly;
 *  - the CA's problem document (RFC 8555 §6.7: type, detail, Retry-After) is kept, so
 *    errors say what the CA said and rate limits are recognised.
 * Response shape is what acme-client reads from axios: { status, headers, data }.
 */

export interface AcmeProblem {
  status: number;
  type?: string;
  detail?: string;
  retryAfter?: string;
  url: string;
}

export interface TransportResponse {
  status: number;
  headers: Record<string, string>;
  data: unknown;
}

export interface AcmeTransportOptions {
  /** PEM bundle trusted in addition to the system roots (test or private CA). */
  caCertificates?: string;
  timeoutMs?: number;
  userAgent?: string;
  /** Delays before retrying a GET/HEAD after a network error or 5xx. */
  retryDelaysMs?: number[];
}

const MAX_BODY = 4 * 1024 * 1024;
// worth a second try; TLS and name errors are not (they fail the same way again)
const TRANSIENT = new Set(["ECONNRESET", "ECONNREFUSED", "ETIMEDOUT", "EPIPE", "EAI_AGAIN", "ENETUNREACH", "EHOSTUNREACH"]);

export class AcmeTransport {
  /** The last problem document a request returned (cleared by `takeProblem`). */
  lastProblem: AcmeProblem | null = null;
  private readonly agent: https.Agent;
  private readonly timeoutMs: number;
  private readonly userAgent: string;
  private readonly retryDelays: number[];

  constructor(opts: AcmeTransportOptions = {}) {
    const ca = opts.caCertificates ? [...tls.rootCertificates, opts.caCertificates] : undefined;
    this.agent = new https.Agent({ keepAlive: true, ca, maxSockets: 4 });
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.userAgent = opts.userAgent ?? "hearth-box (acme-client)";
    this.retryDelays = opts.retryDelaysMs ?? [500, 1500];
  }

  takeProblem(): AcmeProblem | null {
    const p = this.lastProblem;
    this.lastProblem = null;
    return p;
  }

  close(): void {
    this.agent.destroy();
  }

  async request(url: string, method: string, opts: { data?: unknown; headers?: Record<string, string> } = {}): Promise<TransportResponse> {
    const m = method.toUpperCase();
    const idempotent = m === "GET" || m === "HEAD";
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await this.once(url, m, opts);
        if (res.status >= 500 && idempotent && attempt < this.retryDelays.length) {
          await sleep(this.retryDelays[attempt]);
          continue;
        }
        return res;
      } catch (e) {
        if (idempotent && attempt < this.retryDelays.length && TRANSIENT.has((e as NodeJS.ErrnoException).code ?? "")) {
          await sleep(this.retryDelays[attempt]);
          continue;
        }
        if (e instanceof HearthError) throw e;
        const err = e as NodeJS.ErrnoException;
        const tlsHint = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL/.test(err.code ?? "") ? " (its TLS certificate is not trusted)" : "";
        throw new HearthError("external", `cannot reach the ACME server ${new URL(url).origin}: ${err.code ? `${err.code} ` : ""}${err.message}${tlsHint}`, {
          details: { reason: "acme_unreachable", url, code: err.code },
          cause: e,
        });
      }
    }
  }

  private once(url: string, method: string, opts: { data?: unknown; headers?: Record<string, string> }): Promise<TransportResponse> {
    const u = new URL(url);
    if (u.protocol !== "https:") {
      // the directory URL is checked in the settings: anything else came from the CA
      return Promise.reject(new HearthError("external", `the ACME server sent a URL that is not https (${u.protocol}//${u.host})`));
    }
    const body = opts.data === undefined || opts.data === null ? undefined : Buffer.from(typeof opts.data === "string" ? opts.data : JSON.stringify(opts.data));
    const headers: Record<string, string> = { "user-agent": this.userAgent, accept: "application/json, application/pem-certificate-chain, */*" };
    for (const [k, v] of Object.entries(opts.headers ?? {})) headers[k.toLowerCase()] = v;
    // acme-client's own request() sets this; we replaced it (every ACME POST is a JWS)
    if (body) {
      headers["content-type"] = "application/jose+json";
      headers["content-length"] = String(body.length);
    }

    return new Promise<TransportResponse>((resolve, reject) => {
      const req = https.request(u, { method, headers, agent: this.agent, timeout: this.timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (c: Buffer) => {
          size += c.length;
          if (size > MAX_BODY) {
            req.destroy(new Error(`response larger than ${MAX_BODY} bytes`));
            return;
          }
          chunks.push(c);
        });
        res.on("error", reject);
        res.on("end", () => {
          const status = res.statusCode ?? 0;
          const flat: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) flat[k] = Array.isArray(v) ? v.join(", ") : v;
          const text = Buffer.concat(chunks).toString("utf8");
          const type = flat["content-type"] ?? "";
          let data: unknown = text;
          if (/json/.test(type) && text.length > 0) {
            try {
              data = JSON.parse(text);
            } catch {
              data = text;
            }
          }
          if (status >= 400) {
            const doc = (data && typeof data === "object" ? data : {}) as { type?: string; detail?: string };
            this.lastProblem = {
              status,
              type: doc.type,
              detail: doc.detail ?? (typeof data === "string" ? data.slice(0, 500) : undefined),
              retryAfter: flat["retry-after"],
              url,
            };
          }
          resolve({ status, headers: flat, data });
        });
      });
      req.on("timeout", () => req.destroy(Object.assign(new Error(`no answer within ${this.timeoutMs} ms`), { code: "ETIMEDOUT" })));
      req.on("error", reject);
      if (body) req.write(body);
      req.end();
    });
  }
}
