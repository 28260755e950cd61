import { spawn, execFile } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AcmeEngine, type IssuedCertificate } from "../../apps/box/src/certs/acme";
import { accountKeyPath } from "../../apps/box/src/certs/account";
import { inspectCertificate } from "../../apps/box/src/certs/inspect";
import { planRenewals } from "../../apps/box/src/certs/renewal";
import { createDnsProvider, waitForPropagation, type DnsProvider, type DnsRecordSet } from "../../apps/box/src/dns/index";
import type { AppVhost } from "../../apps/box/src/proxy/vhost";
import { startBind9, type Bind9 } from "../helpers/bind9";
import { startPdns, type Pdns } from "../helpers/pdns";
import { curlResolve, eventually, freePortIn, startTestNginx, type TestNginx } from "../helpers/nginx";
import { startChallTestSrv, startPebble, type TestChallTestSrv, type TestPebble } from "../helpers/pebble";
import { caughtHearthError } from "../helpers/errors";

/**
 * The ACME engine against Debian's Pebble, with a real nginx (box's ProxyService) answering
 * HTTP-01 and a real bind9 taking DNS-01 TXT records through the rfc2136 provider. Every
 * served certificate is checked with `openssl s_client` against the issuing Pebble's root.
 *
 * Peers (ports from 22000-22999):
 *  - pebble-challtestsrv: DNS answering A 127.0.0.1 for every name;
 *  - pebbleHttp: VA resolves with challtestsrv, HTTP-01 to the test nginx's http port;
 *  - pebbleDns: VA resolves with bind9 (the zone example.test), for DNS-01;
 *  - pebbleBroken: like pebbleHttp but its VA connects to a port nothing listens on, so
 *    every HTTP-01 challenge fails with the VA's "connection refused".
 */

const run = promisify(execFile);
const port = () => freePortIn(22000, 22999, (p) => !taken.has(p) && (taken.add(p), true));
const taken = new Set<number>();

let nginx: TestNginx;
let challtest: TestChallTestSrv;
let bind9: Bind9;
let pebbleHttp: TestPebble;
let pebbleDns: TestPebble;
let pebbleBroken: TestPebble;
let certDir: string;
let engine: AcmeEngine;
let upstreamPort: number;
const timings: Record<string, number> = {};

function engineFor(pebble: TestPebble, email = "admin@example.test"): AcmeEngine {
  return new AcmeEngine({
    certDir,
    acmeChallengeDir: nginx.proxy.acmeChallengeDir,
    settings: { directoryUrl: pebble.directoryUrl, email },
    caCertificates: pebble.tlsCaPem,
    poll: { minMs: 200, maxMs: 2_000, attempts: 15 },
  });
}

/** `openssl s_client` against the test nginx with SNI, verifying chain and host name against `caFile`. */
async function sClient(servername: string, caFile: string): Promise<{ verified: boolean; output: string; leaf: X509Certificate | null }> {
  const args = ["s_client", "-connect", `127.0.0.1:${nginx.httpsPort}`, "-servername", servername, "-CAfile", caFile, "-verify_return_error", "-verify_hostname", servername];
  const output = await new Promise<string>((resolve, reject) => {
    const p = spawn("openssl", args, { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (out += d));
    p.on("error", reject);
    p.on("exit", () => resolve(out));
    p.stdin.end();
  });
  const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(output)?.[0];
  // (s_client says "Verify return code: 0 (ok)" after a handshake that showed no certificate at all)
  return { verified: pem !== undefined && /Verify return code: 0 \(ok\)/.test(output), output, leaf: pem ? new X509Certificate(pem) : null };
}

function appVhost(appId: string, fqdn: string, tls: { certPath: string; keyPath: string }): AppVhost {
  return { type: "app", appId, fqdn, upstreamPort, certPath: tls.certPath, keyPath: tls.keyPath };
}

/** The certificate nginx serves for `servername` is `cert` and verifies against the CA's root. */
async function expectServed(servername: string, cert: IssuedCertificate, pebble: TestPebble): Promise<void> {
  const caFile = await pebble.rootPath();
  const r = await eventually(
    () => sClient(servername, caFile),
    (s) => s.leaf?.fingerprint256 === cert.info.fingerprint256,
    10_000,
    50,
  );
  expect(r.verified, r.output).toBe(true);
}

const listFiles = (dir: string) => readdirSync(dir);

beforeAll(async () => {
  const t0 = Date.now();
  upstreamPort = await port(); // nothing listens: the app is "down", TLS is what is tested
  const [httpPort, httpsPort, dnsPort, dnsMgmt, bindPort, closedPort] = await Promise.all([port(), port(), port(), port(), port(), port()]);
  [nginx, challtest, bind9] = await Promise.all([
    startTestNginx({ httpPort, httpsPort }),
    startChallTestSrv({ dnsPort, managementPort: dnsMgmt }),
    // an unrelated TXT value at the challenge name: DNS-01 must add to it and leave it there
    startBind9({ port: bindPort, zone: "example.test", records: ['_acme-challenge 300 IN TXT "keep-me"'] }),
  ]);
  const pebblePorts = async () => ({ listenPort: await port(), managementPort: await port(), tlsPort: await port() });
  [pebbleHttp, pebbleDns, pebbleBroken] = await Promise.all([
    startPebble({ ...(await pebblePorts()), httpPort: nginx.httpPort, dnsServer: challtest.dnsServer }),
    startPebble({ ...(await pebblePorts()), httpPort: nginx.httpPort, dnsServer: bind9.nameserver }),
    startPebble({ ...(await pebblePorts()), httpPort: closedPort, dnsServer: challtest.dnsServer }),
  ]);
  certDir = path.join(mkdtempSync(path.join(os.tmpdir(), "hearth-acme-it-")), "certs");
  engine = engineFor(pebbleHttp);
  // the app's vhost exists first with the domain's self-signed fallback, as when an app is installed
  const fallback = await nginx.proxy.fallbackCert("example.test");
  await nginx.proxy.apply([appVhost("app1", "app.example.test", fallback)]);
  console.log(`peers started in ${Date.now() - t0} ms (nginx, challtestsrv, bind9, 3× pebble)`);
}, 120_000);

afterAll(async () => {
  console.log("timings (ms):", JSON.stringify(timings));
  await Promise.all([pebbleHttp?.stop(), pebbleDns?.stop(), pebbleBroken?.stop()]);
  await Promise.all([challtest?.stop(), bind9?.stop(), nginx?.stop()]);
  if (certDir) rmSync(path.dirname(certDir), { recursive: true, force: true });
});

describe("ACME HTTP-01 through nginx", () => {
  let issued: IssuedCertificate;

  it("issues app.example.test, installs it in the app's vhost, and nginx serves it verified by Pebble's root", async () => {
    const fallbackServed = await sClient("app.example.test", await pebbleHttp.rootPath());
    expect(fallbackServed.verified).toBe(false); // the self-signed fallback does not verify

    const t0 = Date.now();
    const progress: string[] = [];
    issued = await engine.issueCertificate({ names: ["app.example.test"], challenge: "http-01", onProgress: (m) => progress.push(m) });
    timings.httpIssue = Date.now() - t0;
    await nginx.proxy.apply([appVhost("app1", "app.example.test", issued)]);
    await expectServed("app.example.test", issued, pebbleHttp);
    timings.httpIssueToServed = Date.now() - t0;

    expect(issued.names).toEqual(["app.example.test"]);
    expect(issued.slug).toBe("app.example.test");
    expect(issued.certPath).toBe(path.join(certDir, "app.example.test", "cert.pem"));
    expect(issued.info.issuer).toMatch(/^Pebble Intermediate CA/);
    expect(issued.info.chainLength).toBeGreaterThanOrEqual(2);
    expect(issued.warnings).toEqual([]);
    expect(progress.join("\n")).toMatch(/ordering a certificate for app\.example\.test[\s\S]*http-01 challenge for app\.example\.test[\s\S]*stored/);
    // key 0600, new ECDSA P-256 key, stored cert = what inspect reads
    expect(statSync(issued.keyPath).mode & 0o777).toBe(0o600);
    expect(readFileSync(issued.keyPath, "utf8")).toMatch(/BEGIN PRIVATE KEY/);
    expect(new X509Certificate(readFileSync(issued.certPath)).publicKey.asymmetricKeyDetails?.namedCurve).toBe("prime256v1");
    expect(inspectCertificate(readFileSync(issued.certPath, "utf8")).fingerprint256).toBe(issued.info.fingerprint256);
    // the token file was served to the CA and removed afterwards
    expect(listFiles(nginx.proxy.acmeChallengeDir)).toEqual([]);
    const log = readFileSync(path.join(nginx.prefix, "logs/access.log"), "utf8");
    expect(log).toMatch(/GET \/\.well-known\/acme-challenge\/[A-Za-z0-9_-]+ HTTP\/1\.1" 200/);

    // a browser-like client (curl with only Pebble's root trusted) gets through TLS to nginx (502: no app upstream here)
    // (retried: right after a reload, an old nginx worker may still take one more connection
    // with the old certificate; the first verified answer is what counts)
    const root = await pebbleHttp.rootPath();
    const res = await eventually(
      () => curlResolve(`https://app.example.test:${nginx.httpsPort}/`, ["--cacert", root]),
      (r) => r.status === 502,
      10_000,
      100,
    );
    expect(res.status).toBe(502);
  });

  it("keeps one account per directory: a restarted engine finds it (onlyReturnExisting) instead of registering", async () => {
    const first = await engine.ensureAccount();
    const keyFile = accountKeyPath(certDir, pebbleHttp.directoryUrl);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const key = readFileSync(keyFile, "utf8");
    const restarted = engineFor(pebbleHttp, "other@example.test"); // email changed meanwhile: contact updated, same account
    expect(await restarted.ensureAccount()).toEqual(first);
    expect(readFileSync(keyFile, "utf8")).toBe(key);
    expect(pebbleHttp.logs()).toMatch(/There are now 1 accounts in memory/);
    expect(pebbleHttp.logs()).not.toMatch(/There are now 2 accounts in memory/);
  });

  it("runs one order per set of names at a time: concurrent calls share it", async () => {
    const ordersBefore = (pebbleHttp.logs().match(/POST \/order-plz/g) ?? []).length;
    const [a, b] = await Promise.all([
      engine.issueCertificate({ names: ["www.example.test", "app2.example.test"], challenge: "http-01" }),
      engine.issueCertificate({ names: ["app2.example.test", "www.example.test"], challenge: "http-01" }),
    ]);
    expect(b).toBe(a);
    expect(a.info.names.sort()).toEqual(["app2.example.test", "www.example.test"]);
    expect((pebbleHttp.logs().match(/POST \/order-plz/g) ?? []).length).toBe(ordersBefore + 1);
    expect(engine.isIssuing(["www.example.test", "app2.example.test"])).toBe(false);
  });

  it("renews a certificate that is due: the new pair replaces the old on disk and is served after reload", async () => {
    const current = inspectCertificate(readFileSync(issued.certPath, "utf8"));
    // Pebble's certificates last 5 years: a clock 10 days before expiry makes it due
    const later = new Date(current.notAfter.getTime() - 10 * 86_400_000);
    expect(planRenewals([{ id: issued.slug, notAfter: current.notAfter }], new Date()).renew).toEqual([]);
    const plan = planRenewals([{ id: issued.slug, notAfter: current.notAfter }], later, { random: () => 0 });
    expect(plan.renew.map((d) => [d.id, d.reason])).toEqual([[issued.slug, "due"]]);

    const oldKey = readFileSync(issued.keyPath, "utf8");
    const t0 = Date.now();
    const renewed = await engine.issueCertificate({ names: current.names, challenge: "http-01" });
    expect(renewed.certPath).toBe(issued.certPath); // same stable paths: the vhost text does not change
    expect(renewed.info.fingerprint256).not.toBe(issued.info.fingerprint256);
    expect(renewed.info.serial).not.toBe(current.serial);
    expect(readFileSync(issued.keyPath, "utf8")).not.toBe(oldKey); // a new key per certificate
    expect(inspectCertificate(readFileSync(issued.certPath, "utf8")).fingerprint256).toBe(renewed.info.fingerprint256);
    expect(readdirSync(path.join(certDir, ".generations")).filter((g) => g.startsWith("app.example.test+"))).toHaveLength(1);

    // the vhost set is unchanged (same paths), so apply() reloads nothing; in the flat layout
    // (the default) nginx's workers open a name's pair at each handshake, so the renewed pair
    // is served at once, without a reload (root's helper names its copies by their content,
    // so there a renewal is a change of the set, as the certificate's version is rendered)
    const reloads = nginx.adapter.reloads;
    const applied = await nginx.proxy.apply([appVhost("app1", "app.example.test", renewed)]);
    expect(applied.reloaded).toBe(false);
    await expectServed("app.example.test", renewed, pebbleHttp);
    expect(nginx.adapter.reloads).toBe(reloads);
    timings.renewToServed = Date.now() - t0;
    issued = renewed;
  });

  it("a failing challenge: external error with the CA's detail, the old pair byte-identical, no token left", async () => {
    const before = { cert: readFileSync(issued.certPath), key: readFileSync(issued.keyPath) };
    const broken = engineFor(pebbleBroken);
    const t0 = Date.now();
    const err = await caughtHearthError(broken.issueCertificate({ names: ["app.example.test"], challenge: "http-01" }));
    timings.failedChallenge = Date.now() - t0;
    console.log(`failing challenge → ${err.code}: ${err.message}`);
    expect(err.code).toBe("external");
    // the VA's own words (Pebble: "Connection refused" to the closed port)
    expect(err.message).toMatch(/^the http-01 challenge for app\.example\.test failed: .*(connection refused|connect)/i);
    expect(err.details).toMatchObject({ reason: "acme_error", directoryUrl: pebbleBroken.directoryUrl });
    expect(readFileSync(issued.certPath).equals(before.cert)).toBe(true);
    expect(readFileSync(issued.keyPath).equals(before.key)).toBe(true);
    expect(listFiles(nginx.proxy.acmeChallengeDir)).toEqual([]);
    // still served
    await expectServed("app.example.test", issued, pebbleHttp);
  });

  it("refuses an unreachable or wrong directory URL quickly with external", async () => {
    const closed = await port();
    const t0 = Date.now();
    const unreachable = await caughtHearthError(
      new AcmeEngine({ certDir, acmeChallengeDir: nginx.proxy.acmeChallengeDir, settings: { directoryUrl: `https://127.0.0.1:${closed}/dir` } }).ensureAccount(),
    );
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(unreachable.code).toBe("external");
    expect(unreachable.message).toMatch(new RegExp(`cannot reach the ACME server https://127\\.0\\.0\\.1:${closed}: ECONNREFUSED`));

    const notAcme = await caughtHearthError(
      new AcmeEngine({
        certDir,
        acmeChallengeDir: nginx.proxy.acmeChallengeDir,
        settings: { directoryUrl: pebbleHttp.directoryUrl.replace(/\/dir$/, "/nope") },
        caCertificates: pebbleHttp.tlsCaPem,
      }).ensureAccount(),
    );
    expect(notAcme.code).toBe("external");
    expect(notAcme.message).toMatch(/ACME directory returned error 404/);

    // Pebble's HTTPS certificate is not trusted without caCertificates
    const untrusted = await caughtHearthError(new AcmeEngine({ certDir, acmeChallengeDir: nginx.proxy.acmeChallengeDir, settings: { directoryUrl: pebbleHttp.directoryUrl } }).ensureAccount());
    expect(untrusted.message).toMatch(/cannot reach the ACME server .*(self-signed|unable to verify|certificate)/i);
  });
});

describe("ACME DNS-01 through the rfc2136 provider and bind9", () => {
  let provider: DnsProvider;
  const upserts: DnsRecordSet[] = [];
  const propagate = (name: string, type: "TXT", values: string[]) => waitForPropagation(name, type, values, { nameservers: [bind9.nameserver], timeoutMs: 20_000, intervalMs: 200 });

  beforeAll(() => {
    const real = createDnsProvider("example.test", { kind: "rfc2136", nameserver: bind9.nameserver, tsigKeyName: bind9.keyName, tsigAlgorithm: "hmac-sha256", tsigSecret: bind9.secret });
    // the real provider, with its upserts recorded (to see both values in one record set)
    provider = {
      kind: real.kind,
      zone: real.zone,
      get: (n, t) => real.get(n, t),
      upsert: (set) => (upserts.push(structuredClone(set)), real.upsert(set)),
      remove: (n, t, v) => real.remove(n, t, v),
      verify: () => real.verify(),
    };
  });

  const txt = async () => {
    const { stdout } = await run("dig", ["@127.0.0.1", "-p", String(bind9.port), "+norecurse", "+short", "_acme-challenge.example.test", "TXT"]);
    return stdout.trim().split("\n").filter(Boolean).sort();
  };

  it("issues *.example.test + example.test, cleans the TXT records, and the wildcard is served for any app name", async () => {
    expect(await txt()).toEqual(['"keep-me"']);
    const dnsEngine = engineFor(pebbleDns);
    const t0 = Date.now();
    const cert = await dnsEngine.issueCertificate({ names: ["*.example.test", "example.test"], challenge: "dns-01", dnsProvider: provider, waitForPropagation: propagate });
    timings.dnsIssue = Date.now() - t0;
    expect(cert.slug).toBe("_wildcard.example.test");
    expect(cert.info.names.sort()).toEqual(["*.example.test", "example.test"]);
    // both authorizations' values went into the one `_acme-challenge.example.test` set, next to the foreign value
    const set = upserts.find((u) => u.name === "_acme-challenge.example.test")!;
    expect(set.values).toHaveLength(3);
    expect(set.values).toContain("keep-me");
    expect(await txt()).toEqual(['"keep-me"']);
    expect(cert.warnings).toEqual([]);

    await nginx.proxy.apply([appVhost("app1", "app.example.test", issuedHttp()), appVhost("wiki", "wiki.example.test", cert)]);
    await expectServed("wiki.example.test", cert, pebbleDns);
    timings.dnsIssueToServed = Date.now() - t0;
    // a name the wildcard does not cover is not served with a certificate valid for it (no
    // vhost has it: with no default server of setup's here, the flat server, which has no
    // certificate for it, ends the handshake)
    const deep = await sClient("a.b.example.test", await pebbleDns.rootPath());
    expect(deep.verified).toBe(false);
    expect(deep.output).not.toMatch(/subject=CN ?= ?\*\.example\.test/);
  });

  it("a failed propagation check fails the order with external and still removes the TXT values", async () => {
    const dead = await port();
    const stored = readFileSync(path.join(certDir, "_wildcard.example.test", "cert.pem"));
    const dnsEngine = engineFor(pebbleDns);
    const err = await caughtHearthError(
      dnsEngine.issueCertificate({
        names: ["*.example.test"],
        challenge: "dns-01",
        dnsProvider: provider,
        waitForPropagation: (n, t, v) => waitForPropagation(n, t, v, { nameservers: [bind9.nameserver, `127.0.0.1:${dead}`], timeoutMs: 1_500, intervalMs: 300 }),
      }),
    );
    expect(err.code).toBe("external");
    expect(err.message).toMatch(/_acme-challenge\.example\.test TXT is not yet served by 1 of 2 authoritative server/);
    expect(await txt()).toEqual(['"keep-me"']);
    expect(readFileSync(path.join(certDir, "_wildcard.example.test", "cert.pem")).equals(stored)).toBe(true);
  });
});

/** The HTTP-01 certificate of app.example.test as currently stored. */
function issuedHttp() {
  return { certPath: path.join(certDir, "app.example.test", "cert.pem"), keyPath: path.join(certDir, "app.example.test", "key.pem") };
}

describe("ACME DNS-01 through the powerdns provider and a real pdns-server", () => {
  let pdns: Pdns;
  let pebblePdns: TestPebble;

  beforeAll(async () => {
    // a zone of its own, on PowerDNS; Pebble's VA resolves through that server
    pdns = await startPdns({ dnsPort: await port(), apiPort: await port(), zone: "pdns.test" });
    pebblePdns = await startPebble({ listenPort: await port(), managementPort: await port(), tlsPort: await port(), httpPort: nginx.httpPort, dnsServer: pdns.nameserver });
  }, 60_000);

  afterAll(async () => {
    await pebblePdns?.stop();
    await pdns?.stop();
  });

  it("issues *.pdns.test + pdns.test through the PowerDNS HTTP API, cleans up, and nginx serves it verified", async () => {
    const provider = createDnsProvider("pdns.test", { kind: "powerdns", apiUrl: pdns.apiUrl, apiKey: pdns.apiKey });
    await provider.verify();
    const t0 = Date.now();
    const cert = await engineFor(pebblePdns).issueCertificate({
      names: ["*.pdns.test", "pdns.test"],
      challenge: "dns-01",
      dnsProvider: provider,
      waitForPropagation: (name, type, values) => waitForPropagation(name, type, values, { nameservers: [pdns.nameserver], timeoutMs: 20_000, intervalMs: 200 }),
    });
    timings.powerdnsIssue = Date.now() - t0;
    expect(cert.info.names.sort()).toEqual(["*.pdns.test", "pdns.test"]);
    // the challenge values are gone from the zone afterwards
    expect(await provider.get("_acme-challenge.pdns.test", "TXT")).toBeNull();
    await nginx.proxy.apply([appVhost("docs", "docs.pdns.test", cert)]);
    await expectServed("docs.pdns.test", cert, pebblePdns);
  });
});
