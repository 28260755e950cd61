import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { isHearthError, type HearthError } from "@hearth/contracts";
import { createDnsProvider } from "./index.ts";

/**
 * Cloudflare cannot be reached from the build machines, so the provider runs against a
 * local server that speaks API v4 as documented: Bearer token auth, the
 * { success, errors[], messages[], result, result_info } envelope, zones lookup by name,
 * dns_records list (type, name.exact, per_page, page) / POST / PUT / PATCH / DELETE, and
 * error envelopes with success:false. It pages lists by 2 whatever per_page asks, so the
 * provider's paging is exercised, and it rejects TXT content that is not quoted.
 */

const TOKEN = "Yx3vTmFQ9k1H2t2c2Lq0sA7b9uQm5Zp8xYw4eR1t";
const ZONE_ID = "023e105f4ecef8ad9ca31a8372d0c353";
const OTHER_ZONE_ID = "9a7806061c88ada191ed06f989cc3dac";
const PAGE_SIZE = 2;

interface CfRecord {
  id: string;
  zone_id: string;
  zone_name: string;
  name: string;
  type: string;
  content: string;
  proxiable: boolean;
  proxied: boolean;
  ttl: number;
  settings: Record<string, unknown>;
  meta: Record<string, unknown>;
  comment: null;
  tags: string[];
  created_on: string;
  modified_on: string;
}
interface Req {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage["headers"];
  body: unknown;
}

const envelope = (result: unknown, extra: Record<string, unknown> = {}) => ({ success: true, errors: [], messages: [], result, ...extra });
const failure = (code: number, message: string) => ({ success: false, errors: [{ code, message }], messages: [], result: null });

class FakeCloudflare {
  server!: Server;
  url = "";
  requests: Req[] = [];
  zones = [
    { id: ZONE_ID, name: "example.com", status: "active" },
    { id: OTHER_ZONE_ID, name: "other.org", status: "active" },
  ];
  records: CfRecord[] = [];
  failNext: { match: (r: Req) => boolean; status: number; body: unknown } | undefined;

  reset(): void {
    this.requests = [];
    this.records = [];
    this.failNext = undefined;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const u = new URL(req.url ?? "/", "http://localhost");
        const raw = Buffer.concat(chunks).toString("utf8");
        const r: Req = { method: req.method ?? "GET", path: u.pathname, query: u.searchParams, headers: req.headers, body: raw ? JSON.parse(raw) : undefined };
        this.requests.push(r);
        const [status, body] = this.handle(r);
        res.writeHead(status, { "Content-Type": "application/json" });
        res.end(JSON.stringify(body));
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/client/v4`;
  }

  add(zoneId: string, rec: Partial<CfRecord> & { name: string; type: string; content: string }): CfRecord {
    const zone = this.zones.find((z) => z.id === zoneId)!;
    const now = new Date().toISOString();
    const r: CfRecord = {
      id: randomBytes(16).toString("hex"),
      zone_id: zoneId,
      zone_name: zone.name,
      proxiable: rec.type !== "TXT",
      proxied: false,
      ttl: 1,
      settings: {},
      meta: {},
      comment: null,
      tags: [],
      created_on: now,
      modified_on: now,
      ...rec,
    };
    this.records.push(r);
    return r;
  }

  private validate(body: Record<string, unknown>): string | null {
    if (!["A", "AAAA", "TXT", "CNAME"].includes(String(body.type))) return "DNS record type is invalid.";
    if (typeof body.name !== "string" || typeof body.content !== "string") return "name and content are required";
    if (body.ttl !== undefined && body.ttl !== 1 && (typeof body.ttl !== "number" || body.ttl < 60 || body.ttl > 86400)) return "TTL must be between 60 and 86400 seconds, or 1 for Automatic.";
    if (body.type === "A" && !/^\d+\.\d+\.\d+\.\d+$/.test(body.content)) return "Content for A record is invalid. Must be a valid IPv4 address";
    if (body.type === "TXT" && !/^"(?:[^"\\]|\\.)*"( "(?:[^"\\]|\\.)*")*$/.test(body.content)) return "TXT content must consist of quoted character strings.";
    if (body.type === "TXT" && body.proxied !== undefined) return "TXT records cannot be proxied.";
    return null;
  }

  private handle(r: Req): [number, unknown] {
    if (!r.path.startsWith("/client/v4/")) return [404, failure(7000, "No route for that URI")];
    if (r.headers.authorization !== `Bearer ${TOKEN}`) return [403, failure(10000, "Authentication error")];
    if (r.body !== undefined && r.headers["content-type"] !== "application/json") return [415, failure(6003, "Invalid request headers")];
    if (this.failNext?.match(r)) {
      const f = this.failNext;
      this.failNext = undefined;
      return [f.status, f.body];
    }
    const p = r.path.slice("/client/v4".length);
    let m: RegExpExecArray | null;
    if (p === "/zones" && r.method === "GET") {
      const name = r.query.get("name");
      const result = this.zones.filter((z) => !name || z.name === name);
      return [200, envelope(result, { result_info: { page: 1, per_page: 50, count: result.length, total_count: result.length, total_pages: 1 } })];
    }
    if ((m = /^\/zones\/([0-9a-f]{32})$/.exec(p)) && r.method === "GET") {
      const z = this.zones.find((x) => x.id === m![1]);
      return z ? [200, envelope(z)] : [404, failure(7003, "Could not route to /zones/" + m[1] + ", perhaps your object identifier is invalid?")];
    }
    if ((m = /^\/zones\/([0-9a-f]{32})\/dns_records(?:\/([0-9a-f]{32}))?$/.exec(p))) {
      const zoneId = m[1]!;
      const id = m[2];
      if (!this.zones.some((z) => z.id === zoneId)) return [404, failure(7003, `Could not route to /zones/${zoneId}/dns_records, perhaps your object identifier is invalid?`)];
      const inZone = this.records.filter((x) => x.zone_id === zoneId);
      if (!id && r.method === "GET") {
        const list = inZone.filter((x) => (!r.query.get("type") || x.type === r.query.get("type")) && (!r.query.get("name.exact") || x.name === r.query.get("name.exact")));
        const page = Number(r.query.get("page") ?? 1);
        const total = Math.max(1, Math.ceil(list.length / PAGE_SIZE));
        const result = list.slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE);
        return [200, envelope(result, { result_info: { page, per_page: PAGE_SIZE, count: result.length, total_count: list.length, total_pages: total } })];
      }
      if (!id && r.method === "POST") {
        const body = r.body as Record<string, unknown>;
        const bad = this.validate(body);
        if (bad) return [400, failure(9005, bad)];
        if (inZone.some((x) => x.name === body.name && x.type === body.type && x.content === body.content)) return [400, failure(81058, "An identical record already exists.")];
        if (inZone.some((x) => x.name === body.name && (x.type === "CNAME") !== (body.type === "CNAME") && body.type !== "TXT" && x.type !== "TXT")) {
          return [400, failure(81053, "An A, AAAA, or CNAME record with that host already exists.")];
        }
        return [200, envelope(this.add(zoneId, body as Partial<CfRecord> & { name: string; type: string; content: string }))];
      }
      const rec = inZone.find((x) => x.id === id);
      if (!rec) return [404, failure(81044, "Record does not exist.")];
      if (r.method === "DELETE") {
        this.records = this.records.filter((x) => x.id !== id);
        return [200, envelope({ id })];
      }
      if (r.method === "PUT" || r.method === "PATCH") {
        const body = r.body as Record<string, unknown>;
        const merged = r.method === "PUT" ? { ...body } : { type: rec.type, name: rec.name, content: rec.content, ttl: rec.ttl, ...body };
        const bad = this.validate(merged);
        if (bad) return [400, failure(9005, bad)];
        Object.assign(rec, r.method === "PUT" ? { proxied: false, ttl: 1 } : {}, body, { modified_on: new Date().toISOString() });
        return [200, envelope(rec)];
      }
    }
    return [405, failure(10405, "Method not allowed")];
  }

  mutations(): string[] {
    return this.requests.filter((r) => r.method !== "GET").map((r) => `${r.method} ${r.path.replace(/[0-9a-f]{32}$/, ":id").replace("/client/v4", "")}`);
  }
}

const fake = new FakeCloudflare();
beforeAll(() => fake.start());
afterAll(() => new Promise<void>((resolve) => fake.server.close(() => resolve())));
beforeEach(() => fake.reset());

const provider = (extra: Record<string, unknown> = {}, zone = "example.com") => createDnsProvider(zone, { kind: "cloudflare", apiToken: TOKEN, apiUrl: fake.url, ...extra });

async function caught(p: Promise<unknown>): Promise<HearthError> {
  try {
    await p;
  } catch (e) {
    if (isHearthError(e)) return e;
    throw e;
  }
  throw new Error("expected a HearthError");
}

describe("cloudflare provider (documented API v4)", () => {
  it("looks the zone up by name once, sends the Bearer token, and creates unproxied records", async () => {
    const p = provider();
    await p.upsert({ name: "www.example.com", type: "A", values: ["192.0.2.1", "192.0.2.2"], ttl: 300 });
    const [lookup, list, ...posts] = fake.requests;
    expect(lookup).toMatchObject({ method: "GET", path: "/client/v4/zones" });
    expect(lookup!.query.get("name")).toBe("example.com");
    expect(lookup!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(list).toMatchObject({ method: "GET", path: `/client/v4/zones/${ZONE_ID}/dns_records` });
    expect(Object.fromEntries(list!.query)).toMatchObject({ type: "A", "name.exact": "www.example.com" });
    expect(posts.map((r) => [r.method, r.path, r.body])).toEqual([
      ["POST", `/client/v4/zones/${ZONE_ID}/dns_records`, { type: "A", name: "www.example.com", content: "192.0.2.1", ttl: 300, proxied: false }],
      ["POST", `/client/v4/zones/${ZONE_ID}/dns_records`, { type: "A", name: "www.example.com", content: "192.0.2.2", ttl: 300, proxied: false }],
    ]);
    expect(posts[0]!.headers["content-type"]).toBe("application/json");
    expect(await p.get("www.example.com", "A")).toEqual({ name: "www.example.com", type: "A", values: ["192.0.2.1", "192.0.2.2"], ttl: 300 });
    expect(fake.requests.filter((r) => r.path === "/client/v4/zones")).toHaveLength(1);
  });

  it("uses a configured zone id without a lookup", async () => {
    await provider({ zoneId: ZONE_ID }).upsert({ name: "a.example.com", type: "AAAA", values: ["2001:DB8::1"], ttl: 120 });
    expect(fake.requests.some((r) => r.path === "/client/v4/zones")).toBe(false);
    expect(fake.records[0]).toMatchObject({ type: "AAAA", content: "2001:db8::1", ttl: 120 });
  });

  it("sends TXT content as quoted character-strings and reads it back exactly", async () => {
    const p = provider();
    const values = ["hello world", 'with "quotes" and \\', "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0"];
    await p.upsert({ name: "_acme-challenge.example.com", type: "TXT", values, ttl: 60 });
    expect(fake.records.map((r) => r.content)).toEqual(['"hello world"', '"with \\"quotes\\" and \\\\"', '"LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0"']);
    // TXT records cannot be proxied: the field is not sent
    expect(fake.requests.filter((r) => r.method === "POST").every((r) => !("proxied" in (r.body as object)))).toBe(true);
    expect((await p.get("_acme-challenge.example.com", "TXT"))!.values).toEqual(values);
    // a value stored unquoted (created elsewhere, before Cloudflare asked for quotes) is read as is
    fake.add(ZONE_ID, { name: "legacy.example.com", type: "TXT", content: "v=spf1 -all", ttl: 300 });
    expect((await p.get("legacy.example.com", "TXT"))!.values).toEqual(["v=spf1 -all"]);
  });

  it("replaces a set in place: keeps equal records, rewrites others with PUT, deletes the rest, and pages through lists", async () => {
    for (const ip of ["192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4", "192.0.2.5"]) fake.add(ZONE_ID, { name: "app.example.com", type: "A", content: ip, ttl: 300 });
    fake.add(ZONE_ID, { name: "app.example.com", type: "TXT", content: '"keep me"', ttl: 300 });
    const p = provider({ zoneId: ZONE_ID });
    expect((await p.get("app.example.com", "A"))!.values).toHaveLength(5); // 3 pages of 2
    fake.requests = [];
    await p.upsert({ name: "app.example.com", type: "A", values: ["192.0.2.5", "198.51.100.1"], ttl: 300 });
    expect(fake.mutations()).toEqual([`PUT /zones/${ZONE_ID}/dns_records/:id`, ...Array(3).fill(`DELETE /zones/${ZONE_ID}/dns_records/:id`)]);
    expect(
      fake.records
        .filter((r) => r.type === "A")
        .map((r) => r.content)
        .sort(),
    ).toEqual(["192.0.2.5", "198.51.100.1"]);
    expect(fake.records.find((r) => r.type === "TXT")!.content).toBe('"keep me"');
    // same values again: nothing written
    fake.requests = [];
    await p.upsert({ name: "app.example.com", type: "A", values: ["198.51.100.1", "192.0.2.5"], ttl: 300 });
    expect(fake.mutations()).toEqual([]);
    // only the TTL differs: PATCH ttl
    await p.upsert({ name: "app.example.com", type: "A", values: ["198.51.100.1", "192.0.2.5"], ttl: 600 });
    expect(fake.requests.filter((r) => r.method === "PATCH").map((r) => r.body)).toEqual([{ ttl: 600 }, { ttl: 600 }]);
  });

  it("replaces a CNAME target in place (a second CNAME could not be created)", async () => {
    fake.add(ZONE_ID, { name: "docs.example.com", type: "CNAME", content: "old.example.net", ttl: 300 });
    await provider({ zoneId: ZONE_ID }).upsert({ name: "docs.example.com", type: "CNAME", values: ["New.Example.net."], ttl: 300 });
    expect(fake.mutations()).toEqual([`PUT /zones/${ZONE_ID}/dns_records/:id`]);
    expect(fake.records).toMatchObject([{ type: "CNAME", content: "new.example.net" }]);
  });

  it("removes given values or the whole set, idempotently", async () => {
    const p = provider({ zoneId: ZONE_ID });
    await p.upsert({ name: "t.example.com", type: "TXT", values: ["one", "two"], ttl: 60 });
    await p.remove("t.example.com", "TXT", ["one"]);
    expect(fake.records.map((r) => r.content)).toEqual(['"two"']);
    await p.remove("t.example.com", "TXT");
    expect(fake.records).toEqual([]);
    fake.requests = [];
    await p.remove("t.example.com", "TXT");
    expect(fake.mutations()).toEqual([]);
    // a record deleted by someone else between list and DELETE (404) counts as removed
    const r = fake.add(ZONE_ID, { name: "r.example.com", type: "A", content: "192.0.2.1" });
    fake.failNext = { match: (q) => q.method === "DELETE" && q.path.endsWith(r.id), status: 404, body: failure(81044, "Record does not exist.") };
    await p.remove("r.example.com", "A");
  });

  it("a rejected token is invalid and quotes Cloudflare's error, never the token", async () => {
    const e = await caught(provider({ apiToken: "wrong-token-123" }).upsert({ name: "www.example.com", type: "A", values: ["192.0.2.1"], ttl: 300 }));
    expect(e.code).toBe("invalid");
    expect(e.message).toBe("Cloudflare rejected the API token for zone example.com: Authentication error (10000). The token needs Zone:DNS:Edit on this zone.");
    expect(e.details).toEqual({ status: 403, errors: [{ code: 10000, message: "Authentication error" }] });
    expect(JSON.stringify(e.details) + e.message).not.toContain("wrong-token-123");
  });

  it("a refused record is invalid with Cloudflare's errors[]; 429 and 5xx are external", async () => {
    const p = provider({ zoneId: ZONE_ID });
    fake.failNext = { match: (r) => r.method === "POST", status: 400, body: failure(9005, "Content for A record is invalid. Must be a valid IPv4 address") };
    const e1 = await caught(p.upsert({ name: "x.example.com", type: "A", values: ["192.0.2.1"], ttl: 300 }));
    expect(e1.code).toBe("invalid");
    expect(e1.message).toBe("Cloudflare refused the request for zone example.com: Content for A record is invalid. Must be a valid IPv4 address (9005)");

    fake.failNext = { match: () => true, status: 429, body: failure(971, "Please wait and consider throttling your request speed") };
    const e2 = await caught(p.get("x.example.com", "A"));
    expect(e2.code).toBe("external");
    expect(e2.message).toContain("Cloudflare rate limit reached (zone example.com): Please wait and consider throttling your request speed (971)");

    fake.failNext = { match: () => true, status: 502, body: "<html>bad gateway</html>" };
    const e3 = await caught(p.get("x.example.com", "A"));
    expect(e3.code).toBe("external");
    expect(e3.message).toBe("Cloudflare API error (zone example.com): HTTP 502");

    // 200 with success:false is still a failure
    fake.failNext = { match: () => true, status: 200, body: failure(1001, "Something odd") };
    expect((await caught(p.get("x.example.com", "A"))).message).toContain("Something odd (1001)");
  });

  it("an unknown zone name or a zone id of another zone is invalid; verify passes for the right one", async () => {
    const e1 = await caught(provider({}, "nothere.net").verify());
    expect(e1.code).toBe("invalid");
    expect(e1.message).toMatch(/^Cloudflare has no zone nothere\.net that this API token can see/);
    const e2 = await caught(provider({ zoneId: OTHER_ZONE_ID }).verify());
    expect(e2.message).toBe(`Cloudflare zone id ${OTHER_ZONE_ID} is the zone other.org, not example.com`);
    // a DNS-only token (no Zone:Read) gets 403 on the zone; the records' zone_name is checked instead
    fake.add(OTHER_ZONE_ID, { name: "www.other.org", type: "A", content: "192.0.2.1" });
    fake.failNext = { match: (r) => r.path === `/client/v4/zones/${OTHER_ZONE_ID}`, status: 403, body: failure(10000, "Authentication error") };
    expect((await caught(provider({ zoneId: OTHER_ZONE_ID }).verify())).message).toBe(`Cloudflare zone id ${OTHER_ZONE_ID} is the zone other.org, not example.com`);
    await provider().verify();
    await provider({ zoneId: ZONE_ID }).verify();
  });

  it("an unreachable API is external", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const e = await caught(createDnsProvider("example.com", { kind: "cloudflare", apiToken: TOKEN, apiUrl: `http://127.0.0.1:${port}/client/v4` }).verify());
    expect(e.code).toBe("external");
    expect(e.message).toBe("cannot reach the Cloudflare API (zone example.com): connection refused");
  });
});
