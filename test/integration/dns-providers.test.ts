import { createSocket, type Socket } from "node:dgram";
import { watch } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDnsProvider, ensureAppRecord, findAuthoritativeServers, removeAppRecord, waitForPropagation, type DnsProvider } from "../../apps/box/src/dns/index.ts";
import { startBind9, type Bind9 } from "../helpers/bind9.ts";
import { startPdns, type Pdns } from "../helpers/pdns.ts";
import { caughtHearthError } from "../helpers/errors";

/**
 * The rfc2136 provider against a real bind9 and a real pdns-server (dnsupdate=yes), and the
 * powerdns provider against the same pdns-server's HTTP API, each read back over DNS (dig,
 * no recursion) as well as through the provider, so a provider that only believes its own
 * writes cannot pass.
 * Ports: 21053 bind9, 21054 pdns DNS, 21081 pdns API, 21090+ for dead/silent servers.
 */
const BIND_PORT = 21053;
const PDNS_PORT = 21054;
const PDNS_API_PORT = 21081;
const DEAD_PORT = 21091; // nothing listens here
const SILENT_PORT = 21092; // a UDP socket that never answers

let bind9: Bind9;
let pdns: Pdns;
let silent: Socket;

beforeAll(async () => {
  const t0 = Date.now();
  [bind9, pdns] = await Promise.all([
    startBind9({ port: BIND_PORT, zone: "example.test", keyName: "hearth-key", otherKeys: ["readonly-key"] }),
    startPdns({ dnsPort: PDNS_PORT, apiPort: PDNS_API_PORT, zone: "example.test", dnsupdate: { keyName: "hearth-pdns-key" } }),
  ]);
  silent = createSocket("udp4");
  await new Promise<void>((resolve) => silent.bind(SILENT_PORT, "127.0.0.1", resolve));
  console.log(`bind9 and pdns-server started in ${Date.now() - t0} ms`);
});

afterAll(async () => {
  silent?.close();
  await Promise.all([bind9?.stop(), pdns?.stop()]);
});

interface Case {
  label: string;
  provider: () => DnsProvider;
  /** where the provider's zone is served over DNS */
  nameserver: () => string;
}

const cases: Case[] = [
  {
    label: "rfc2136 → bind9",
    provider: () =>
      createDnsProvider("example.test", {
        kind: "rfc2136",
        nameserver: bind9.nameserver,
        tsigKeyName: bind9.keyName,
        tsigAlgorithm: "hmac-sha256",
        tsigSecret: bind9.secret,
      }),
    nameserver: () => bind9.nameserver,
  },
  {
    // RFC 2136 is not bind9-only: the same provider against PowerDNS with dnsupdate=yes
    label: "rfc2136 → pdns-server",
    provider: () =>
      createDnsProvider("example.test", {
        kind: "rfc2136",
        nameserver: pdns.nameserver,
        tsigKeyName: pdns.tsig!.keyName,
        tsigAlgorithm: "hmac-sha256",
        tsigSecret: pdns.tsig!.secret,
      }),
    nameserver: () => pdns.nameserver,
  },
  {
    label: "powerdns → pdns-server",
    provider: () => createDnsProvider("example.test", { kind: "powerdns", apiUrl: pdns.apiUrl, apiKey: pdns.apiKey }),
    nameserver: () => pdns.nameserver,
  },
];

describe.each(cases)("$label", ({ label, provider, nameserver }) => {
  const tag = label === "rfc2136 → bind9" ? "r" : label === "rfc2136 → pdns-server" ? "u" : "p";
  const n = (s: string) => `${s}-${tag}.example.test`;

  it("verifies its credentials", async () => {
    await expect(provider().verify()).resolves.toBeUndefined();
  });

  it("upserts, reads and removes A and AAAA records, visible over DNS", async () => {
    const p = provider();
    const name = n("app");
    await p.upsert({ name, type: "A", values: ["192.0.2.10", "192.0.2.11"], ttl: 120 });
    await p.upsert({ name: name.toUpperCase() + ".", type: "AAAA", values: ["2001:DB8:0:0:0:0:0:10"], ttl: 120 });
    const a = await p.get(name, "A");
    expect(a).toMatchObject({ name, type: "A", ttl: 120 });
    expect(a!.values.sort()).toEqual(["192.0.2.10", "192.0.2.11"]);
    expect(await p.get(name, "AAAA")).toEqual({ name, type: "AAAA", values: ["2001:db8::10"], ttl: 120 });
    // the authoritative server really serves it
    await waitForPropagation(name, "A", ["192.0.2.11", "192.0.2.10"], { nameservers: [nameserver()], timeoutMs: 10_000, intervalMs: 200 });
    await waitForPropagation(name, "AAAA", ["2001:db8::10"], { nameservers: [nameserver()], timeoutMs: 10_000, intervalMs: 200 });

    // upsert replaces the set exactly
    await p.upsert({ name, type: "A", values: ["192.0.2.12"], ttl: 300 });
    expect(await p.get(name, "A")).toEqual({ name, type: "A", values: ["192.0.2.12"], ttl: 300 });

    await p.remove(name, "A");
    await p.remove(name, "AAAA", ["2001:db8::10"]);
    expect(await p.get(name, "A")).toBeNull();
    expect(await p.get(name, "AAAA")).toBeNull();
    await waitForPropagation(name, "A", [], { nameservers: [nameserver()], timeoutMs: 10_000, intervalMs: 200 });
  });

  it("keeps TXT values exactly: several values, spaces, quotes, backslashes, UTF-8, >255 bytes", async () => {
    const p = provider();
    const name = `_acme-challenge.${n("txt")}`;
    const values = ["first value with spaces", 'quote " and backslash \\ inside', "ünïcødé ✓", "x".repeat(300), "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0"];
    await p.upsert({ name, type: "TXT", values, ttl: 60 });
    const got = await p.get(name, "TXT");
    expect(got!.values.sort()).toEqual([...values].sort());
    expect(got!.ttl).toBe(60);
    // over DNS too (dig output decoded independently of the provider's read path)
    await waitForPropagation(name, "TXT", values, { nameservers: [nameserver()], match: "exact", timeoutMs: 10_000, intervalMs: 200 });

    // removing some values keeps the others
    await p.remove(name, "TXT", ["first value with spaces", "x".repeat(300)]);
    expect((await p.get(name, "TXT"))!.values.sort()).toEqual(["LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0", 'quote " and backslash \\ inside', "ünïcødé ✓"].sort());

    // upsert with the same values is a no-op in effect; with none it deletes
    await p.upsert({ name, type: "TXT", values: [], ttl: 60 });
    expect(await p.get(name, "TXT")).toBeNull();
  });

  it("removes idempotently: absent names, absent values, twice in a row", async () => {
    const p = provider();
    const name = n("gone");
    await p.remove(name, "TXT");
    await p.remove(name, "A", ["192.0.2.99"]);
    await p.upsert({ name, type: "TXT", values: ["a"], ttl: 60 });
    await p.remove(name, "TXT", ["not-there"]);
    expect((await p.get(name, "TXT"))!.values).toEqual(["a"]);
    await p.remove(name, "TXT");
    await p.remove(name, "TXT");
    expect(await p.get(name, "TXT")).toBeNull();
  });

  it("refuses names outside the zone and bad values before calling the server", async () => {
    const p = provider();
    expect((await caughtHearthError(p.upsert({ name: "www.other.test", type: "A", values: ["192.0.2.1"], ttl: 60 }))).message).toMatch(/not inside the zone example\.test/);
    expect((await caughtHearthError(p.upsert({ name: n("bad"), type: "A", values: ["300.1.1.1"], ttl: 60 }))).code).toBe("invalid");
    expect((await caughtHearthError(p.upsert({ name: "bad name\n.example.test", type: "A", values: ["192.0.2.1"], ttl: 60 }))).message).toMatch(/not a valid DNS name/);
  });

  it("waitForPropagation polls until a later change shows up", async () => {
    const p = provider();
    const name = `_acme-challenge.${n("prop")}`;
    await p.remove(name, "TXT");
    const t0 = Date.now();
    const waiting = waitForPropagation(name, "TXT", ["token-1"], { nameservers: [nameserver()], timeoutMs: 15_000, intervalMs: 250 });
    await new Promise((r) => setTimeout(r, 1200));
    await p.upsert({ name, type: "TXT", values: ["token-1", "token-2"], ttl: 60 });
    const r = await waiting;
    expect(r.servers).toEqual([nameserver()]);
    expect(r.elapsedMs).toBeGreaterThanOrEqual(1000);
    console.log(`${label}: change visible ${Date.now() - t0 - 1200} ms after the upsert (wait ${r.elapsedMs} ms)`);
    await p.remove(name, "TXT");
  });

  it("waitForPropagation times out naming each server and what it answers", async () => {
    const p = provider();
    const name = n("stale");
    await p.upsert({ name, type: "A", values: ["192.0.2.20"], ttl: 60 });
    const e = await caughtHearthError(waitForPropagation(name, "A", ["192.0.2.21"], { nameservers: [nameserver(), `127.0.0.1:${DEAD_PORT}`], timeoutMs: 1500, intervalMs: 300 }));
    expect(e.code).toBe("external");
    expect(e.message).toContain(`${nameserver()} answers "192.0.2.20"`);
    expect(e.message).toContain(`127.0.0.1:${DEAD_PORT} answers nothing (connection refused)`);
    expect(e.message).toContain('expected exactly "192.0.2.21"');
    await p.remove(name, "A");
  });

  it("ensureAppRecord creates A/AAAA, is idempotent, and refuses to overwrite others' records", async () => {
    const p = provider();
    const name = n("myapp");
    const ips = { ipv4: "192.0.2.30", ipv6: "2001:db8::30" };
    expect(await ensureAppRecord(p, name, ips, { overwrite: false })).toEqual({ changed: true });
    expect((await p.get(name, "A"))!.values).toEqual(["192.0.2.30"]);
    expect((await p.get(name, "AAAA"))!.values).toEqual(["2001:db8::30"]);
    expect(await ensureAppRecord(p, name, ips, { overwrite: false })).toEqual({ changed: false });

    // someone else's record at another name
    const taken = n("taken");
    await p.upsert({ name: taken, type: "A", values: ["198.51.100.7"], ttl: 300 });
    const e = await caughtHearthError(ensureAppRecord(p, taken, ips, { overwrite: false }));
    expect(e.code).toBe("conflict");
    expect(e.message).toContain('A "198.51.100.7"');
    expect(e.message).toContain(taken);
    // nothing was written on conflict
    expect((await p.get(taken, "A"))!.values).toEqual(["198.51.100.7"]);
    expect(await p.get(taken, "AAAA")).toBeNull();

    // a stray AAAA when the server has no IPv6 is a conflict too
    const stray = n("stray");
    await p.upsert({ name: stray, type: "AAAA", values: ["2001:db8::99"], ttl: 300 });
    expect((await caughtHearthError(ensureAppRecord(p, stray, { ipv4: ips.ipv4 }, { overwrite: false }))).message).toContain('AAAA "2001:db8::99"');
    // a CNAME cannot sit next to A/AAAA
    const aliased = n("aliased");
    await p.upsert({ name: aliased, type: "CNAME", values: ["elsewhere.example.test"], ttl: 300 });
    expect((await caughtHearthError(ensureAppRecord(p, aliased, ips, { overwrite: false }))).message).toContain('CNAME "elsewhere.example.test"');

    // with overwrite it takes over
    await ensureAppRecord(p, taken, ips, { overwrite: true });
    expect((await p.get(taken, "A"))!.values).toEqual(["192.0.2.30"]);
    await ensureAppRecord(p, stray, { ipv4: ips.ipv4 }, { overwrite: true });
    expect(await p.get(stray, "AAAA")).toBeNull();
    await ensureAppRecord(p, aliased, ips, { overwrite: true });
    expect(await p.get(aliased, "CNAME")).toBeNull();
    expect((await p.get(aliased, "AAAA"))!.values).toEqual(["2001:db8::30"]);

    // removeAppRecord with our IPs leaves a value someone added
    await p.upsert({ name, type: "A", values: ["192.0.2.30", "192.0.2.31"], ttl: 300 });
    await removeAppRecord(p, name, ips);
    expect((await p.get(name, "A"))!.values).toEqual(["192.0.2.31"]);
    expect(await p.get(name, "AAAA")).toBeNull();
    for (const x of [name, taken, stray, aliased]) await removeAppRecord(p, x);
    expect(await p.get(name, "A")).toBeNull();
  });
});

describe("rfc2136 errors against bind9", () => {
  const base = () => ({ kind: "rfc2136" as const, nameserver: bind9.nameserver, tsigKeyName: bind9.keyName, tsigSecret: bind9.secret });

  it("a wrong secret is BADSIG: invalid, naming zone, server and key, never the secret", async () => {
    const wrong = Buffer.alloc(32, 7).toString("base64");
    const p = createDnsProvider("example.test", { ...base(), tsigSecret: wrong });
    const e = await caughtHearthError(p.upsert({ name: "x.example.test", type: "A", values: ["192.0.2.1"], ttl: 60 }));
    expect(e.code).toBe("invalid");
    expect(e.message).toMatch(/127\.0\.0\.1:21053 \(zone example\.test\) rejected the TSIG key "hearth-key" \(BADSIG\)/);
    expect(e.message).not.toContain(wrong);
    expect(JSON.stringify(e.details)).not.toContain(wrong);
    expect((await caughtHearthError(p.verify())).message).toContain("BADSIG");
  });

  it("an unknown key name or another algorithm is BADKEY", async () => {
    const e1 = await caughtHearthError(createDnsProvider("example.test", { ...base(), tsigKeyName: "nobody" }).verify());
    expect(e1.code).toBe("invalid");
    expect(e1.message).toContain("(BADKEY)");
    const e2 = await caughtHearthError(createDnsProvider("example.test", { ...base(), tsigAlgorithm: "hmac-sha512" }).verify());
    expect(e2.message).toContain("(BADKEY)");
  });

  it("a valid key that may not update is REFUSED", async () => {
    const p = createDnsProvider("example.test", { ...base(), tsigKeyName: "readonly-key", tsigSecret: bind9.otherKeys["readonly-key"]! });
    const e = await caughtHearthError(p.verify());
    expect(e.code).toBe("invalid");
    expect(e.message).toMatch(/refused the update \(REFUSED\).*"readonly-key" is not allowed/);
  });

  it("a zone the server does not serve is NOTAUTH (update) / REFUSED (read)", async () => {
    const p = createDnsProvider("other.test", base());
    const e = await caughtHearthError(p.upsert({ name: "x.other.test", type: "A", values: ["192.0.2.1"], ttl: 60 }));
    expect(e.code).toBe("invalid");
    expect(e.message).toContain("not authoritative for the zone (NOTAUTH)");
    expect(e.message).toContain("zone other.test");
    const r = await caughtHearthError(p.get("x.other.test", "A"));
    expect(r.message).toMatch(/answered REFUSED: it does not serve the zone other\.test/);
  });

  it("an unreachable or silent server is external, with the reason", async () => {
    const dead = createDnsProvider("example.test", { ...base(), nameserver: `127.0.0.1:${DEAD_PORT}` });
    const e1 = await caughtHearthError(dead.upsert({ name: "x.example.test", type: "A", values: ["192.0.2.1"], ttl: 60 }));
    expect(e1.code).toBe("external");
    expect(e1.message).toContain(`127.0.0.1:${DEAD_PORT} (zone example.test) refused the connection`);
    const hush = createDnsProvider("example.test", { ...base(), nameserver: `127.0.0.1:${SILENT_PORT}` }, { timeoutMs: 3000 });
    const t0 = Date.now();
    const e2 = await caughtHearthError(hush.verify());
    expect(e2.code).toBe("external");
    expect(e2.message).toContain(`no answer from 127.0.0.1:${SILENT_PORT} (zone example.test) (timed out)`);
    expect(Date.now() - t0).toBeLessThan(10_000);
    const e3 = await caughtHearthError(hush.get("x.example.test", "A"));
    expect(e3.message).toContain("timed out");
  });

  it("does not leave key files behind", async () => {
    const { mkdtemp, readdir, rm } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    // a private TMPDIR, so nsupdate runs of other processes cannot interfere
    const dir = await mkdtemp(`${tmpdir()}/hearth-dns-test-`);
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = dir;
    const seen = new Set<string>();
    const watcher = watch(dir, (_event, file) => file && seen.add(String(file)));
    try {
      await createDnsProvider("example.test", base()).verify();
      await caughtHearthError(createDnsProvider("example.test", { ...base(), tsigKeyName: "nobody" }).verify());
      await new Promise((r) => setTimeout(r, 100));
      // key directories were made there (so the check below means something) and are gone
      expect([...seen].filter((f) => f.startsWith("hearth-nsupdate-")).length).toBeGreaterThanOrEqual(2);
      expect(await readdir(dir)).toEqual([]);
    } finally {
      watcher.close();
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("finds the authoritative servers through NS records and waits on them", async () => {
    const found = await findAuthoritativeServers("_acme-challenge.deep.www.example.test", { resolvers: [bind9.nameserver], port: BIND_PORT });
    expect(found).toEqual({ zone: "example.test", servers: [{ label: "ns1.example.test (127.0.0.1)", server: { host: "127.0.0.1", port: BIND_PORT } }] });
    const p = createDnsProvider("example.test", base());
    await p.upsert({ name: "_acme-challenge.ns.example.test", type: "TXT", values: ["via-ns"], ttl: 60 });
    const r = await waitForPropagation("_acme-challenge.ns.example.test", "TXT", ["via-ns"], { resolvers: [bind9.nameserver], port: BIND_PORT, timeoutMs: 10_000 });
    expect(r.servers).toEqual(["ns1.example.test (127.0.0.1)"]);
    await p.remove("_acme-challenge.ns.example.test", "TXT");
  });
});

describe("powerdns errors against pdns-server", () => {
  it("a wrong API key is invalid and names the API and the zone", async () => {
    const p = createDnsProvider("example.test", { kind: "powerdns", apiUrl: pdns.apiUrl, apiKey: "wrong-key" });
    const e = await caughtHearthError(p.verify());
    expect(e.code).toBe("invalid");
    expect(e.message).toBe(`the PowerDNS API at ${pdns.apiUrl} rejected the API key (HTTP 401) for zone example.test: check api-key in pdns.conf`);
    expect((await caughtHearthError(p.upsert({ name: "x.example.test", type: "A", values: ["192.0.2.1"], ttl: 60 }))).code).toBe("invalid");
  });

  it("an unknown zone or server id is invalid", async () => {
    const e1 = await caughtHearthError(createDnsProvider("other.test", { kind: "powerdns", apiUrl: pdns.apiUrl, apiKey: pdns.apiKey }).verify());
    expect(e1.code).toBe("invalid");
    expect(e1.message).toContain('PowerDNS server "localhost"');
    expect(e1.message).toContain("has no zone other.test.");
    const e2 = await caughtHearthError(createDnsProvider("example.test", { kind: "powerdns", apiUrl: `${pdns.apiUrl}/api/v1/`, apiKey: pdns.apiKey, serverId: "nope" }).get("x.example.test", "A"));
    expect(e2.message).toContain('PowerDNS server "nope"');
  });

  it("accepts the API root as apiUrl", async () => {
    await createDnsProvider("example.test", { kind: "powerdns", apiUrl: `${pdns.apiUrl}/api/v1`, apiKey: pdns.apiKey }).verify();
  });

  it("rfc2136 to pdns-server with a wrong TSIG secret is refused as invalid", async () => {
    const wrong = Buffer.alloc(32, 9).toString("base64");
    const p = createDnsProvider("example.test", { kind: "rfc2136", nameserver: pdns.nameserver, tsigKeyName: pdns.tsig!.keyName, tsigSecret: wrong });
    const e = await caughtHearthError(p.upsert({ name: "x-u.example.test", type: "A", values: ["192.0.2.1"], ttl: 60 }));
    expect(e.code).toBe("invalid");
    expect(e.message).toBe(
      `${pdns.nameserver} (zone example.test) rejected the TSIG key "hearth-pdns-key" (REFUSED, TSIG error): the server does not accept this key name, algorithm and secret. Check the key name, algorithm and secret.`,
    );
    expect((await caughtHearthError(p.verify())).code).toBe("invalid");
  });

  it("an unreachable API is external", async () => {
    const e = await caughtHearthError(createDnsProvider("example.test", { kind: "powerdns", apiUrl: `http://127.0.0.1:${DEAD_PORT}`, apiKey: "k" }).verify());
    expect(e.code).toBe("external");
    expect(e.message).toBe(`cannot reach the PowerDNS API at http://127.0.0.1:${DEAD_PORT} (zone example.test): connection refused`);
  });
});
