import { createHash, createHmac } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { isHearthError, type HearthError } from "@hearth/contracts";
import { createDnsProvider } from "./index.ts";
import { Route53Provider } from "./route53.ts";

/**
 * Route 53 cannot be reached from the build machines, so these tests run the real
 * @aws-sdk/client-route-53 against a local server that speaks the documented REST/XML API
 * (API version 2013-04-01): ListHostedZonesByName, GetHostedZone, ListResourceRecordSets,
 * ChangeResourceRecordSets, and the ErrorResponse error document. The server checks the
 * SigV4 signature with the secret key like AWS does, so a wrong secret fails for real, and
 * it enforces Route 53's rules: DELETE must match the current set exactly, TXT strings
 * must be quoted and at most 255 characters.
 */

const ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE";
const SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const NS = "https://route53.amazonaws.com/doc/2013-04-01/";
const PUBLIC_ZONE = "Z0PUBLIC1234567890AB";
const PRIVATE_ZONE = "Z0PRIVATE234567890AB";

interface RRSet {
  name: string;
  type: string;
  ttl: number;
  values: string[];
}
interface Req {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage["headers"];
  body: string;
}

const xmlEscape = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const xmlUnescape = (s: string) =>
  s
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&#x([0-9a-f]+);/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16)))
    .replace(/&#(\d+);/g, (_, d: string) => String.fromCharCode(Number(d)))
    .replace(/&amp;/g, "&");
const tag = (xml: string, name: string) => {
  const m = new RegExp(`<${name}>([\\s\\S]*?)</${name}>`).exec(xml);
  return m ? xmlUnescape(m[1]!) : undefined;
};
const tags = (xml: string, name: string) => [...xml.matchAll(new RegExp(`<${name}>([\\s\\S]*?)</${name}>`, "g"))].map((m) => m[1]!);

function errorXml(code: string, message: string): string {
  return `<?xml version="1.0"?>\n<ErrorResponse xmlns="${NS}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${xmlEscape(message)}</Message></Error><RequestId>d1a2c3b4-0000-4000-8000-000000000000</RequestId></ErrorResponse>`;
}

const sha256 = (s: string | Buffer) => createHash("sha256").update(s).digest("hex");
const hmac = (key: string | Buffer, s: string) => createHmac("sha256", key).update(s).digest();
const rfc3986 = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** AWS Signature Version 4 check, as documented ("Create a signed AWS API request"). */
function checkSigV4(req: Req): { ok: true } | { ok: false; code: string; message: string } {
  const auth = req.headers.authorization ?? "";
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  const amzDate = req.headers["x-amz-date"];
  if (!m || typeof amzDate !== "string") return { ok: false, code: "MissingAuthenticationToken", message: "Missing Authentication Token" };
  const [, keyId, date, region, service, signedHeaders, signature] = m;
  if (keyId !== ACCESS_KEY) return { ok: false, code: "InvalidClientTokenId", message: "The security token included in the request is invalid." };
  if (service !== "route53" || region !== "us-east-1") return { ok: false, code: "SignatureDoesNotMatch", message: `Credential should be scoped to a valid region and service (${region}/${service})` };
  const query = [...req.query.entries()]
    .map(([k, v]) => [rfc3986(k), rfc3986(v)] as const)
    .sort(([a, x], [b, y]) => (a === b ? (x < y ? -1 : 1) : a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
  const headers = signedHeaders!
    .split(";")
    .map(
      (h) =>
        `${h}:${String(req.headers[h] ?? "")
          .trim()
          .replace(/\s+/g, " ")}\n`,
    )
    .join("");
  const payload = typeof req.headers["x-amz-content-sha256"] === "string" ? req.headers["x-amz-content-sha256"] : sha256(req.body);
  const canonical = [
    req.method,
    req.path
      .split("/")
      .map((s) => rfc3986(decodeURIComponent(s)))
      .join("/"),
    query,
    headers,
    signedHeaders,
    payload,
  ].join("\n");
  const scope = `${date}/${region}/${service}/aws4_request`;
  const toSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256(canonical)].join("\n");
  const key = hmac(hmac(hmac(hmac(`AWS4${SECRET}`, date!), region!), service!), "aws4_request");
  const expected = createHmac("sha256", key).update(toSign).digest("hex");
  if (expected !== signature) {
    return { ok: false, code: "SignatureDoesNotMatch", message: "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method." };
  }
  return { ok: true };
}

/** Route 53 orders record sets by name with labels reversed (com.example.www), then type. */
const order = (s: { name: string; type: string }) => `${s.name.replace(/\.$/, "").split(".").reverse().join(".")}\u0000${s.type}`;

class FakeRoute53 {
  server!: Server;
  url = "";
  requests: Req[] = [];
  zones = [
    { id: PRIVATE_ZONE, name: "example.com.", private: true },
    { id: PUBLIC_ZONE, name: "example.com.", private: false },
    { id: "Z0OTHER34567890ABCDE", name: "other.org.", private: false },
  ];
  sets = new Map<string, RRSet[]>();
  /** Respond to the next matching request with this instead (status, XML body). */
  failNext: { match: (r: Req) => boolean; status: number; body: string } | undefined;
  /** Runs before a change batch is applied (to simulate a concurrent writer). */
  beforeChange: (() => void) | undefined;

  reset(): void {
    this.requests = [];
    this.failNext = undefined;
    this.beforeChange = undefined;
    this.sets = new Map([
      [PUBLIC_ZONE, [{ name: "example.com.", type: "NS", ttl: 172800, values: ["ns-1.awsdns-01.org."] }]],
      [PRIVATE_ZONE, []],
    ]);
  }

  async start(): Promise<void> {
    this.reset();
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const u = new URL(req.url ?? "/", "http://localhost");
        const r: Req = { method: req.method ?? "GET", path: u.pathname, query: u.searchParams, headers: req.headers, body: Buffer.concat(chunks).toString("utf8") };
        this.requests.push(r);
        const [status, body] = this.handle(r);
        res.writeHead(status, { "Content-Type": "text/xml", "x-amzn-RequestId": "d1a2c3b4-0000-4000-8000-000000000000" });
        res.end(body);
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private handle(r: Req): [number, string] {
    const sig = checkSigV4(r);
    if (!sig.ok) return [403, errorXml(sig.code, sig.message)];
    if (this.failNext?.match(r)) {
      const f = this.failNext;
      this.failNext = undefined;
      return [f.status, f.body];
    }
    let m: RegExpExecArray | null;
    if (r.method === "GET" && r.path === "/2013-04-01/hostedzonesbyname") {
      const dnsname = r.query.get("dnsname") ?? "";
      const zones = this.zones.filter((z) => z.name >= dnsname).sort((a, b) => (a.name < b.name ? -1 : 1));
      const max = Number(r.query.get("maxitems") ?? 100);
      const items = zones
        .slice(0, max)
        .map(
          (z) =>
            `<HostedZone><Id>/hostedzone/${z.id}</Id><Name>${z.name}</Name><CallerReference>ref-${z.id}</CallerReference><Config><Comment>test</Comment><PrivateZone>${z.private}</PrivateZone></Config><ResourceRecordSetCount>2</ResourceRecordSetCount></HostedZone>`,
        )
        .join("");
      return [
        200,
        `<?xml version="1.0" encoding="UTF-8"?>\n<ListHostedZonesByNameResponse xmlns="${NS}"><HostedZones>${items}</HostedZones><DNSName>${dnsname}</DNSName><IsTruncated>false</IsTruncated><MaxItems>${max}</MaxItems></ListHostedZonesByNameResponse>`,
      ];
    }
    if ((m = /^\/2013-04-01\/hostedzone\/([A-Z0-9]+)$/.exec(r.path)) && r.method === "GET") {
      const z = this.zones.find((x) => x.id === m![1]);
      if (!z) return [404, errorXml("NoSuchHostedZone", `No hosted zone found with ID: ${m[1]}`)];
      return [
        200,
        `<?xml version="1.0" encoding="UTF-8"?>\n<GetHostedZoneResponse xmlns="${NS}"><HostedZone><Id>/hostedzone/${z.id}</Id><Name>${z.name}</Name><CallerReference>ref</CallerReference><Config><PrivateZone>${z.private}</PrivateZone></Config><ResourceRecordSetCount>2</ResourceRecordSetCount></HostedZone><DelegationSet><NameServers><NameServer>ns-1.awsdns-01.org</NameServer></NameServers></DelegationSet></GetHostedZoneResponse>`,
      ];
    }
    if ((m = /^\/2013-04-01\/hostedzone\/([A-Z0-9]+)\/rrset\/?$/.exec(r.path))) {
      const sets = this.sets.get(m[1]!);
      if (!sets) return [404, errorXml("NoSuchHostedZone", `No hosted zone found with ID: ${m[1]}`)];
      return r.method === "GET" ? this.list(sets, r) : this.change(sets, r);
    }
    return [404, errorXml("UnknownOperationException", `no route for ${r.method} ${r.path}`)];
  }

  private list(sets: RRSet[], r: Req): [number, string] {
    const start = { name: r.query.get("name") ?? "", type: r.query.get("type") ?? "" };
    const max = Number(r.query.get("maxitems") ?? 300);
    const sorted = [...sets].sort((a, b) => (order(a) < order(b) ? -1 : 1));
    const from = sorted.filter((s) => !start.name || order(s) >= order(start));
    const page = from.slice(0, max);
    const xml = page
      .map(
        (s) =>
          `<ResourceRecordSet><Name>${s.name}</Name><Type>${s.type}</Type><TTL>${s.ttl}</TTL><ResourceRecords>${s.values.map((v) => `<ResourceRecord><Value>${xmlEscape(v)}</Value></ResourceRecord>`).join("")}</ResourceRecords></ResourceRecordSet>`,
      )
      .join("");
    const next = from[max];
    const more = next
      ? `<IsTruncated>true</IsTruncated><MaxItems>${max}</MaxItems><NextRecordName>${next.name}</NextRecordName><NextRecordType>${next.type}</NextRecordType>`
      : `<IsTruncated>false</IsTruncated><MaxItems>${max}</MaxItems>`;
    return [200, `<?xml version="1.0" encoding="UTF-8"?>\n<ListResourceRecordSetsResponse xmlns="${NS}"><ResourceRecordSets>${xml}</ResourceRecordSets>${more}</ListResourceRecordSetsResponse>`];
  }

  private change(sets: RRSet[], r: Req): [number, string] {
    if (!r.body.includes("<ChangeResourceRecordSetsRequest")) return [400, errorXml("MalformedInput", "ChangeBatch is not valid, expected ChangeResourceRecordSetsRequest")];
    this.beforeChange?.();
    const next = sets.map((s) => ({ ...s, values: [...s.values] }));
    const problems: string[] = [];
    for (const c of tags(r.body, "Change")) {
      const action = tag(c, "Action");
      const name = tag(c, "Name")!;
      const type = tag(c, "Type")!;
      const ttl = Number(tag(c, "TTL"));
      const values = tags(c, "Value").map(xmlUnescape);
      for (const v of type === "TXT" ? values : []) {
        const strings = v.match(/"((?:[^"\\]|\\.)*)"/g) ?? [];
        if (strings.length === 0 || strings.join(" ") !== v.trim())
          problems.push(`Invalid Resource Record: 'FATAL problem: InvalidCharacterString (Value should be enclosed in quotation marks) encountered with '${v}''`);
        for (const s of strings) if (s.length - 2 > 255 && !/\\/.test(s)) problems.push(`Invalid Resource Record: 'FATAL problem: TXTRDATATooLong encountered with '${v}''`);
      }
      const i = next.findIndex((s) => s.name === name && s.type === type);
      if (action === "UPSERT") {
        if (i >= 0) next.splice(i, 1);
        next.push({ name, type, ttl, values });
      } else if (action === "DELETE") {
        if (i < 0) problems.push(`Tried to delete resource record set [name='${name}', type='${type}'] but it was not found`);
        else if (next[i]!.ttl !== ttl || [...next[i]!.values].sort().join("\n") !== [...values].sort().join("\n")) {
          problems.push(`Tried to delete resource record set [name='${name}', type='${type}'] but the values provided do not match the current values`);
        } else next.splice(i, 1);
      } else if (action === "CREATE") {
        if (i >= 0) problems.push(`Tried to create resource record set [name='${name}', type='${type}'] but it already exists`);
        else next.push({ name, type, ttl, values });
      }
    }
    if (problems.length) return [400, errorXml("InvalidChangeBatch", `[${problems.join(", ")}]`)];
    sets.splice(0, sets.length, ...next);
    return [
      200,
      `<?xml version="1.0" encoding="UTF-8"?>\n<ChangeResourceRecordSetsResponse xmlns="${NS}"><ChangeInfo><Id>/change/C2682N5HXP0BZ4</Id><Status>PENDING</Status><SubmittedAt>2026-01-01T00:00:00.000Z</SubmittedAt></ChangeInfo></ChangeResourceRecordSetsResponse>`,
    ];
  }

  set(name: string, type: string): RRSet | undefined {
    return this.sets.get(PUBLIC_ZONE)!.find((s) => s.name === name && s.type === type);
  }
  changes(): Req[] {
    return this.requests.filter((r) => r.method === "POST");
  }
}

const fake = new FakeRoute53();
beforeAll(() => fake.start());
afterAll(() => new Promise<void>((resolve) => fake.server.close(() => resolve())));
beforeEach(() => fake.reset());

const provider = (extra: Record<string, unknown> = {}) => createDnsProvider("example.com", { kind: "route53", accessKeyId: ACCESS_KEY, secretAccessKey: SECRET, endpoint: fake.url, ...extra });

async function caught(p: Promise<unknown>): Promise<HearthError> {
  try {
    await p;
  } catch (e) {
    if (isHearthError(e)) return e;
    throw e;
  }
  throw new Error("expected a HearthError");
}

describe("route53 provider (documented REST API, SigV4 checked)", () => {
  it("finds the public hosted zone by name and UPSERTs a signed change batch", async () => {
    const p = provider();
    await p.upsert({ name: "www.example.com", type: "A", values: ["192.0.2.1", "192.0.2.2"], ttl: 300 });
    const lookup = fake.requests[0]!;
    expect(lookup.method).toBe("GET");
    expect(lookup.path).toBe("/2013-04-01/hostedzonesbyname");
    expect(lookup.query.get("dnsname")).toBe("example.com.");
    const post = fake.changes()[0]!;
    // the private zone of the same name is skipped
    expect(post.path).toMatch(new RegExp(`^/2013-04-01/hostedzone/${PUBLIC_ZONE}/rrset/?$`));
    expect(post.headers.authorization).toMatch(
      new RegExp(`^AWS4-HMAC-SHA256 Credential=${ACCESS_KEY}/\\d{8}/us-east-1/route53/aws4_request, SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*, Signature=[0-9a-f]{64}$`),
    );
    expect(post.body).toContain(`<ChangeResourceRecordSetsRequest xmlns="${NS}">`);
    expect(tag(post.body, "Action")).toBe("UPSERT");
    expect(tag(post.body, "Name")).toBe("www.example.com.");
    expect(tag(post.body, "TTL")).toBe("300");
    expect(tags(post.body, "Value")).toEqual(["192.0.2.1", "192.0.2.2"]);
    expect(fake.set("www.example.com.", "A")).toEqual({ name: "www.example.com.", type: "A", ttl: 300, values: ["192.0.2.1", "192.0.2.2"] });

    expect(await p.get("www.example.com", "A")).toEqual({ name: "www.example.com", type: "A", values: ["192.0.2.1", "192.0.2.2"], ttl: 300 });
    const list = fake.requests.at(-1)!;
    expect(list.path).toBe(`/2013-04-01/hostedzone/${PUBLIC_ZONE}/rrset`);
    expect(list.query.get("name")).toBe("www.example.com.");
    expect(list.query.get("type")).toBe("A");
    // the zone id is looked up once per provider
    expect(fake.requests.filter((r) => r.path.endsWith("hostedzonesbyname"))).toHaveLength(1);
  });

  it("uses a given hosted zone id (with or without /hostedzone/) without a lookup", async () => {
    await provider({ hostedZoneId: `/hostedzone/${PUBLIC_ZONE}` }).upsert({ name: "a.example.com", type: "AAAA", values: ["2001:db8::1"], ttl: 60 });
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`POST /2013-04-01/hostedzone/${PUBLIC_ZONE}/rrset`]);
    expect(await provider({ hostedZoneId: PUBLIC_ZONE }).get("a.example.com", "AAAA")).toMatchObject({ values: ["2001:db8::1"] });
  });

  it("returns null for an absent set even when the list starts at the next name", async () => {
    const p = provider();
    await p.upsert({ name: "b.example.com", type: "TXT", values: ["x"], ttl: 60 });
    expect(await p.get("a.example.com", "TXT")).toBeNull();
    expect(await p.get("b.example.com", "A")).toBeNull();
  });

  it("writes TXT as quoted strings of at most 255 characters with octal escapes, and reads them back", async () => {
    const p = provider();
    const values = ["hello world", 'a "quoted" \\ value', "é✓", "y".repeat(300)];
    await p.upsert({ name: "_acme-challenge.example.com", type: "TXT", values, ttl: 60 });
    const stored = fake.set("_acme-challenge.example.com.", "TXT")!.values;
    expect(stored).toEqual(['"hello world"', '"a \\"quoted\\" \\\\ value"', '"\\303\\251\\342\\234\\223"', `"${"y".repeat(255)}" "${"y".repeat(45)}"`]);
    expect((await p.get("_acme-challenge.example.com", "TXT"))!.values).toEqual(values);
  });

  it("removes values with UPSERT of the rest, the last value with an exact DELETE, and is idempotent", async () => {
    const p = provider();
    await p.upsert({ name: "t.example.com", type: "TXT", values: ["one", "two"], ttl: 120 });
    await p.remove("t.example.com", "TXT", ["one"]);
    expect(fake.set("t.example.com.", "TXT")).toEqual({ name: "t.example.com.", type: "TXT", ttl: 120, values: ['"two"'] });
    await p.remove("t.example.com", "TXT", ["two"]);
    const del = fake.changes().at(-1)!;
    expect(tag(del.body, "Action")).toBe("DELETE");
    expect(tag(del.body, "TTL")).toBe("120");
    expect(fake.set("t.example.com.", "TXT")).toBeUndefined();
    const before = fake.changes().length;
    await p.remove("t.example.com", "TXT");
    await p.remove("t.example.com", "TXT", ["two"]);
    expect(fake.changes().length).toBe(before); // nothing to delete: no change batch sent
  });

  it("treats a set deleted by someone else between read and DELETE as removed", async () => {
    const p = provider();
    await p.upsert({ name: "race.example.com", type: "A", values: ["192.0.2.9"], ttl: 60 });
    fake.beforeChange = () => {
      const sets = fake.sets.get(PUBLIC_ZONE)!;
      sets.splice(
        sets.findIndex((s) => s.name === "race.example.com."),
        1,
      );
    };
    await p.remove("race.example.com", "A");
  });

  it("a wrong secret key fails signature verification: invalid, without the secret in the message", async () => {
    const wrong = "x".repeat(40);
    const p = provider({ secretAccessKey: wrong });
    const e = await caught(p.upsert({ name: "www.example.com", type: "A", values: ["192.0.2.1"], ttl: 60 }));
    expect(e.code).toBe("invalid");
    expect(e.message).toMatch(/^Route 53 rejected the credentials for zone example\.com \(SignatureDoesNotMatch\): The request signature we calculated does not match/);
    expect(e.message).not.toContain(wrong);
    expect(e.message).not.toContain(SECRET);
  });

  it("an unknown access key and an IAM AccessDenied are invalid with AWS's explanation", async () => {
    const e1 = await caught(provider({ accessKeyId: "AKIAUNKNOWNKEY000000" }).verify());
    expect(e1.code).toBe("invalid");
    expect(e1.message).toContain("(InvalidClientTokenId): The security token included in the request is invalid.");

    const denied = "User: arn:aws:iam::123456789012:user/hearth is not authorized to perform: route53:ChangeResourceRecordSets on resource: arn:aws:route53:::hostedzone/" + PUBLIC_ZONE;
    fake.failNext = { match: (r) => r.method === "POST", status: 403, body: errorXml("AccessDenied", denied) };
    const e2 = await caught(provider({ hostedZoneId: PUBLIC_ZONE }).upsert({ name: "www.example.com", type: "A", values: ["192.0.2.1"], ttl: 60 }));
    expect(e2.code).toBe("invalid");
    expect(e2.message).toContain(`(AccessDenied): ${denied}`);
    expect(e2.details).toMatchObject({ awsError: "AccessDenied", status: 403 });
  });

  it("InvalidChangeBatch is invalid and carries Route 53's messages", async () => {
    const msg = "[RRSet of type CNAME with DNS name www.example.com. is not permitted as it conflicts with other records with the same DNS name in zone example.com.]";
    fake.failNext = { match: (r) => r.method === "POST", status: 400, body: errorXml("InvalidChangeBatch", msg) };
    const e = await caught(provider({ hostedZoneId: PUBLIC_ZONE }).upsert({ name: "www.example.com", type: "CNAME", values: ["elsewhere.example.net"], ttl: 60 }));
    expect(e.code).toBe("invalid");
    expect(e.message).toBe(`Route 53 refused the change to zone example.com (InvalidChangeBatch): ${msg}`);
  });

  it("the legacy <InvalidChangeBatch> error document still gives a clear error", async () => {
    fake.failNext = {
      match: (r) => r.method === "POST",
      status: 400,
      body: `<?xml version="1.0"?>\n<InvalidChangeBatch xmlns="${NS}"><Messages><Message>Tried to create resource record set [name='www.example.com.', type='A'] but it already exists</Message></Messages><RequestId>x</RequestId></InvalidChangeBatch>`,
    };
    const e = await caught(provider({ hostedZoneId: PUBLIC_ZONE }).upsert({ name: "www.example.com", type: "A", values: ["192.0.2.1"], ttl: 60 }));
    expect(e.code).toBe("invalid");
    expect(e.message).toBe("Route 53 refused the change to zone example.com (InvalidChangeBatch): Tried to create resource record set [name='www.example.com.', type='A'] but it already exists");
  });

  it("no hosted zone of that name, a wrong zone id, and a zone id of another zone are invalid", async () => {
    const e1 = await caught(createDnsProvider("nothere.net", { kind: "route53", accessKeyId: ACCESS_KEY, secretAccessKey: SECRET, endpoint: fake.url }).verify());
    expect(e1.code).toBe("invalid");
    expect(e1.message).toBe("Route 53 has no hosted zone named nothere.net in this account: check the domain or give the hosted zone id");
    const e2 = await caught(provider({ hostedZoneId: "Z0NOSUCHZONE00000000" }).verify());
    expect(e2.code).toBe("invalid");
    expect(e2.message).toContain("No hosted zone found with ID: Z0NOSUCHZONE00000000");
    const e3 = await caught(provider({ hostedZoneId: "Z0OTHER34567890ABCDE" }).verify());
    expect(e3.message).toBe("Route 53 hosted zone Z0OTHER34567890ABCDE is other.org, not example.com");
    await provider().verify();
  });

  it("throttling is external (after the SDK's retries); an unreachable endpoint is external", async () => {
    const p = new Route53Provider("example.com", { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET, region: "us-east-1", hostedZoneId: PUBLIC_ZONE, endpoint: fake.url }, { maxAttempts: 1 });
    fake.failNext = { match: () => true, status: 400, body: errorXml("Throttling", "Rate exceeded") };
    const e = await caught(p.get("www.example.com", "A"));
    expect(e.code).toBe("external");
    expect(e.message).toBe("Route 53 is busy for zone example.com (Throttling): Rate exceeded; try again later");

    const dead = new Route53Provider(
      "example.com",
      { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET, region: "us-east-1", hostedZoneId: PUBLIC_ZONE, endpoint: "http://127.0.0.1:9" },
      { maxAttempts: 1 },
    );
    const e2 = await caught(dead.get("www.example.com", "A"));
    expect(e2.code).toBe("external");
    expect(e2.message).toBe("cannot reach Route 53 at http://127.0.0.1:9 (zone example.com): ECONNREFUSED");
  });
});
