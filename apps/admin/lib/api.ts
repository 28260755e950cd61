import type { z } from "zod";
import { HearthError, MAX_JSON_BODY_BYTES, toHearthError, type UserRole } from "@hearth/contracts";
import type { Logger } from "./logger";
import type { AdminContext } from "./server/context";
import type { AuthOutcome, Principal } from "./server/auth";
import { checkCsrf, isSafeMethod, type AuthKind } from "./csrf";
import { errorResponse, sourceIpOf } from "./http";
import { SESSION_COOKIE_NAMES, cookieValue } from "./tokens";

/**
 * The one wrapper every API route goes through. In order: CSRF, authentication (session
 * cookie or bearer token), role and token scope, query and JSON body validation, the
 * handler, and mapping of every thrown value to `{ error: { code, message, details? } }`.
 */
export type AuthMode = "required" | "optional" | "none";

export interface RouteOptions<B extends z.ZodType | undefined, Q extends z.ZodType | undefined> {
  /** default "required" */
  auth?: AuthMode;
  /** roles allowed (default: any logged-in user) */
  roles?: readonly UserRole[];
  /** refuse API tokens (e.g. changing two-factor settings needs a browser session) */
  sessionOnly?: boolean;
  /**
   * the answer reveals a secret (e.g. an app's password): a read-scope API token is refused
   * even on GET, as it is on writes
   */
  revealsSecret?: boolean;
  body?: B;
  /** the largest JSON body in bytes (default MAX_JSON_BODY_BYTES, 64 KiB; the text editor's save takes more) */
  bodyLimit?: number;
  query?: Q;
}

export interface RouteCtx<B, Q, P extends boolean> {
  req: Request;
  app: AdminContext;
  params: Record<string, string>;
  ip: string;
  userAgent: string;
  principal: P extends true ? Principal : Principal | null;
  body: B;
  query: Q;
  log: Logger;
}

export interface RouteDeps {
  context(): Promise<AdminContext>;
  authenticate(app: AdminContext, headers: Headers): Promise<AuthOutcome>;
}

type Infer<T> = T extends z.ZodType ? z.infer<T> : undefined;
type NextRouteContext = { params: Promise<Record<string, string | string[] | undefined>> };
export type RouteHandler = (req: Request, ctx: NextRouteContext) => Promise<Response>;

/** Zod issues as they appear in `details`. */
export function issuesOf(error: z.ZodError): { path: (string | number)[]; code: string; message: string; reason?: string }[] {
  return error.issues.map((i) => {
    // a custom check may name its reason (e.g. contracts files.ts: outside_volume, bad_path)
    const reason = i.code === "custom" ? (i.params as { reason?: unknown } | undefined)?.reason : undefined;
    return {
      path: i.path.map((p) => (typeof p === "symbol" ? String(p) : p)),
      code: i.code,
      message: i.message,
      ...(typeof reason === "string" ? { reason } : {}),
    };
  });
}

export function invalid(message: string, error?: z.ZodError): HearthError {
  return new HearthError("invalid", message, error ? { details: issuesOf(error) } : {});
}

/**
 * toHearthError that also recognises a HearthError from another copy of @hearth/contracts
 * (Next bundles the instrumentation hook and each route separately).
 */
export function asHearthError(e: unknown): HearthError {
  return toHearthError(e);
}

function isJsonContentType(ct: string | null): boolean {
  if (!ct) return false;
  const mime = ct.split(";")[0]!.trim().toLowerCase();
  return mime === "application/json" || /^application\/[a-z0-9.+-]+\+json$/.test(mime);
}

/** Reads the body as text, refusing more than `limit` bytes without buffering the rest. */
export async function readBodyLimited(req: Request, limit: number = MAX_JSON_BODY_BYTES): Promise<string> {
  const declared = req.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) throw new HearthError("invalid", `Request body is larger than ${limit} bytes`);
  if (!req.body) return "";
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw new HearthError("invalid", `Request body is larger than ${limit} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * How deeply arrays and objects may nest in a request body. MariaDB refuses JSON nested
 * deeper than 32 in a JSON column (manifests, task args), and very deep input overflows
 * the stack of recursive code; the body is measured before it is parsed.
 */
export const MAX_JSON_DEPTH = 32;

/** The deepest nesting of arrays/objects in JSON text (strings skipped), without recursion. */
export function jsonDepthOf(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) max = depth;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

/**
 * Whether every string (and key) in a parsed body is well-formed UTF-16. JSON may carry an
 * unpaired surrogate as an escape (`"\ud800"`); MariaDB refuses such JSON in a JSON column
 * and it cannot be written as UTF-8. The depth is already bounded, so stringify's walk is safe.
 */
const UNPAIRED_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function wellFormedStrings(value: unknown): boolean {
  let ok = true;
  JSON.stringify(value, (key: string, v: unknown) => {
    if (UNPAIRED_SURROGATE.test(key) || (typeof v === "string" && UNPAIRED_SURROGATE.test(v))) ok = false;
    return v;
  });
  return ok;
}

export async function parseJsonBody<S extends z.ZodType>(req: Request, schema: S, limit: number = MAX_JSON_BODY_BYTES): Promise<z.infer<S>> {
  if (!isJsonContentType(req.headers.get("content-type"))) throw new HearthError("invalid", "Content-Type must be application/json");
  const text = await readBodyLimited(req, limit);
  if (jsonDepthOf(text) > MAX_JSON_DEPTH) throw new HearthError("invalid", `Request body is nested deeper than ${MAX_JSON_DEPTH} levels`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new HearthError("invalid", "Request body is not valid JSON");
  }
  if (!wellFormedStrings(raw)) throw new HearthError("invalid", "Request body has a string that is not valid Unicode (an unpaired surrogate escape such as \\ud800)");
  const r = schema.safeParse(raw);
  if (!r.success) throw invalid("Request body is invalid", r.error);
  return r.data;
}

export function parseQuery<S extends z.ZodType>(url: URL, schema: S): z.infer<S> {
  const raw: Record<string, string> = {};
  for (const [k, v] of url.searchParams) raw[k] = v;
  const r = schema.safeParse(raw);
  if (!r.success) throw invalid("Query parameters are invalid", r.error);
  return r.data;
}

function authKindOf(headers: Headers, mode: AuthMode): AuthKind {
  if (headers.get("authorization") !== null) return "bearer";
  if (mode !== "none" && SESSION_COOKIE_NAMES.some((n) => cookieValue(headers.get("cookie"), n) !== null)) return "cookie";
  return "none";
}

function flatParams(p: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(p)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join("/") : v;
  return out;
}

function withHeaders(res: Response, extra: [string, string][]): Response {
  if (extra.length === 0) return res;
  try {
    for (const [k, v] of extra) res.headers.append(k, v);
    return res;
  } catch {
    // immutable headers (e.g. a fetched Response): copy
    const h = new Headers(res.headers);
    for (const [k, v] of extra) h.append(k, v);
    return new Response(res.body, { status: res.status, statusText: res.statusText, headers: h });
  }
}

export function makeRoute(deps: RouteDeps) {
  function route<B extends z.ZodType | undefined = undefined, Q extends z.ZodType | undefined = undefined>(
    opts: RouteOptions<B, Q> & { auth: "optional" | "none" },
    handler: (ctx: RouteCtx<Infer<B>, Infer<Q>, false>) => Promise<Response>,
  ): RouteHandler;
  function route<B extends z.ZodType | undefined = undefined, Q extends z.ZodType | undefined = undefined>(
    opts: RouteOptions<B, Q> & { auth?: "required" },
    handler: (ctx: RouteCtx<Infer<B>, Infer<Q>, true>) => Promise<Response>,
  ): RouteHandler;
  function route(opts: RouteOptions<z.ZodType | undefined, z.ZodType | undefined>, handler: (ctx: RouteCtx<unknown, unknown, boolean>) => Promise<Response>): RouteHandler {
    const mode: AuthMode = opts.auth ?? "required";
    return async (req, nextCtx) => {
      const started = performance.now();
      const url = new URL(req.url);
      const ip = sourceIpOf(req.headers);
      let log: Logger | undefined;
      let userId: string | undefined;
      let res: Response;
      try {
        const app = await deps.context();
        log = app.logger;

        const csrf = checkCsrf({
          method: req.method,
          host: req.headers.get("host"),
          origin: req.headers.get("origin"),
          referer: req.headers.get("referer"),
          auth: authKindOf(req.headers, mode),
        });
        if (!csrf.ok) throw new HearthError("forbidden", `CSRF check failed: ${csrf.reason}`);

        const outcome: AuthOutcome = mode === "none" ? { principal: null } : await deps.authenticate(app, req.headers);
        const principal = outcome.principal;
        userId = principal?.user.id;
        if (mode === "required" && !principal) throw new HearthError("unauthorized", "Log in first");
        if (principal) {
          if (principal.via === "token" && opts.sessionOnly) throw new HearthError("forbidden", "Not allowed with an API token");
          if (principal.token?.scope === "read" && !isSafeMethod(req.method)) throw new HearthError("forbidden", "This API token is read-only");
          if (principal.token?.scope === "read" && opts.revealsSecret) throw new HearthError("forbidden", "This API token is read-only and this answer reveals a secret; use a read-write token");
          if (opts.roles && !opts.roles.includes(principal.user.role)) throw new HearthError("forbidden", "You are not allowed to do this");
        }

        const query = opts.query ? parseQuery(url, opts.query) : undefined;
        const body = opts.body ? await parseJsonBody(req, opts.body, opts.bodyLimit) : undefined;
        const params = flatParams((await nextCtx?.params) ?? {});

        res = await handler({
          req,
          app,
          params,
          ip,
          userAgent: (req.headers.get("user-agent") ?? "").slice(0, 255),
          principal,
          body,
          query,
          log: app.logger.child({ path: url.pathname }),
        });
        const extra: [string, string][] = [];
        if (outcome.setCookie && !res.headers.has("set-cookie")) extra.push(["set-cookie", outcome.setCookie]);
        if (!res.headers.has("cache-control")) extra.push(["cache-control", "no-store"]);
        res = withHeaders(res, extra);
      } catch (e) {
        const err = asHearthError(e);
        if (err.code === "internal") {
          if (log) log.error({ err: e, method: req.method, path: url.pathname }, "unhandled error");
          else console.error("hearth admin: unhandled error", e);
        }
        res = errorResponse(err.status, err.toWire(), { ...err.headers, "cache-control": "no-store" });
      }
      log?.info({ method: req.method, path: url.pathname, status: res.status, ms: Math.round(performance.now() - started), sourceIp: ip, userId }, "request");
      return res;
    };
  }
  return route;
}
