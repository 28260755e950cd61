import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LETSENCRYPT_PRODUCTION } from "@hearth/contracts";
import { notify, openSecret, setSetting, type Db } from "@hearth/db";
import { migratedDatabase, type TestDatabase } from "../helpers/db";
import { startAdmin, type Call, type Reply, type RunningAdmin } from "../helpers/admin";
import { ownerSession, plainUserToken } from "../helpers/admin-accounts";
import { startStandInBox, type StandInBox } from "../helpers/stand-in-box";
import { VALID_MANIFEST } from "../../packages/contracts/src/manifest.examples";
import { createCertFactory, type CertFactory, type TestCa } from "../../packages/contracts/src/x509.testing";

/**
 * The domains, certificates and settings API over real HTTP (`next start` of the build on a
 * migrated database). admin records intent: these check rows, sealed columns, tasks and
 * events; box is a stand-in on the socket that counts box.wakes() (box's own tests run the tasks).
 * Certificates for the custom mode are made by the openssl CLI.
 */
let t: TestDatabase & { db: Db };
let admin: RunningAdmin;
let tmp = "";
let box: StandInBox;
let ownerCookie = "";
let userToken = "";
let certs: CertFactory;
let ca: TestCa;
const SECRET_KEY = randomBytes(32);
const DAY = 86_400_000;

// secrets sent to the API: none may come back in a response, an event or the log
const TSIG_SECRET = Buffer.from("tsig-secret-0123456789-abcdef").toString("base64");
const TSIG_SECRET_2 = Buffer.from("another-tsig-secret-9876543210").toString("base64");
const PDNS_KEY = "pdns-api-key-Zq8xW3";
const CF_TOKEN = "cf-token-Yh7Kd9Lm2Np4Qr6St8Uv";
const AWS_SECRET = "aws-secret-Jk3Lm5Np7Qr9St1Uv3Wx5";
const SECRETS = [TSIG_SECRET, TSIG_SECRET_2, PDNS_KEY, CF_TOKEN, AWS_SECRET];
const replies: Reply[] = [];

const as = (extra: Call = {}): Call => admin.browser(ownerCookie, extra);
async function call(method: string, url: string, c: Call = {}): Promise<Reply> {
  const r = await admin.call(method, url, c);
  replies.push(r);
  return r;
}
const get = (url: string) => call("GET", url, { cookie: ownerCookie });

async function counts() {
  return { domains: await t.db.domain.count(), tasks: await t.db.task.count(), apps: await t.db.app.count(), names: await t.db.appDomain.count() };
}

/** "path: message" lines of a 400's details. */
function issues(r: Reply): string {
  return ((r.body?.error?.details ?? []) as { path: (string | number)[]; message: string }[]).map((i) => `${i.path.join(".")}: ${i.message}`).join("\n");
}

const RFC2136 = { nameserver: "127.0.0.1:5353", tsigKeyName: "hearth-key", tsigAlgorithm: "hmac-sha256", tsigSecret: TSIG_SECRET };
const POWERDNS = { apiUrl: "http://127.0.0.1:8081", apiKey: PDNS_KEY, serverId: "localhost" };
const CLOUDFLARE = { apiToken: CF_TOKEN, zoneId: "0123456789abcdef0123456789abcdef" };
const ROUTE53 = { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: AWS_SECRET, hostedZoneId: "Z1D633PJN98FT9", region: "eu-west-1" };

beforeAll(async () => {
  t = await migratedDatabase("domains");
  tmp = mkdtempSync(path.join(os.tmpdir(), "hearth-domains-"));
  certs = createCertFactory(tmp);
  ca = certs.ca("Domains Test CA");
  const boxSocket = path.join(tmp, "box.sock");
  box = await startStandInBox(boxSocket);
  admin = await startAdmin({ HEARTH_DATABASE_URL: t.url, HEARTH_BOX_SOCKET: boxSocket, HEARTH_SECRET_KEY: SECRET_KEY.toString("base64") });
  ownerCookie = await ownerSession(admin);
  // the providers here are local test servers (127.0.0.1); "endpoints on this machine" below checks the refusal without it
  await setSetting(t.db, "network.allowPrivateEndpoints", true);
  userToken = await plainUserToken(t.db);
});

afterAll(async () => {
  await admin?.stop();
  await box?.close();
  await t?.drop();
  certs?.cleanup();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe("adding domains", () => {
  it("manual: 201 with the view and the domain.sync task; the first serves the dashboard; box woken", async () => {
    const before = box.wakes();
    const r = await call("POST", "/api/v1/domains", as({ body: { domain: "Example.COM", provider: "manual" } }));
    expect(r.status).toBe(201);
    expect(r.body).toEqual({
      domain: "example.com",
      provider: "manual",
      providerConfig: null,
      tlsMode: "letsencrypt",
      hasCustomCertificate: false,
      isDashboardDomain: true,
      taskId: expect.any(String),
      createdAt: expect.any(String),
    });
    const task = await t.db.task.findUniqueOrThrow({ where: { id: r.body.taskId } });
    expect(task).toMatchObject({ type: "domain.sync", state: "pending", args: { domain: "example.com" }, appId: null });
    expect(box.wakes()).toBe(before + 1);
    // while the sync is pending the list shows it
    const one = await get("/api/v1/domains/example.com");
    expect(one.body).toEqual(r.body);
  });

  it("wildcard and noop take no settings; settings for them → 400", async () => {
    expect((await call("POST", "/api/v1/domains", as({ body: { domain: "example.org", provider: "wildcard" } }))).body.isDashboardDomain).toBe(false);
    expect((await call("POST", "/api/v1/domains", as({ body: { domain: "internal.example", provider: "noop" } }))).status).toBe(201);
    const before = await counts();
    const r = await call("POST", "/api/v1/domains", as({ body: { domain: "x.example.net", provider: "manual", providerConfig: { apiToken: "nope" } } }));
    expect(r.status).toBe(400);
    expect(issues(r)).toBe("providerConfig: the manual provider takes no settings");
    expect(await counts()).toEqual(before);
  });

  it.each([
    ["rfc2136", RFC2136, { nameserver: "127.0.0.1:5353", tsigKeyName: "hearth-key", tsigAlgorithm: "hmac-sha256" }, "tsigSecret"],
    ["powerdns", POWERDNS, { apiUrl: "http://127.0.0.1:8081", serverId: "localhost" }, "apiKey"],
    ["cloudflare", CLOUDFLARE, { zoneId: CLOUDFLARE.zoneId }, "apiToken"],
    ["route53", ROUTE53, { accessKeyId: ROUTE53.accessKeyId, hostedZoneId: ROUTE53.hostedZoneId, region: "eu-west-1" }, "secretAccessKey"],
  ])("%s: 201 without the secret; the settings are stored sealed", async (provider, config, shown, secretField) => {
    const domain = `${provider}.example.net`;
    const r = await call("POST", "/api/v1/domains", as({ body: { domain, provider, providerConfig: config } }));
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ domain, provider, providerConfig: shown, tlsMode: "letsencrypt" });
    expect(r.body.providerConfig).not.toHaveProperty(secretField);
    const row = await t.db.domain.findUniqueOrThrow({ where: { domain } });
    expect(row.providerConfigEnc).toMatch(/^v1:/);
    expect(row.providerConfigEnc).not.toContain((config as Record<string, string>)[secretField]);
    expect(JSON.parse(openSecret(SECRET_KEY, row.providerConfigEnc!))).toEqual({ ...config });
    expect(await t.db.task.count({ where: { type: "domain.sync", args: { equals: { domain } } } })).toBe(1);
  });

  it.each([
    // messages are the schemas' (contracts/dns-config.ts); these check that each names its field
    ["rfc2136 without the secret", "rfc2136", { ...RFC2136, tsigSecret: undefined }, /^providerConfig\.tsigSecret: \w/m],
    [
      "rfc2136 with a bad nameserver and secret",
      "rfc2136",
      { ...RFC2136, nameserver: "not a host", tsigSecret: "%%%" },
      /^providerConfig\.nameserver: must [\s\S]*^providerConfig\.tsigSecret: must be base64/m,
    ],
    ["rfc2136 with an unknown algorithm", "rfc2136", { ...RFC2136, tsigAlgorithm: "hmac-foo" }, /^providerConfig\.tsigAlgorithm: must be one of/m],
    ["rfc2136 with a typo'd field", "rfc2136", { ...RFC2136, tsigkey: "x" }, /^providerConfig: .*tsigkey/m],
    ["powerdns with a ftp URL", "powerdns", { ...POWERDNS, apiUrl: "ftp://127.0.0.1/" }, /^providerConfig\.apiUrl: must be an http/m],
    ["powerdns without settings", "powerdns", undefined, /^providerConfig\.apiUrl: [\s\S]*^providerConfig\.apiKey: /m],
    ["cloudflare with a token with spaces", "cloudflare", { apiToken: "my token here" }, /^providerConfig\.apiToken: must /m],
    ["cloudflare with a bad zone id", "cloudflare", { apiToken: CF_TOKEN, zoneId: "zone" }, /^providerConfig\.zoneId: must /m],
    ["route53 with a bad key id", "route53", { ...ROUTE53, accessKeyId: "lowercase" }, /^providerConfig\.accessKeyId: must be an AWS access key id/m],
    ["route53 with a bad region", "route53", { ...ROUTE53, region: "mars" }, /^providerConfig\.region: must be an AWS region/m],
  ])("%s → 400 naming the field, nothing created", async (_what, provider, providerConfig, want) => {
    const before = await counts();
    const r = await call("POST", "/api/v1/domains", as({ body: { domain: "bad.example.net", provider, ...(providerConfig ? { providerConfig } : {}) } }));
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("invalid");
    expect(issues(r)).toMatch(want);
    expect(await counts()).toEqual(before);
  });

  it("letsencrypt-wildcard only with an API provider", async () => {
    const before = await counts();
    for (const provider of ["manual", "wildcard", "noop"]) {
      const r = await call("POST", "/api/v1/domains", as({ body: { domain: "wild.example.net", provider, tlsMode: "letsencrypt-wildcard" } }));
      expect(r.status).toBe(400);
      expect(issues(r)).toMatch(/^tlsMode: letsencrypt-wildcard needs DNS-01/);
    }
    expect(await counts()).toEqual(before);
    const ok = await call("POST", "/api/v1/domains", as({ body: { domain: "wild.example.net", provider: "rfc2136", providerConfig: RFC2136, tlsMode: "letsencrypt-wildcard" } }));
    expect(ok.status).toBe(201);
    expect(ok.body.tlsMode).toBe("letsencrypt-wildcard");
  });

  it("junk → 400, a duplicate → 409, a plain user → 403", async () => {
    for (const body of [
      { domain: "not a domain", provider: "manual" },
      { domain: "x.example.net" },
      { domain: "x.example.net", provider: "bind" },
      { domain: "x.example.net", provider: "manual", tlsMode: "sometimes" },
    ]) {
      expect((await call("POST", "/api/v1/domains", as({ body }))).status).toBe(400);
    }
    const dup = await call("POST", "/api/v1/domains", as({ body: { domain: "example.com", provider: "noop" } }));
    expect(dup.status).toBe(409);
    expect(dup.body.error.code).toBe("conflict");
    expect((await call("POST", "/api/v1/domains", { token: userToken, body: { domain: "y.example.net", provider: "manual" } })).status).toBe(403);
    expect((await call("GET", "/api/v1/domains", { token: userToken })).status).toBe(403);
  });

  it("GET lists every domain, dashboard first, with settings minus secrets; 404 for an unknown one", async () => {
    const list = await get("/api/v1/domains");
    expect(list.status).toBe(200);
    expect(list.body.domains.map((d: { domain: string }) => d.domain)).toEqual([
      "example.com",
      "cloudflare.example.net",
      "example.org",
      "internal.example",
      "powerdns.example.net",
      "rfc2136.example.net",
      "route53.example.net",
      "wild.example.net",
    ]);
    const rfc = list.body.domains.find((d: { domain: string }) => d.domain === "rfc2136.example.net");
    expect(rfc.providerConfig).toEqual({ nameserver: "127.0.0.1:5353", tsigKeyName: "hearth-key", tsigAlgorithm: "hmac-sha256" });
    expect(rfc.taskId).toEqual(expect.any(String));
    // once box finished the sync, no task is shown
    await t.db.task.updateMany({ where: { type: "domain.sync" }, data: { state: "succeeded", finishedAt: new Date() } });
    expect((await get("/api/v1/domains/rfc2136.example.net")).body.taskId).toBeNull();
    expect((await get("/api/v1/domains/nowhere.example.net")).status).toBe(404);
    expect((await get("/api/v1/domains/..%2F..")).status).toBe(404);
  });
});

describe("editing domains", () => {
  it("PATCH settings without the secret keeps the stored one; other fields are replaced", async () => {
    const r = await call("PATCH", "/api/v1/domains/rfc2136.example.net", as({ body: { providerConfig: { nameserver: "127.0.0.1:5353", tsigKeyName: "other-key" } } }));
    expect(r.status).toBe(200);
    expect(r.body.providerConfig).toEqual({ nameserver: "127.0.0.1:5353", tsigKeyName: "other-key", tsigAlgorithm: "hmac-sha256" });
    expect(r.body.taskId).toEqual(expect.any(String));
    expect(await t.db.task.findUniqueOrThrow({ where: { id: r.body.taskId } })).toMatchObject({ type: "domain.sync", args: { domain: "rfc2136.example.net" } });
    const row = await t.db.domain.findUniqueOrThrow({ where: { domain: "rfc2136.example.net" } });
    expect(JSON.parse(openSecret(SECRET_KEY, row.providerConfigEnc!))).toEqual({ nameserver: "127.0.0.1:5353", tsigKeyName: "other-key", tsigAlgorithm: "hmac-sha256", tsigSecret: TSIG_SECRET });
    // an empty secret keeps it too; a new one replaces it
    await call("PATCH", "/api/v1/domains/rfc2136.example.net", as({ body: { providerConfig: { ...RFC2136, tsigSecret: "" } } }));
    let cfg = JSON.parse(openSecret(SECRET_KEY, (await t.db.domain.findUniqueOrThrow({ where: { domain: "rfc2136.example.net" } })).providerConfigEnc!));
    expect(cfg.tsigSecret).toBe(TSIG_SECRET);
    await call("PATCH", "/api/v1/domains/rfc2136.example.net", as({ body: { providerConfig: { ...RFC2136, tsigSecret: TSIG_SECRET_2 } } }));
    cfg = JSON.parse(openSecret(SECRET_KEY, (await t.db.domain.findUniqueOrThrow({ where: { domain: "rfc2136.example.net" } })).providerConfigEnc!));
    expect(cfg.tsigSecret).toBe(TSIG_SECRET_2);
  });

  it("moving the saved secret to another server needs the secret again: 400 naming it, nothing changed", async () => {
    const before = await counts();
    const stored = (await t.db.domain.findUniqueOrThrow({ where: { domain: "rfc2136.example.net" } })).providerConfigEnc;
    const r = await call("PATCH", "/api/v1/domains/rfc2136.example.net", as({ body: { providerConfig: { ...RFC2136, nameserver: "ns1.example.net:53", tsigSecret: undefined } } }));
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("invalid");
    expect(r.body.error.details).toEqual([{ path: ["providerConfig", "tsigSecret"], code: "custom", message: "must be entered again when nameserver changes" }]);
    expect(await counts()).toEqual(before);
    expect((await t.db.domain.findUniqueOrThrow({ where: { domain: "rfc2136.example.net" } })).providerConfigEnc).toBe(stored);
    // the same with the secret typed again
    const ok = await call("PATCH", "/api/v1/domains/rfc2136.example.net", as({ body: { providerConfig: { ...RFC2136, nameserver: "ns1.example.net:53" } } }));
    expect(ok.status).toBe(200);
    expect(ok.body.providerConfig.nameserver).toBe("ns1.example.net:53");
    // powerdns: the API URL and the server id are where the key goes
    await call("POST", "/api/v1/domains", as({ body: { domain: "moved.example.net", provider: "powerdns", providerConfig: POWERDNS } }));
    for (const change of [{ apiUrl: "http://192.0.2.80:8081" }, { serverId: "other" }]) {
      const m = await call("PATCH", "/api/v1/domains/moved.example.net", as({ body: { providerConfig: { ...POWERDNS, apiKey: undefined, ...change } } }));
      expect(m.status).toBe(400);
      expect(m.body.error.details[0].path).toEqual(["providerConfig", "apiKey"]);
    }
  });

  it("endpoints on this machine or the metadata service are refused unless network.allowPrivateEndpoints is set", async () => {
    await setSetting(t.db, "network.allowPrivateEndpoints", false);
    try {
      const before = await counts();
      for (const [provider, providerConfig, field] of [
        ["powerdns", { ...POWERDNS, apiUrl: "http://169.254.169.254/" }, "apiUrl"],
        ["powerdns", { ...POWERDNS, apiUrl: "http://localhost:8081" }, "apiUrl"],
        ["powerdns", { ...POWERDNS, apiUrl: "http://[::1]:8081" }, "apiUrl"],
        ["rfc2136", { ...RFC2136, nameserver: "127.0.0.1:5353" }, "nameserver"],
        ["cloudflare", { ...CLOUDFLARE, apiUrl: "http://[fe80::1]/client/v4" }, "apiUrl"],
        ["route53", { ...ROUTE53, endpoint: "http://169.254.169.254:80" }, "endpoint"],
      ] as const) {
        const r = await call("POST", "/api/v1/domains", as({ body: { domain: "guarded.example.net", provider, providerConfig } }));
        expect(r.status, `${provider} ${field}`).toBe(400);
        expect(r.body.error.details[0].path).toEqual(["providerConfig", field]);
        expect(r.body.error.message).toMatch(/network\.allowPrivateEndpoints/);
      }
      expect(await counts()).toEqual(before);
      // a public address is fine
      const ok = await call("POST", "/api/v1/domains", as({ body: { domain: "guarded.example.net", provider: "powerdns", providerConfig: { ...POWERDNS, apiUrl: "http://192.0.2.80:8081" } } }));
      expect(ok.status).toBe(201);
    } finally {
      await setSetting(t.db, "network.allowPrivateEndpoints", true);
    }
  });

  it("changing provider needs its full settings; the old secret is not carried over", async () => {
    const before = await counts();
    const r = await call("PATCH", "/api/v1/domains/rfc2136.example.net", as({ body: { provider: "powerdns", providerConfig: { apiUrl: "http://127.0.0.1:8081" } } }));
    expect(r.status).toBe(400);
    expect(issues(r)).toMatch(/^providerConfig\.apiKey: /m);
    expect(await counts()).toEqual(before);
    expect((await t.db.domain.findUniqueOrThrow({ where: { domain: "rfc2136.example.net" } })).provider).toBe("rfc2136");
    const ok = await call("PATCH", "/api/v1/domains/rfc2136.example.net", as({ body: { provider: "powerdns", providerConfig: POWERDNS } }));
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ provider: "powerdns", providerConfig: { apiUrl: "http://127.0.0.1:8081", serverId: "localhost" } });
    const row = await t.db.domain.findUniqueOrThrow({ where: { domain: "rfc2136.example.net" } });
    expect(JSON.parse(openSecret(SECRET_KEY, row.providerConfigEnc!))).toEqual(POWERDNS);
    // to manual: the settings go
    const manual = await call("PATCH", "/api/v1/domains/rfc2136.example.net", as({ body: { provider: "manual" } }));
    expect(manual.status).toBe(200);
    expect(manual.body.providerConfig).toBeNull();
    expect((await t.db.domain.findUniqueOrThrow({ where: { domain: "rfc2136.example.net" } })).providerConfigEnc).toBeNull();
  });

  it("tlsMode rules on PATCH; nothing to change → 400; unknown → 404", async () => {
    // a wildcard-mode domain cannot move to a provider without an API
    const r = await call("PATCH", "/api/v1/domains/wild.example.net", as({ body: { provider: "manual" } }));
    expect(r.status).toBe(400);
    expect(issues(r)).toMatch(/^tlsMode: /);
    const staging = await call("PATCH", "/api/v1/domains/example.org", as({ body: { tlsMode: "letsencrypt-staging" } }));
    expect(staging.status).toBe(200);
    expect(staging.body.tlsMode).toBe("letsencrypt-staging");
    expect((await call("PATCH", "/api/v1/domains/example.org", as({ body: {} }))).status).toBe(400);
    expect((await call("PATCH", "/api/v1/domains/nowhere.example.net", as({ body: { tlsMode: "fallback" } }))).status).toBe(404);
    expect((await call("PATCH", "/api/v1/domains/example.org", as({ body: { customKey: "-----BEGIN PRIVATE KEY-----\n" } }))).status).toBe(400);
  });
});

describe("custom certificates", () => {
  it("a good chain and key → 201; the key is sealed, the chain kept; neither key nor secret returned", async () => {
    const pair = certs.leaf(ca, ["*.custom.example", "custom.example"]);
    const r = await call("POST", "/api/v1/domains", as({ body: { domain: "custom.example", provider: "manual", tlsMode: "custom", customCertificate: pair.certPem, customKey: pair.keyPem } }));
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ tlsMode: "custom", hasCustomCertificate: true });
    expect(r.text).not.toContain("PRIVATE KEY");
    const row = await t.db.domain.findUniqueOrThrow({ where: { domain: "custom.example" } });
    expect(row.customCertPem).toContain("-----BEGIN CERTIFICATE-----");
    expect(row.customKeyEnc).not.toContain("PRIVATE KEY");
    expect(openSecret(SECRET_KEY, row.customKeyEnc!)).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    const ev = await t.db.event.findFirstOrThrow({ where: { action: "domain.add", target: "custom.example" } });
    expect(ev.data).toMatchObject({ tlsMode: "custom", certificate: { names: ["*.custom.example", "custom.example"] } });
    expect(JSON.stringify(ev.data)).not.toContain("PRIVATE");
  });

  it.each([
    ["a key that is not the certificate's", () => ({ ...certs.leaf(ca, ["*.bad.example"]), keyPem: certs.strayKey() }), /^customKey: The private key does not belong to the certificate$/],
    [
      "an expired certificate",
      () => certs.leaf(ca, ["*.bad.example"], { start: new Date(Date.now() - 90 * DAY), end: new Date(Date.now() - DAY) }),
      /^customCertificate: The certificate \(\*\.bad\.example\) expired on /,
    ],
    [
      "a certificate not valid yet",
      () => certs.leaf(ca, ["*.bad.example"], { start: new Date(Date.now() + 5 * DAY), end: new Date(Date.now() + 90 * DAY) }),
      /^customCertificate: .* is not valid before /,
    ],
    ["other names", () => certs.leaf(ca, ["www.bad.example", "bad.example"]), /^customCertificate: The certificate does not cover \*\.bad\.example \(it is for www\.bad\.example, bad\.example\)$/],
    [
      "a broken chain",
      () => {
        const pair = certs.leaf(ca, ["*.bad.example"]);
        return { ...pair, certPem: pair.certPem + certs.ca("Unrelated CA").certPem };
      },
      /^customCertificate: The chain is broken: the certificate \(\*\.bad\.example\) was not issued by chain certificate 2 \(Unrelated CA\)$/,
    ],
    ["garbage", () => ({ certPem: "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n", keyPem: certs.strayKey() }), /^customCertificate: The certificate cannot be parsed/],
    ["no key", () => ({ certPem: certs.leaf(ca, ["*.bad.example"]).certPem, keyPem: undefined }), /^customKey: required for tlsMode custom$/],
  ])("%s → 400 naming the problem, nothing stored", async (_what, make, want) => {
    const pair = make();
    const before = await counts();
    const r = await call(
      "POST",
      "/api/v1/domains",
      as({ body: { domain: "bad.example", provider: "manual", tlsMode: "custom", customCertificate: pair.certPem, ...(pair.keyPem ? { customKey: pair.keyPem } : {}) } }),
    );
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("invalid");
    expect(issues(r)).toMatch(want);
    expect(await counts()).toEqual(before);
  });

  it("not PEM at all → 400; a certificate without tlsMode custom → 400", async () => {
    const r = await call("POST", "/api/v1/domains", as({ body: { domain: "bad.example", provider: "manual", tlsMode: "custom", customCertificate: "hello", customKey: "there" } }));
    expect(r.status).toBe(400);
    expect(issues(r)).toMatch(/^customCertificate: must be PEM text/m);
    const pair = certs.leaf(ca, ["*.bad.example"]);
    const wrongMode = await call("POST", "/api/v1/domains", as({ body: { domain: "bad.example", provider: "manual", customCertificate: pair.certPem, customKey: pair.keyPem } }));
    expect(wrongMode.status).toBe(400);
    expect(issues(wrongMode)).toBe("customCertificate: only with tlsMode custom\ncustomKey: only with tlsMode custom");
    expect(await t.db.domain.count({ where: { domain: "bad.example" } })).toBe(0);
  });

  it("a renewed certificate for the same key alone; a switch to custom needs both; leaving custom forgets them", async () => {
    const before = await t.db.domain.findUniqueOrThrow({ where: { domain: "custom.example" } });
    const renewed = certs.leaf(ca, ["*.custom.example", "custom.example"]);
    const onlyCert = await call("PATCH", "/api/v1/domains/custom.example", as({ body: { customCertificate: renewed.certPem } }));
    // the stored key is not the new certificate's: refused, naming the key
    expect(onlyCert.status).toBe(400);
    expect(issues(onlyCert)).toMatch(/^customKey: The private key does not belong/);
    const both = await call("PATCH", "/api/v1/domains/custom.example", as({ body: { customCertificate: renewed.certPem, customKey: renewed.keyPem } }));
    expect(both.status).toBe(200);
    const after = await t.db.domain.findUniqueOrThrow({ where: { domain: "custom.example" } });
    expect(after.customCertPem).not.toBe(before.customCertPem);
    // now only the (same) certificate again with the stored key: accepted
    expect((await call("PATCH", "/api/v1/domains/custom.example", as({ body: { customCertificate: renewed.certPem } }))).status).toBe(200);

    const toCustom = await call("PATCH", "/api/v1/domains/example.org", as({ body: { tlsMode: "custom" } }));
    expect(toCustom.status).toBe(400);
    expect(issues(toCustom)).toBe("customCertificate: required for tlsMode custom\ncustomKey: required for tlsMode custom");

    const leave = await call("PATCH", "/api/v1/domains/custom.example", as({ body: { tlsMode: "letsencrypt" } }));
    expect(leave.status).toBe(200);
    expect(leave.body.hasCustomCertificate).toBe(false);
    expect(await t.db.domain.findUniqueOrThrow({ where: { domain: "custom.example" } })).toMatchObject({ customCertPem: null, customKeyEnc: null, tlsMode: "letsencrypt" });
  });

  it("the bare domain must be covered while an app serves it, and an app cannot move to an uncovered bare domain", async () => {
    const wildOnly = certs.leaf(ca, ["*.bare.example"]);
    expect(
      (await call("POST", "/api/v1/domains", as({ body: { domain: "bare.example", provider: "manual", tlsMode: "custom", customCertificate: wildOnly.certPem, customKey: wildOnly.keyPem } }))).status,
    ).toBe(201);
    const before = await counts();
    const bare = await call("POST", "/api/v1/apps", as({ body: { manifest: { ...VALID_MANIFEST, id: "org.example.bare" }, subdomain: "", domain: "bare.example" } }));
    expect(bare.status).toBe(409);
    expect(bare.body.error.message).toBe("The custom certificate of bare.example does not cover bare.example; upload one that does first");
    const alias = await call(
      "POST",
      "/api/v1/apps",
      as({ body: { manifest: { ...VALID_MANIFEST, id: "org.example.bare" }, subdomain: "site", domain: "example.com", aliases: [{ subdomain: "", domain: "bare.example" }] } }),
    );
    expect(alias.status).toBe(409);
    expect(await counts()).toEqual(before);
    // a sub-name is covered by the wildcard
    const sub = await call("POST", "/api/v1/apps", as({ body: { manifest: { ...VALID_MANIFEST, id: "org.example.bare" }, subdomain: "www", domain: "bare.example" } }));
    expect(sub.status).toBe(202);
    // once the certificate covers the bare name too, the app may move there; then a wildcard-only one is refused
    const both = certs.leaf(ca, ["*.bare.example", "bare.example"]);
    expect((await call("PATCH", "/api/v1/domains/bare.example", as({ body: { customCertificate: both.certPem, customKey: both.keyPem } }))).status).toBe(200);
    await finishApp(sub.body.id);
    expect((await call("POST", `/api/v1/apps/${sub.body.id}/configure`, as({ body: { subdomain: "" } }))).status).toBe(202);
    const back = await call("PATCH", "/api/v1/domains/bare.example", as({ body: { customCertificate: wildOnly.certPem, customKey: wildOnly.keyPem } }));
    expect(back.status).toBe(400);
    expect(issues(back)).toMatch(/does not cover bare\.example \(it is for \*\.bare\.example\)/);
  });
});

/** Pretend box ran the app's task. */
async function finishApp(appId: string) {
  await t.db.task.updateMany({ where: { appId, state: { in: ["pending", "running"] } }, data: { state: "succeeded", percent: 100, finishedAt: new Date() } });
  await t.db.app.update({ where: { id: appId }, data: { installState: "installed" } });
}

let siteId = "";

describe("aliases and redirects", () => {
  it("install with aliases, redirects and overwriteDns → rows, task args, the view with fqdns", async () => {
    const r = await call(
      "POST",
      "/api/v1/apps",
      as({
        body: {
          manifest: { ...VALID_MANIFEST, id: "org.example.site" },
          subdomain: "site",
          domain: "example.com",
          aliases: [{ subdomain: "www", domain: "example.org" }],
          redirects: [
            { subdomain: "", domain: "example.org" },
            { subdomain: "old", domain: "example.com" },
          ],
          overwriteDns: true,
        },
      }),
    );
    expect(r.status).toBe(202);
    siteId = r.body.id;
    expect(await t.db.task.findUniqueOrThrow({ where: { id: r.body.taskId } })).toMatchObject({ type: "app.install", args: { appId: siteId, overwriteDns: true } });
    const v = await get(`/api/v1/apps/${siteId}`);
    expect(v.body.aliases).toEqual([{ subdomain: "www", domain: "example.org", fqdn: "www.example.org" }]);
    expect(v.body.redirects).toEqual(
      expect.arrayContaining([
        { subdomain: "", domain: "example.org", fqdn: "example.org" },
        { subdomain: "old", domain: "example.com", fqdn: "old.example.com" },
      ]),
    );
    expect(await t.db.appDomain.count({ where: { appId: siteId } })).toBe(3);
  });

  it.each([
    ["an alias another app serves", 409, "conflict", { aliases: [{ subdomain: "www", domain: "example.org" }] }],
    ["an alias that is another app's primary name", 409, "conflict", { aliases: [{ subdomain: "site", domain: "example.com" }] }],
    ["a redirect from the dashboard", 400, "invalid", { redirects: [{ subdomain: "my", domain: "example.com" }] }],
    ["an alias on an unknown domain", 404, "not_found", { aliases: [{ subdomain: "a", domain: "nowhere.example.net" }] }],
    ["a name twice", 400, "invalid", { aliases: [{ subdomain: "twice", domain: "example.com" }], redirects: [{ subdomain: "twice", domain: "example.com" }] }],
    ["the primary name again as an alias", 400, "invalid", { aliases: [{ subdomain: "blog", domain: "example.com" }] }],
  ])("%s → %d, nothing created", async (_what, status, code, extra) => {
    const before = await counts();
    const r = await call("POST", "/api/v1/apps", as({ body: { manifest: { ...VALID_MANIFEST, id: "org.example.blog" }, subdomain: "blog", domain: "example.com", ...extra } }));
    expect(r.status).toBe(status);
    expect(r.body.error.code).toBe(code);
    expect(await counts()).toEqual(before);
  });

  it("an unknown alias domain names the entry", async () => {
    const r = await call(
      "POST",
      "/api/v1/apps",
      as({
        body: {
          manifest: { ...VALID_MANIFEST, id: "org.example.blog" },
          subdomain: "blog",
          domain: "example.com",
          redirects: [
            { subdomain: "a", domain: "example.org" },
            { subdomain: "b", domain: "nowhere.example.net" },
          ],
        },
      }),
    );
    expect(r.status).toBe(404);
    expect(issues(r)).toBe("redirects.1: unknown domain");
  });

  it("configure replaces the lists; a domain used only by an alias cannot be removed", async () => {
    await finishApp(siteId);
    expect((await call("DELETE", "/api/v1/domains/example.org", as())).status).toBe(409);
    const r = await call("POST", `/api/v1/apps/${siteId}/configure`, as({ body: { aliases: [], redirects: [{ subdomain: "legacy", domain: "example.com" }] } }));
    expect(r.status).toBe(202);
    const v = await get(`/api/v1/apps/${siteId}`);
    expect(v.body).toMatchObject({ aliases: [], redirects: [{ subdomain: "legacy", domain: "example.com", fqdn: "legacy.example.com" }] });
    await finishApp(siteId);
    // overwriteDns alone is a retry (after a dns_conflict): the app is deployed again as it is
    const retry = await call("POST", `/api/v1/apps/${siteId}/configure`, as({ body: { overwriteDns: true } }));
    expect(retry.status).toBe(202);
    expect(await t.db.task.findUniqueOrThrow({ where: { id: retry.body.taskId } })).toMatchObject({ type: "app.configure", args: { appId: siteId, overwriteDns: true } });
    await finishApp(siteId);
    expect((await call("POST", `/api/v1/apps/${siteId}/configure`, as({ body: {} }))).status).toBe(400);
    const moved = await call("POST", `/api/v1/apps/${siteId}/configure`, as({ body: { subdomain: "site2", overwriteDns: true } }));
    expect(moved.status).toBe(202);
    expect(await t.db.task.findUniqueOrThrow({ where: { id: moved.body.taskId } })).toMatchObject({ type: "app.configure", args: { appId: siteId, overwriteDns: true } });
    await finishApp(siteId);
  });
});

describe("DNS records", () => {
  it("manual: my.<domain> and every app name, at the addresses the admin set", async () => {
    const put = await call("PUT", "/api/v1/settings/network", as({ body: { ipv4: "203.0.113.10", ipv6: "2001:db8::10" } }));
    expect(put.status).toBe(200);
    const r = await get("/api/v1/domains/example.com/records");
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ domain: "example.com", provider: "manual", managed: false, addresses: { ipv4: "203.0.113.10", ipv6: "2001:db8::10", source: "settings" } });
    const names = [...new Set(r.body.records.map((x: { name: string }) => x.name))];
    expect(names).toEqual(["my.example.com", "site2.example.com", "legacy.example.com"]);
    expect(r.body.records.slice(0, 2)).toEqual([
      { name: "my.example.com", type: "A", value: "203.0.113.10", managed: false },
      { name: "my.example.com", type: "AAAA", value: "2001:db8::10", managed: false },
    ]);
  });

  it("only the families set; wildcard: the * record; API providers: managed", async () => {
    await call("PUT", "/api/v1/settings/network", as({ body: { ipv4: "203.0.113.11", ipv6: null } }));
    const wild = await get("/api/v1/domains/example.org/records");
    expect(wild.body.records).toEqual([{ name: "*.example.org", type: "A", value: "203.0.113.11", managed: false }]);
    const api = await get("/api/v1/domains/powerdns.example.net/records");
    expect(api.body.managed).toBe(true);
    expect(api.body.records).toEqual([]);
    expect((await call("POST", "/api/v1/apps", as({ body: { manifest: { ...VALID_MANIFEST, id: "org.example.api" }, subdomain: "api", domain: "powerdns.example.net" } }))).status).toBe(202);
    expect((await get("/api/v1/domains/powerdns.example.net/records")).body.records).toEqual([{ name: "api.powerdns.example.net", type: "A", value: "203.0.113.11", managed: true }]);
    expect((await get("/api/v1/domains/nowhere.example.net/records")).status).toBe(404);
  });

  it("without settings the addresses are detected (the same as settings/network says)", async () => {
    await call("PUT", "/api/v1/settings/network", as({ body: { ipv4: null, ipv6: null } }));
    const net = await get("/api/v1/settings/network");
    const r = await get("/api/v1/domains/example.com/records");
    expect(r.body.addresses).toEqual({ ...net.body.detected, source: "detected" });
    const a = r.body.records.filter((x: { type: string }) => x.type === "A");
    expect(a.every((x: { value: string }) => x.value === net.body.detected.ipv4)).toBe(true);
  });
});

describe("certificates", () => {
  const ids: Record<string, string> = {};
  it("lists certificates with a status from their dates and failures", async () => {
    const now = Date.now();
    const rows = [
      ["valid", { notBefore: new Date(now - DAY), notAfter: new Date(now + 60 * DAY), issuedAt: new Date(now - DAY), issuer: "CN=Pebble Intermediate", serial: "0a1b" }],
      ["expiring", { notBefore: new Date(now - 80 * DAY), notAfter: new Date(now + 10 * DAY), issuedAt: new Date(now - 80 * DAY) }],
      [
        "expired",
        { notBefore: new Date(now - 100 * DAY), notAfter: new Date(now - DAY), lastError: "challenge failed", failures: 3, lastAttemptAt: new Date(now - DAY), nextAttemptAt: new Date(now + DAY) },
      ],
      ["pending", {}],
      ["failed", { lastError: "DNS problem: NXDOMAIN", failures: 1, lastAttemptAt: new Date(now) }],
    ] as const;
    for (const [name, fields] of rows) {
      const id = randomUUID();
      ids[name] = id;
      await t.db.certificate.create({ data: { id, namesKey: `${name}.example.com`, names: [`${name}.example.com`], domain: "example.com", kind: "acme", challenge: "http-01", ...fields } });
    }
    const r = await get("/api/v1/certificates");
    expect(r.status).toBe(200);
    const byName = Object.fromEntries(r.body.certificates.map((c: { names: string[] }) => [c.names[0], c]));
    for (const [name] of rows) expect(byName[`${name}.example.com`].status).toBe(name);
    expect(byName["valid.example.com"]).toMatchObject({ id: ids.valid, domain: "example.com", kind: "acme", challenge: "http-01", issuer: "CN=Pebble Intermediate", serial: "0a1b", lastError: null });
    expect(byName["expired.example.com"]).toMatchObject({ lastError: "challenge failed", nextAttemptAt: expect.any(String) });
    expect((await call("GET", "/api/v1/certificates", { token: userToken })).status).toBe(403);
  });

  it("renew one → 202 {taskId} (forced); the same again → the same task; unknown → 404", async () => {
    const before = box.wakes();
    const r = await call("POST", `/api/v1/certificates/${ids.expiring}/renew`, as());
    expect(r.status).toBe(202);
    expect(await t.db.task.findUniqueOrThrow({ where: { id: r.body.taskId } })).toMatchObject({ type: "certificate.renew", state: "pending", args: { certificateId: ids.expiring, force: true } });
    expect(box.wakes()).toBe(before + 1);
    const again = await call("POST", `/api/v1/certificates/${ids.expiring}/renew`, as());
    expect(again.body.taskId).toBe(r.body.taskId);
    expect(await t.db.task.count({ where: { type: "certificate.renew" } })).toBe(1);
    expect((await call("POST", `/api/v1/certificates/${randomUUID()}/renew`, as())).status).toBe(404);
    expect((await call("POST", `/api/v1/certificates/${ids.valid}/renew`, { token: userToken })).status).toBe(403);
  });

  it("renew all due → 202 {taskId} without a certificate id", async () => {
    const r = await call("POST", "/api/v1/certificates/renew", as());
    expect(r.status).toBe(202);
    const task = await t.db.task.findUniqueOrThrow({ where: { id: r.body.taskId } });
    expect(task.type).toBe("certificate.renew");
    expect(task.args).toEqual({});
    expect((await call("POST", "/api/v1/certificates/renew", as())).body.taskId).toBe(r.body.taskId);
  });
});

describe("settings", () => {
  it("acme: defaults until set; PUT validates; events", async () => {
    const d = await get("/api/v1/settings/acme");
    expect(d.body).toEqual({ directoryUrl: LETSENCRYPT_PRODUCTION, email: null, caCertificate: null });
    for (const [body, field] of [
      [{ email: "not-an-email" }, "email"],
      [{ directoryUrl: "ftp://ca.example/dir", email: "ops@example.com" }, "directoryUrl"],
      [{ directoryUrl: "https://ca.example/dir" }, "email"],
      [{ email: "ops@example.com", caCertificate: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n" }, "caCertificate"],
      [{ email: "ops@example.com", extra: 1 }, "extra"],
    ] as const) {
      const r = await call("PUT", "/api/v1/settings/acme", as({ body }));
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(issues(r)).toContain(field);
    }
    const put = await call("PUT", "/api/v1/settings/acme", as({ body: { directoryUrl: "https://127.0.0.1:14000/dir", email: "ops@example.com", caCertificate: ca.certPem } }));
    expect(put.status).toBe(200);
    expect(put.body).toEqual({ directoryUrl: "https://127.0.0.1:14000/dir", email: "ops@example.com", caCertificate: ca.certPem.trim() + "\n" });
    expect((await get("/api/v1/settings/acme")).body).toEqual(put.body);
    const ev = await t.db.event.findFirstOrThrow({ where: { action: "settings.acme" } });
    expect(ev.data).toEqual({ directoryUrl: "https://127.0.0.1:14000/dir", email: "ops@example.com", caCertificate: true });
    expect((await call("GET", "/api/v1/settings/acme", { token: userToken })).status).toBe(403);
    expect((await call("PUT", "/api/v1/settings/acme", { token: userToken, body: { email: "x@example.com" } })).status).toBe(403);
  });

  it("an ACME directory or a registry on this machine or the metadata service is refused unless network.allowPrivateEndpoints is set", async () => {
    await setSetting(t.db, "network.allowPrivateEndpoints", false);
    try {
      const acmeBefore = (await get("/api/v1/settings/acme")).body;
      for (const directoryUrl of ["https://127.0.0.1:14000/dir", "http://169.254.169.254/latest", "https://localhost/dir", "https://[::ffff:127.0.0.1]/dir"]) {
        const r = await call("PUT", "/api/v1/settings/acme", as({ body: { directoryUrl, email: "ops@example.com" } }));
        expect(r.status, directoryUrl).toBe(400);
        expect(r.body.error.details[0].path).toEqual(["directoryUrl"]);
      }
      expect((await get("/api/v1/settings/acme")).body).toEqual(acmeBefore);
      const registries = await t.db.registry.count();
      for (const server of ["localhost:5000", "127.0.0.1:5000", "169.254.169.254"]) {
        const r = await call("POST", "/api/v1/registries", as({ body: { server, username: "u", password: "p" } }));
        expect(r.status, server).toBe(400);
        expect(r.body.error.details[0].path).toEqual(["server"]);
      }
      expect(await t.db.registry.count()).toBe(registries);
      // a public one is fine
      expect((await call("POST", "/api/v1/registries", as({ body: { server: "192.0.2.5:5000", username: "u", password: "p" } }))).status).toBe(201);
    } finally {
      await setSetting(t.db, "network.allowPrivateEndpoints", true);
    }
  });

  it("network: validation, detected addresses, a sync for API domains when it changes", async () => {
    for (const body of [{ ipv4: "1.2.3", ipv6: null }, { ipv4: null, ipv6: "fe80::zz" }, { ipv4: "2001:db8::1", ipv6: null }, { ipv4: null }]) {
      expect((await call("PUT", "/api/v1/settings/network", as({ body }))).status, JSON.stringify(body)).toBe(400);
    }
    const g = await get("/api/v1/settings/network");
    expect(g.body).toMatchObject({ ipv4: null, ipv6: null });
    expect(Object.keys(g.body.detected).sort()).toEqual(["ipv4", "ipv6"]);
    const apiDomains = await t.db.domain.findMany({ where: { provider: { in: ["rfc2136", "powerdns", "cloudflare", "route53"] } }, orderBy: { domain: "asc" } });
    const put = await call("PUT", "/api/v1/settings/network", as({ body: { ipv4: "198.51.100.7", ipv6: null } }));
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ ipv4: "198.51.100.7", ipv6: null, detected: g.body.detected });
    expect(put.body.taskIds).toHaveLength(apiDomains.length);
    const tasks = await t.db.task.findMany({ where: { id: { in: put.body.taskIds } } });
    expect(tasks.map((x) => (x.args as { domain: string }).domain).sort()).toEqual(apiDomains.map((d) => d.domain));
    // the same again: nothing to re-point
    expect((await call("PUT", "/api/v1/settings/network", as({ body: { ipv4: "198.51.100.7", ipv6: null } }))).body.taskIds).toEqual([]);
    expect(await t.db.event.count({ where: { action: "settings.network" } })).toBeGreaterThan(0);
    expect((await call("PUT", "/api/v1/settings/network", { token: userToken, body: { ipv4: null, ipv6: null } })).status).toBe(403);
  });
});

describe("removing domains and the end of the story", () => {
  it("DELETE: 409 while an app uses it, 204 for an unused one; events", async () => {
    expect((await call("DELETE", "/api/v1/domains/example.com", as())).status).toBe(409);
    expect((await call("DELETE", "/api/v1/domains/internal.example", as())).status).toBe(204);
    expect((await call("DELETE", "/api/v1/domains/internal.example", as())).status).toBe(404);
    const ev = await t.db.event.findMany({ where: { action: { startsWith: "domain." } } });
    expect(ev.map((e) => e.action)).toEqual(expect.arrayContaining(["domain.add", "domain.update", "domain.remove"]));
  });

  it("no secret was ever returned, recorded in an event or logged", async () => {
    expect(replies.length).toBeGreaterThan(50);
    const all = replies.map((r) => r.text).join("\n");
    const events = JSON.stringify((await t.db.event.findMany()).map((e) => e.data));
    for (const s of SECRETS) {
      expect(all).not.toContain(s);
      expect(events).not.toContain(s);
      expect(admin.output()).not.toContain(s);
    }
    // a key's PEM body starts with "MI" (DER SEQUENCE)
    const keyPem = /-----BEGIN (EC |RSA )?PRIVATE KEY-----\s+MI/;
    expect(all).not.toMatch(keyPem);
    expect(events).not.toMatch(keyPem);
    expect(admin.output()).not.toMatch(keyPem);
  });

  it("notifications: admins see what box raised, dismiss it, and a plain user gets 403", async () => {
    await notify(t.db, { key: "certificate:x.example.com", level: "error", title: "The certificate for x.example.com could not be renewed", message: "the CA said no", target: "x.example.com" });
    await notify(t.db, { key: "certificate:x.example.com", level: "error", title: "The certificate for x.example.com could not be renewed", message: "the CA said no again", target: "x.example.com" });
    const list = await get("/api/v1/notifications");
    expect(list.status).toBe(200);
    const mine = (list.body.notifications as { id: string; title: string; message: string; count: number }[]).filter((n) => n.title.includes("x.example.com"));
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ message: "the CA said no again", count: 2 });
    expect((await call("GET", "/api/v1/notifications", { token: userToken })).status).toBe(403);
    const dismissed = await call("POST", `/api/v1/notifications/${mine[0]!.id}/dismiss`, as());
    expect(dismissed.status).toBe(200);
    expect(dismissed.body.dismissedAt).not.toBeNull();
    // recorded once, with who; dismissing again changes nothing and records nothing
    expect(await t.db.event.count({ where: { action: "notification.dismiss", target: mine[0]!.id } })).toBe(1);
    expect((await call("POST", `/api/v1/notifications/${mine[0]!.id}/dismiss`, as())).status).toBe(200);
    expect(await t.db.event.count({ where: { action: "notification.dismiss", target: mine[0]!.id } })).toBe(1);
    expect(((await get("/api/v1/notifications")).body.notifications as { id: string }[]).map((n) => n.id)).not.toContain(mine[0]!.id);
    expect(((await get("/api/v1/notifications?all=1")).body.notifications as { id: string }[]).map((n) => n.id)).toContain(mine[0]!.id);
    expect((await call("POST", "/api/v1/notifications/nope/dismiss", as())).status).toBe(404);
  });
});
