import { describe, expect, it } from "vitest";
import { z } from "zod";
import { HearthError, MAX_JSON_BODY_BYTES } from "@hearth/contracts";
import { jsonDepthOf, makeRoute, MAX_JSON_DEPTH, wellFormedStrings, type RouteDeps } from "./api";
import type { AdminContext } from "./server/context";
import type { Principal } from "./server/auth";

/** A logger that records what it is given. */
function fakeLogger() {
  const lines: { level: string; obj: unknown; msg?: string }[] = [];
  const make = (): unknown => ({
    info: (obj: unknown, msg?: string) => lines.push({ level: "info", obj, msg }),
    warn: (obj: unknown, msg?: string) => lines.push({ level: "warn", obj, msg }),
    error: (obj: unknown, msg?: string) => lines.push({ level: "error", obj, msg }),
    child: () => make(),
  });
  return { logger: make(), lines };
}

function user(role: "owner" | "admin" | "user") {
  return {
    id: `id-${role}`,
    username: role,
    email: `${role}@x.test`,
    displayName: "",
    role,
    passwordHash: "",
    totpSecret: null,
    totpLastStep: null,
    active: true,
    createdAt: new Date(),
    updatedAt: new Date(),
    lastLoginAt: null,
  };
}

function setup(principal: Principal | null = null) {
  const log = fakeLogger();
  const app = { logger: log.logger, config: { cookieSecure: false } } as unknown as AdminContext;
  const deps: RouteDeps = {
    context: async () => app,
    authenticate: async () => ({ principal }),
  };
  return { route: makeRoute(deps), lines: log.lines };
}

const ctx = { params: Promise.resolve({}) };
const url = "http://admin.test/api/v1/x";

function post(body: string, headers: Record<string, string> = {}) {
  return new Request(url, { method: "POST", body, headers: { "content-type": "application/json", ...headers } });
}

async function errorOf(res: Response) {
  return ((await res.json()) as { error: { code: string; message: string; details?: unknown } }).error;
}

describe("route wrapper", () => {
  const schema = z.strictObject({ name: z.string().min(2) });

  it("passes a valid body to the handler", async () => {
    const { route } = setup();
    const h = route({ auth: "none", body: schema }, async ({ body }) => Response.json({ got: body.name }));
    const res = await h(post(JSON.stringify({ name: "abc" })), ctx);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ got: "abc" });
    expect(res.headers.get("cache-control")).toBe("no-store");
  });

  it("maps a zod failure to 400 invalid with the issues in details", async () => {
    const { route } = setup();
    const h = route({ auth: "none", body: schema }, async () => Response.json({}));
    const res = await h(post(JSON.stringify({ name: "a", extra: 1 })), ctx);
    expect(res.status).toBe(400);
    const err = await errorOf(res);
    expect(err.code).toBe("invalid");
    const details = err.details as { path: unknown[]; code: string; message: string }[];
    expect(details.map((d) => d.code).sort()).toEqual(["too_small", "unrecognized_keys"]);
    expect(details.find((d) => d.code === "too_small")?.path).toEqual(["name"]);
  });

  it("answers 400 invalid for malformed JSON, a wrong content type and an oversized body", async () => {
    const { route } = setup();
    const h = route({ auth: "none", body: schema }, async () => Response.json({}));
    for (const req of [
      post("{nope"),
      post(""),
      new Request(url, { method: "POST", body: '{"name":"abc"}', headers: { "content-type": "text/plain" } }),
      post(JSON.stringify({ name: "x".repeat(MAX_JSON_BODY_BYTES) })),
    ]) {
      const res = await h(req, ctx);
      expect(res.status).toBe(400);
      expect((await errorOf(res)).code).toBe("invalid");
    }
  });

  it("takes a larger body where the route allows it (bodyLimit), and still refuses beyond", async () => {
    const { route } = setup();
    const big = z.object({ name: z.string() });
    const h = route({ auth: "none", body: big, bodyLimit: 4 * MAX_JSON_BODY_BYTES }, async ({ body }) => Response.json({ got: body.name.length }));
    const ok = await h(post(JSON.stringify({ name: "x".repeat(2 * MAX_JSON_BODY_BYTES) })), ctx);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ got: 2 * MAX_JSON_BODY_BYTES });
    const over = await h(post(JSON.stringify({ name: "x".repeat(4 * MAX_JSON_BODY_BYTES) })), ctx);
    expect(over.status).toBe(400);
  });

  it("names a custom check's reason in the issues (e.g. a path outside the app's data)", async () => {
    const { route } = setup();
    const withReason = z.object({ path: z.string().superRefine((_v, c) => c.addIssue({ code: "custom", message: "outside", params: { reason: "outside_volume" } })) });
    const h = route({ auth: "none", body: withReason }, async () => Response.json({}));
    const res = await h(post(JSON.stringify({ path: "../x" })), ctx);
    expect((await errorOf(res)).details).toEqual([{ path: ["path"], code: "custom", message: "outside", reason: "outside_volume" }]);
  });

  it("refuses an oversized body even without Content-Length (streamed)", async () => {
    const { route } = setup();
    const h = route({ auth: "none", body: schema }, async () => Response.json({}));
    const chunk = new TextEncoder().encode("x".repeat(16 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent++ < 10) c.enqueue(chunk);
        else c.close();
      },
    });
    const req = new Request(url, { method: "POST", body: stream, headers: { "content-type": "application/json" }, duplex: "half" } as RequestInit);
    const res = await h(req, ctx);
    expect(res.status).toBe(400);
    expect((await errorOf(res)).message).toMatch(/larger than/);
  });

  it("validates the query", async () => {
    const { route } = setup();
    const h = route({ auth: "none", query: z.strictObject({ page: z.coerce.number().int().min(1) }) }, async ({ query }) => Response.json(query));
    expect(await (await h(new Request(`${url}?page=2`), ctx)).json()).toEqual({ page: 2 });
    const bad = await h(new Request(`${url}?page=0`), ctx);
    expect(bad.status).toBe(400);
    expect((await errorOf(bad)).details).toBeInstanceOf(Array);
  });

  it("maps a HearthError to its status, message and headers", async () => {
    const { route } = setup();
    const h = route({ auth: "none" }, async () => {
      throw new HearthError("rate_limited", "slow down", { headers: { "Retry-After": "42" }, details: { retryAfterSeconds: 42 } });
    });
    const res = await h(new Request(url), ctx);
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("42");
    expect(await res.json()).toEqual({ error: { code: "rate_limited", message: "slow down", details: { retryAfterSeconds: 42 } } });
    for (const [code, status] of [
      ["not_found", 404],
      ["conflict", 409],
      ["forbidden", 403],
      ["external", 502],
    ] as const) {
      const r = await route({ auth: "none" }, async () => {
        throw new HearthError(code, "x");
      })(new Request(url), ctx);
      expect(r.status).toBe(status);
    }
  });

  it("maps an unknown error to 500 internal, logs it, and hides its text", async () => {
    const { route, lines } = setup();
    const h = route({ auth: "none" }, async () => {
      throw new Error("connect ECONNREFUSED mysql://root:hunter2@db");
    });
    const res = await h(new Request(url), ctx);
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ error: { code: "internal", message: "Internal error" } });
    expect(text).not.toContain("hunter2");
    expect(lines.some((l) => l.level === "error")).toBe(true);
  });

  it("answers 401 when auth is required and nobody is logged in", async () => {
    const { route } = setup(null);
    const res = await route({}, async () => Response.json({}))(new Request(url), ctx);
    expect(res.status).toBe(401);
    expect((await errorOf(res)).code).toBe("unauthorized");
  });

  it("enforces roles", async () => {
    const h = (p: Principal) => setup(p).route({ roles: ["owner", "admin"] }, async () => Response.json({ ok: true }));
    expect((await h({ user: user("user"), via: "session", sessionId: "s" })(new Request(url), ctx)).status).toBe(403);
    expect((await h({ user: user("admin"), via: "session", sessionId: "s" })(new Request(url), ctx)).status).toBe(200);
  });

  it("lets read tokens only read", async () => {
    const p: Principal = { user: user("owner"), via: "token", token: { id: "t", scope: "read", expiresAt: null } };
    const { route } = setup(p);
    const h = route({}, async () => Response.json({ ok: true }));
    expect((await h(new Request(url, { headers: { authorization: "Bearer x" } }), ctx)).status).toBe(200);
    const res = await h(new Request(url, { method: "POST", headers: { authorization: "Bearer x" } }), ctx);
    expect(res.status).toBe(403);
    expect((await errorOf(res)).message).toMatch(/read-only/);
  });

  it("refuses read tokens on GET of a route that reveals a secret, but not read-write tokens", async () => {
    const h = (scope: "read" | "read-write") =>
      setup({ user: user("owner"), via: "token", token: { id: "t", scope, expiresAt: null } }).route({ revealsSecret: true }, async () => Response.json({ ok: true }));
    const res = await h("read")(new Request(url, { headers: { authorization: "Bearer x" } }), ctx);
    expect(res.status).toBe(403);
    expect((await errorOf(res)).message).toMatch(/reveals a secret/);
    expect((await h("read-write")(new Request(url, { headers: { authorization: "Bearer x" } }), ctx)).status).toBe(200);
  });

  it("refuses tokens on session-only routes", async () => {
    const p: Principal = { user: user("owner"), via: "token", token: { id: "t", scope: "read-write", expiresAt: null } };
    const res = await setup(p).route({ sessionOnly: true }, async () => Response.json({}))(new Request(url, { headers: { authorization: "Bearer x" } }), ctx);
    expect(res.status).toBe(403);
  });

  it("runs the CSRF check for cookie-authenticated writes", async () => {
    const p: Principal = { user: user("owner"), via: "session", sessionId: "s" };
    const { route } = setup(p);
    const h = route({}, async () => Response.json({ ok: true }));
    const cookie = "hearth_session=abc";
    expect((await h(new Request(url, { method: "POST", headers: { cookie, host: "admin.test" } }), ctx)).status).toBe(403);
    expect((await h(new Request(url, { method: "POST", headers: { cookie, host: "admin.test", origin: "http://evil.test" } }), ctx)).status).toBe(403);
    expect((await h(new Request(url, { method: "POST", headers: { cookie, host: "admin.test", origin: "http://admin.test" } }), ctx)).status).toBe(200);
  });

  it("passes route params and adds the sliding-session cookie", async () => {
    const log = fakeLogger();
    const app = { logger: log.logger, config: { cookieSecure: false } } as unknown as AdminContext;
    const route = makeRoute({
      context: async () => app,
      authenticate: async () => ({ principal: { user: user("owner"), via: "session", sessionId: "s" }, setCookie: "hearth_session=v; Path=/" }),
    });
    const res = await route({}, async ({ params }) => Response.json(params))(new Request(url), { params: Promise.resolve({ id: "42" }) });
    expect(await res.json()).toEqual({ id: "42" });
    expect(res.headers.get("set-cookie")).toBe("hearth_session=v; Path=/");
  });
});

describe("JSON depth", () => {
  it("measures nesting without counting brackets inside strings", () => {
    expect(jsonDepthOf("1")).toBe(0);
    expect(jsonDepthOf('{"a":[1,{"b":{}}]}')).toBe(4);
    expect(jsonDepthOf('{"a":"[[[{{{\\"[[["}')).toBe(1);
    expect(jsonDepthOf("[".repeat(10_000) + "]".repeat(10_000))).toBe(10_000);
  });

  it("a body nested deeper than the limit is 400 invalid before the schema sees it; at the limit it parses", async () => {
    const { route } = setup();
    let seen = 0;
    const h = route({ auth: "none", body: z.unknown() }, async () => {
      seen++;
      return Response.json({});
    });
    const nested = (n: number) => '{"a":'.repeat(n - 1) + "{}" + "}".repeat(n - 1);
    expect(jsonDepthOf(nested(MAX_JSON_DEPTH))).toBe(MAX_JSON_DEPTH);
    expect((await h(post(nested(MAX_JSON_DEPTH)), ctx)).status).toBe(200);
    for (const n of [MAX_JSON_DEPTH + 1, 10_000]) {
      const res = await h(post(nested(n)), ctx);
      expect(res.status).toBe(400);
      const err = await errorOf(res);
      expect(err.code).toBe("invalid");
      expect(err.message).toMatch(/nested deeper than 32/);
    }
    expect(seen).toBe(1);
  });
});

describe("unpaired surrogates", () => {
  it("finds them in values and keys, and passes pairs", () => {
    expect(wellFormedStrings(JSON.parse('{"a":["x","\\ud83d\\udd25"]}'))).toBe(true);
    expect(wellFormedStrings(JSON.parse('{"a":["x","\\ud800"]}'))).toBe(false);
    expect(wellFormedStrings(JSON.parse('{"\\udc00":1}'))).toBe(false);
    expect(wellFormedStrings(JSON.parse('"\\ud800"'))).toBe(false);
  });

  it("a body with one is 400 invalid", async () => {
    const { route } = setup();
    const h = route({ auth: "none", body: z.unknown() }, async () => Response.json({}));
    const res = await h(post('{"username":"\\ud800"}'), ctx);
    expect(res.status).toBe(400);
    expect((await errorOf(res)).message).toMatch(/not valid Unicode/);
  });
});

describe("asHearthError", () => {
  it("recognises a HearthError made by another copy of the class", async () => {
    const { asHearthError } = await import("./api");
    const foreign = Object.assign(new Error("box is not reachable"), { name: "HearthError", code: "external", details: { socket: "/x" } });
    const e = asHearthError(foreign);
    expect(e).toBeInstanceOf(HearthError);
    expect(e.status).toBe(502);
    expect(e.toWire()).toEqual({ error: { code: "external", message: "box is not reachable", details: { socket: "/x" } } });
    const fake = Object.assign(new Error("x"), { name: "HearthError", code: "teapot" });
    expect(asHearthError(fake).code).toBe("internal");
  });
});
