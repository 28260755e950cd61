import { execFile, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACME_SETTINGS_KEY, hearthManifest, NETWORK_SETTINGS_KEY, type HearthManifest } from "@hearth/contracts";
import { addDomain, installApp, queueAppTask, queueCertificateRenewal, sealSecret, setSetting, updateDomain, type Db, type Task } from "@hearth/db";
import { AppService, ownerOf } from "../../apps/box/src/apps/apps.service";
import { prismaRegistryCredentials } from "../../apps/box/src/apps/images";
import { createDocker } from "../../apps/box/src/docker/docker";
import { CertificateManager } from "../../apps/box/src/domains/certificate-manager";
import { DomainService, domainTasks } from "../../apps/box/src/domains/domain.service";
import { dbVhostSync } from "../../apps/box/src/proxy/vhost-sync";
import { CATALOG_APPS_DIR } from "../../packages/catalog/src/catalog";
import { startTaskRunner, type InProcessTasks } from "../helpers/app-tasks";
import { startBind9, type Bind9 } from "../helpers/bind9";
import { migratedDatabase, type TestDatabase } from "../helpers/db";
import { curlResolve, eventually, freePort, freePortIn, startTestNginx, type TestNginx } from "../helpers/nginx";
import { startPebble, type TestPebble } from "../helpers/pebble";

/**
 * Certificates end to end in box, with real peers only: Pebble (Debian's `pebble`) as the
 * ACME CA, a real bind9 holding the zone (the rfc2136 provider edits it; Pebble resolves
 * through it), a real nginx serving the names, and a catalog app in a real container.
 *
 *  - HTTP-01 on a `manual` domain: the admin made the record by hand; installing the app
 *    gets its certificate through nginx's ACME location; the served chain verifies
 *    against Pebble's root.
 *  - DNS-01 on an rfc2136 domain: installing creates the app's A record, the certificate
 *    comes by DNS-01; uninstall removes both.
 *  - A record pointing elsewhere is not overwritten (dns_conflict) unless told.
 *  - letsencrypt-wildcard: one `*.d` certificate serves every app; the dashboard name too,
 *    and the IP URL then redirects to it.
 *  - Renewal when due (a clock 10 days before expiry), and a failing renewal that keeps
 *    the old certificate served and records the error and the event.
 *  - A custom certificate uploaded for a domain is served.
 */

const run = promisify(execFile);
const ZONE = "certs.test";
const MANUAL = `manual.${ZONE}`;
const SECRET_KEY = Buffer.alloc(32, 7);
const manifest: HearthManifest = hearthManifest.parse(JSON.parse(readFileSync(path.join(CATALOG_APPS_DIR, "static-site/HearthManifest.json"), "utf8")));

let t: TestDatabase & { db: Db };
let db: Db;
let nginx: TestNginx;
let bind9: Bind9;
let pebble: TestPebble;
let pebbleRoot = "";
let tasks: InProcessTasks;
let certs: CertificateManager;
let dashboard: http.Server;
let clock: Date | null = null;
const tmpRoot = mkdtempSync(path.join(os.tmpdir(), "hearth-certs-"));
const apps: string[] = [];

const url = (fqdn: string, p = "/") => `https://${fqdn}:${nginx.httpsPort}${p}`;

/**
 * The certificate nginx serves for `fqdn` once it is `want` (nginx's reload is
 * asynchronous: old workers finish their connections with the old set for a moment).
 */
async function servedWhen(fqdn: string, want: (s: Awaited<ReturnType<typeof served>>) => boolean, ms = 10_000) {
  return eventually(() => served(fqdn), want, ms, 100);
}

/** The certificate nginx serves for `fqdn` (SNI), checked against Pebble's root: verify result, serial, SANs. */
async function served(fqdn: string): Promise<{ verified: boolean; serial: string; names: string; issuer: string }> {
  const r = spawnSync(
    "bash",
    [
      "-c",
      `openssl s_client -connect 127.0.0.1:${nginx.httpsPort} -servername ${fqdn} -CAfile ${tmpRoot}/pebble-root.pem -verify_hostname ${fqdn} </dev/null 2>/dev/null | tee ${tmpRoot}/sc.txt | openssl x509 -noout -serial -ext subjectAltName -issuer`,
    ],
    { encoding: "utf8", timeout: 20_000 },
  );
  const sc = readFileSync(`${tmpRoot}/sc.txt`, "utf8");
  return {
    verified: /Verify return code: 0 \(ok\)/.test(sc),
    serial: /serial=([0-9A-F]+)/.exec(r.stdout)?.[1] ?? "",
    names: /X509v3 Subject Alternative Name:\s*\n\s*(.*)/.exec(r.stdout)?.[1] ?? "",
    issuer: /issuer=(.*)/.exec(r.stdout)?.[1] ?? "",
  };
}

async function dig(name: string, type = "A"): Promise<string[]> {
  const { stdout } = await run("dig", ["@127.0.0.1", "-p", String(bind9.port), "+short", "+norecurse", name, type]);
  return stdout.trim().split("\n").filter(Boolean);
}

/** A record made "by hand" (what an admin with a manual provider does), with nsupdate. */
async function handRecord(name: string, value: string | null) {
  const script = [`server 127.0.0.1 ${bind9.port}`, `zone ${ZONE}`, `update delete ${name} A`, ...(value ? [`update add ${name} 60 A ${value}`] : []), "send", ""].join("\n");
  const keyFile = path.join(tmpRoot, "hand.key");
  await run("bash", ["-c", `cat > ${keyFile} <<'EOF'\nkey "${bind9.keyName}" { algorithm ${bind9.algorithm}; secret "${bind9.secret}"; };\nEOF\nchmod 600 ${keyFile}`]);
  const p = spawnSync("nsupdate", ["-k", keyFile], { input: script, encoding: "utf8" });
  if (p.status !== 0) throw new Error(`nsupdate failed: ${p.stderr}`);
}

async function finished(task: Task, state: "succeeded" | "failed" = "succeeded"): Promise<Task> {
  const done = await tasks.finish(task.id, 180_000);
  expect(done.state, `${done.type} ${done.errorCode}: ${done.errorMessage}\n${tasks.log(task.id)}`).toBe(state);
  return done;
}

async function install(subdomain: string, domain: string, opts: { overwriteDns?: boolean } = {}) {
  const r = await installApp(db, { manifest, storeId: manifest.id, subdomain, domain, memoryLimit: manifest.memoryLimit, env: {}, createdBy: null, ...opts });
  apps.push(r.app.id);
  return r;
}

beforeAll(async () => {
  t = await migratedDatabase("certs");
  db = t.db;
  bind9 = await startBind9({ port: await freePortIn(21500, 21999), zone: ZONE });
  dashboard = http.createServer((_req, res) => res.end("hearth dashboard"));
  const dashboardPort = await freePort();
  await new Promise<void>((r) => dashboard.listen(dashboardPort, "127.0.0.1", r));
  nginx = await startTestNginx({ dashboard: { upstreamPort: dashboardPort } });
  pebble = await startPebble({
    listenPort: await freePortIn(22500, 22999),
    managementPort: await freePortIn(22500, 22999),
    httpPort: nginx.httpPort,
    tlsPort: await freePortIn(22500, 22999),
    dnsServer: bind9.nameserver,
  });
  pebbleRoot = await pebble.rootPem();
  writeFileSync(`${tmpRoot}/pebble-root.pem`, pebbleRoot);

  await setSetting(db, ACME_SETTINGS_KEY, { directoryUrl: pebble.directoryUrl, email: "admin@certs.test", caCertificate: pebble.tlsCaPem });
  await setSetting(db, NETWORK_SETTINGS_KEY, { ipv4: "127.0.0.1", ipv6: null });

  certs = new CertificateManager({
    db,
    locks: null,
    certDir: path.join(tmpRoot, "certs"),
    acmeChallengeDir: nginx.proxy.acmeChallengeDir,
    log: { info: () => {}, warn: () => {} },
    now: () => clock ?? new Date(),
    propagation: { timeoutMs: 20_000, intervalMs: 200 },
  });
  // as main.ts wires it: every certificate read once per sync
  const vhosts = dbVhostSync(db, nginx.proxy, { dashboardPort, tlsForSync: () => certs.tlsPicker() });
  const domains = new DomainService({ db, secretKey: SECRET_KEY, certs, vhosts });
  const service = new AppService({
    db,
    docker: createDocker(),
    vhosts,
    registries: prismaRegistryCredentials(db, undefined),
    catalogDirs: [CATALOG_APPS_DIR],
    owner: ownerOf(t.url),
    healthTimeoutMs: 60_000,
    healthIntervalMs: 200,
    names: domains,
  });
  tasks = await startTaskRunner({ db, service, dataDir: path.join(tmpRoot, "box"), extraTasks: domainTasks(domains) });
}, 600_000);

afterAll(async () => {
  await tasks?.stop();
  for (const id of apps) {
    spawnSync("docker", ["rm", "-f", `hearth-app-${id}`], { stdio: "ignore" });
    spawnSync("docker", ["network", "rm", `hearth-app-${id}`], { stdio: "ignore" });
    spawnSync("docker", ["volume", "rm", "-f", `hearth-app-${id}-data`], { stdio: "ignore" });
  }
  await pebble?.stop();
  await nginx?.stop();
  await bind9?.stop();
  if (dashboard) {
    dashboard.closeAllConnections();
    await new Promise((r) => dashboard.close(r));
  }
  await t?.drop();
  rmSync(tmpRoot, { recursive: true, force: true });
});

const rfc2136Config = () => sealSecret(SECRET_KEY, JSON.stringify({ nameserver: bind9.nameserver, tsigKeyName: bind9.keyName, tsigAlgorithm: bind9.algorithm, tsigSecret: bind9.secret }));

describe("certificates from a real ACME CA (Pebble) for apps behind a real nginx", () => {
  it("rfc2136 domain (the dashboard's): the domain sync gives my.<domain> its A record and a DNS-01 certificate, and the IP URL then redirects there", async () => {
    const { task } = await addDomain(db, { domain: ZONE, provider: "rfc2136", providerConfigEnc: rfc2136Config(), tlsMode: "letsencrypt" });
    const done = await finished(task);
    expect(done.result).toMatchObject({ certificatesIssued: 1, certificatesFailed: 0 });
    expect(await dig(`my.${ZONE}`)).toEqual(["127.0.0.1"]);
    const s = await servedWhen(`my.${ZONE}`, (x) => x.verified);
    expect(s.verified).toBe(true);
    expect(s.names).toContain(`DNS:my.${ZONE}`);
    const ip = await curlResolve(`https://127.0.0.1:${nginx.httpsPort}/settings?x=1`);
    expect(ip.status).toBe(301);
    expect(ip.headers).toContainEqual(["location", `https://my.${ZONE}:${nginx.httpsPort}/settings?x=1`]);
  });

  it("HTTP-01 on a manual domain: the app installs, and its name is served with a certificate that verifies against the CA's root", async () => {
    const { task: dt } = await addDomain(db, { domain: MANUAL, provider: "manual", tlsMode: "letsencrypt" });
    await finished(dt);
    await handRecord(`site.${MANUAL}`, "127.0.0.1");
    const before = await served(`site.${MANUAL}`);
    expect(before.verified).toBe(false);
    const started = Date.now();
    const { task } = await install("site", MANUAL);
    await finished(task);
    const s = await servedWhen(`site.${MANUAL}`, (x) => x.verified);
    const ms = Date.now() - started;
    console.log(`install → valid certificate served (HTTP-01): ${ms} ms`);
    expect(s.verified).toBe(true);
    expect(s.names).toBe(`DNS:site.${MANUAL}`);
    expect(tasks.log(task.id)).toMatch(/http-01/);
    const row = await db.certificate.findFirstOrThrow({ where: { namesKey: `site.${MANUAL}` } });
    expect(row).toMatchObject({ kind: "acme", challenge: "http-01", failures: 0, lastError: null });
    expect(row.notAfter!.getTime()).toBeGreaterThan(Date.now());
    const r = await curlResolve(url(`site.${MANUAL}`), ["--cacert", `${tmpRoot}/pebble-root.pem`]);
    expect(r.status).toBe(200);
    expect((await db.event.findMany({ where: { action: "certificate.new", target: `site.${MANUAL}` } })).length).toBe(1);
  });

  it("DNS-01 on the rfc2136 domain: installing creates the A record and the certificate; uninstalling removes both", async () => {
    const { app, task } = await install("wiki", ZONE);
    await finished(task);
    expect(await dig(`wiki.${ZONE}`)).toEqual(["127.0.0.1"]);
    const s = await servedWhen(`wiki.${ZONE}`, (x) => x.verified);
    expect(s.verified).toBe(true);
    expect(tasks.log(task.id)).toMatch(/dns-01/);
    expect(await dig(`_acme-challenge.wiki.${ZONE}`, "TXT")).toEqual([]);
    const { task: un } = await queueAppTask(db, app.id, "app.uninstall");
    await finished(un);
    expect(await dig(`wiki.${ZONE}`)).toEqual([]);
    expect(await db.certificate.count({ where: { namesKey: `wiki.${ZONE}` } })).toBe(0);
    expect(await db.dnsRecord.count({ where: { fqdn: `wiki.${ZONE}` } })).toBe(0);
  });

  it("a record that points elsewhere is not overwritten (dns_conflict, nothing left behind) unless the install says overwriteDns", async () => {
    await handRecord(`taken.${ZONE}`, "192.0.2.7");
    const first = await install("taken", ZONE);
    const failed = await finished(first.task, "failed");
    expect(failed.errorCode).toBe("dns_conflict");
    expect(failed.errorMessage).toContain("192.0.2.7");
    expect(await dig(`taken.${ZONE}`)).toEqual(["192.0.2.7"]);
    expect(spawnSync("docker", ["inspect", `hearth-app-${first.app.id}`], { stdio: "ignore" }).status).not.toBe(0);
    expect(await db.event.count({ where: { action: "dns.record_conflict", target: `taken.${ZONE}` } })).toBe(1);
    await db.app.delete({ where: { id: first.app.id } });

    const second = await install("taken", ZONE, { overwriteDns: true });
    await finished(second.task);
    expect(await dig(`taken.${ZONE}`)).toEqual(["127.0.0.1"]);
  });

  it("renewal: due certificates are renewed and served; a failing renewal keeps the old one served and records the error", async () => {
    try {
      await renewalCase();
    } finally {
      clock = null;
      await handRecord(`site.${MANUAL}`, "127.0.0.1");
    }
  });

  async function renewalCase() {
    const fqdn = `site.${MANUAL}`;
    const old = await served(fqdn);
    const row = await db.certificate.findFirstOrThrow({ where: { namesKey: fqdn } });
    // ten days before expiry: due
    clock = new Date(row.notAfter!.getTime() - 10 * 86_400_000);
    const done = await finished(await queueCertificateRenewal(db, {}));
    expect((done.result as { renewed: number }).renewed).toBeGreaterThanOrEqual(1);
    const renewed = await servedWhen(fqdn, (x) => x.serial !== old.serial);
    expect(renewed.verified).toBe(true);
    expect(renewed.serial).not.toBe(old.serial);

    // the CA stops answering challenges for this name: the record goes away
    await handRecord(fqdn, null);
    const failed = await finished(await queueCertificateRenewal(db, { certificateId: row.id, force: true }), "failed");
    expect(failed.errorCode).toBe("certificate_failed");
    const after = await served(fqdn);
    expect(after.serial).toBe(renewed.serial);
    expect(after.verified).toBe(true);
    const r2 = await db.certificate.findFirstOrThrow({ where: { id: row.id } });
    expect(r2.failures).toBe(1);
    expect(r2.lastError).toBeTruthy();
    expect(r2.nextAttemptAt!.getTime()).toBeGreaterThan(clock.getTime());
    expect(await db.event.count({ where: { action: "certificate.renewal_failed", target: fqdn } })).toBe(1);
    // the admins are notified once, grouped by domain and kind, the name inside in their words
    const openItems = () => db.notificationItem.findMany({ where: { subject: fqdn, closedAt: null, notification: { dismissedAt: null } }, include: { notification: true } });
    const notes = await openItems();
    expect(notes).toHaveLength(1);
    expect(notes[0]!.notification.kind).toBe("cert_expiring");
    expect(notes[0]!.notification.key).toBe(`cert_expiring:${MANUAL}`);
    expect(notes[0]!.notification.title).toMatch(new RegExp(`^Certificates not renewed for \\d+ names? on ${MANUAL.replace(/\./g, "\\.")}$`));
    expect(notes[0]!.label).toBe(fqdn);
    expect(notes[0]!.message).toContain("The current certificate stays in use");
    // no raw error or ISO time in the admin's sentence; the raw error is kept apart
    expect(notes[0]!.message).not.toMatch(/\d{4}-\d{2}-\d{2}T/);
    expect(notes[0]!.details).toBe(r2.lastError);
    // fixed: the next renewal succeeds and the notification goes away by itself
    await handRecord(fqdn, "127.0.0.1");
    await finished(await queueCertificateRenewal(db, { certificateId: row.id, force: true }));
    expect(await openItems()).toHaveLength(0);
  }

  it("letsencrypt-wildcard: one *.domain certificate serves every app of the domain", async () => {
    const { task } = await updateDomain(db, ZONE, { tlsMode: "letsencrypt-wildcard" });
    const done = await finished(task);
    expect(done.result, tasks.log(task.id)).toMatchObject({ certificatesFailed: 0 });
    const s = await servedWhen(`taken.${ZONE}`, (x) => x.verified && x.names.includes(`DNS:*.${ZONE}`));
    expect(s.issuer).toContain("Pebble");
    // the dashboard's name too; waited for like the app's: nginx's reload is asynchronous, and
    // an old worker that has not yet closed its listening socket may take one more connection
    expect((await servedWhen(`my.${ZONE}`, (x) => x.verified && x.names.includes(`DNS:*.${ZONE}`))).names).toContain(`DNS:*.${ZONE}`);
    // the per-name certificates of this domain are gone
    expect(await db.certificate.count({ where: { domain: ZONE, kind: "acme", namesKey: { not: `*.${ZONE},${ZONE}` } } })).toBe(0);
  });

  it("custom: an uploaded certificate for the domain is installed and served", async () => {
    const dir = path.join(tmpRoot, "custom");
    spawnSync("mkdir", ["-p", dir]);
    const sh = (c: string) => {
      const r = spawnSync("bash", ["-c", c], { cwd: dir, encoding: "utf8" });
      if (r.status !== 0) throw new Error(r.stderr);
    };
    sh(
      `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem -days 30 -subj "/CN=Custom Test CA" -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign`,
    );
    sh(`openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout leaf.key -out leaf.csr -subj "/CN=${MANUAL}"`);
    sh(
      `printf 'subjectAltName=DNS:${MANUAL},DNS:*.${MANUAL}\\nbasicConstraints=CA:FALSE\\n' > ext && openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 20 -extfile ext -out leaf.pem`,
    );
    const chain = readFileSync(path.join(dir, "leaf.pem"), "utf8") + readFileSync(path.join(dir, "ca.pem"), "utf8");
    const { task } = await updateDomain(db, MANUAL, { tlsMode: "custom", customCertPem: chain, customKeyEnc: sealSecret(SECRET_KEY, readFileSync(path.join(dir, "leaf.key"), "utf8")) });
    await finished(task);
    await servedWhen(`site.${MANUAL}`, (x) => x.issuer.includes("Custom Test CA"));
    const r = spawnSync("bash", ["-c", `openssl s_client -connect 127.0.0.1:${nginx.httpsPort} -servername site.${MANUAL} -CAfile ${dir}/ca.pem </dev/null 2>/dev/null`], { encoding: "utf8" });
    expect(r.stdout).toContain("Verify return code: 0 (ok)");
    expect(r.stdout).toContain("Custom Test CA");
    expect(readdirSync(path.join(tmpRoot, "certs"))).toContain(`_custom.${MANUAL}`);
  });
});
