import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hearthManifest, type HearthManifest } from "@hearth/contracts";
import { addDomain, fqdnOfUninstalled, getUninstalledApp, installApp, queueAppPurge, queueAppTask, type Db, type Task } from "@hearth/db";
import { AppService, ownerOf } from "../../apps/box/src/apps/apps.service";
import { containerNameOf, dataVolumeNameOf, networkNameOf } from "../../apps/box/src/apps/container-spec";
import { prismaRegistryCredentials } from "../../apps/box/src/apps/images";
import { createDocker, type DockerApi } from "../../apps/box/src/docker/docker";
import { CertificateManager } from "../../apps/box/src/domains/certificate-manager";
import { DomainService } from "../../apps/box/src/domains/domain.service";
import { FLAT_FILE } from "../../apps/box/src/proxy/vhost";
import { HealthMonitor } from "../../apps/box/src/apps/monitor";
import { dbVhostSync, type VhostSync } from "../../apps/box/src/proxy/vhost-sync";
import { CATALOG_APPS_DIR } from "../../packages/catalog/src/catalog";
import { startTaskRunner, type InProcessTasks } from "../helpers/app-tasks";
import { migratedDatabase, REPO_ROOT, type TestDatabase } from "../helpers/db";
import { curlResolve, eventually, freePort, headerValues, startTestNginx, type CurlResult, type TestNginx } from "../helpers/nginx";
import { appDockerObjects } from "../helpers/app-objects";

/**
 * The whole app pipeline on the real things: a catalog app (Static Site, lighttpd) installed
 * by box's AppService through box's task runner, on the real Docker engine, behind a real
 * nginx whose vhosts box renders from the database (dbVhostSync), against a migrated MariaDB.
 * Intent is recorded the way admin records it (installApp / queueAppTask), and the app is
 * reached only through nginx with `curl --resolve`: headers, http → https, ACME tokens,
 * configure (memory, env, subdomain), stop / start / restart, uninstall, nothing left.
 *
 * The test nginx carries setup's default servers (as the installed system nginx does), so a
 * name no app claims any more gets "No app here", never the dashboard.
 */

const DOMAIN = "apps-nginx.test";
const MIB = 1024 * 1024;
const manifest: HearthManifest = hearthManifest.parse(JSON.parse(readFileSync(path.join(CATALOG_APPS_DIR, "static-site/HearthManifest.json"), "utf8")));
const IMAGE = manifest.dockerImage;

let t: TestDatabase & { db: Db };
let db: Db;
let docker: DockerApi;
let nginx: TestNginx;
let tasks: InProcessTasks;
let dashboard: http.Server;
let dashboardPort = 0;
let imageBuiltHere = false;
const tmpRoot = mkdtempSync(path.join(os.tmpdir(), "hearth-apps-nginx-"));
let appId = "";
let vhostSync: VhostSync;
/** How often the app tasks asked for a vhost sync (box's real sync, counted). */
let syncs = 0;

const dockerOk = (...args: string[]) => spawnSync("docker", args, { stdio: "ignore", timeout: 60_000 }).status === 0;
function inspect(kind: "container" | "network" | "volume", name: string): Record<string, any> | null {
  const r = spawnSync("docker", [kind, "inspect", name], { encoding: "utf8", timeout: 30_000 });
  return r.status === 0 ? JSON.parse(r.stdout)[0] : null;
}
const execIn = (container: string, ...cmd: string[]) => execFileSync("docker", ["exec", container, ...cmd], { encoding: "utf8", timeout: 20_000 }).toString();
/** Every Docker object labelled as this app's. */
/** The vhost files box has live (the `sites` symlink's generation) and their text. */
function liveVhosts(): Map<string, string> {
  const sites = path.join(nginx.dataDir, "nginx", "sites");
  return new Map(readdirSync(sites).map((f) => [f, readFileSync(path.join(sites, f), "utf8")]));
}

const https = (sub: string, p = "/") => `https://${sub}.${DOMAIN}:${nginx.httpsPort}${p}`;
const httpUrl = (sub: string, p = "/") => `http://${sub}.${DOMAIN}:${nginx.httpPort}${p}`;

async function finished(task: Task): Promise<Task> {
  const done = await tasks.finish(task.id);
  expect(done.state, `${done.type} ${done.errorCode}: ${done.errorMessage}\n${tasks.log(task.id)}`).toBe("succeeded");
  expect(done.percent).toBe(100);
  return done;
}

/** The security headers nginx adds to every app response, each exactly once. */
function expectSecurityHeaders(r: CurlResult) {
  expect(headerValues(r, "strict-transport-security")).toEqual(["max-age=63072000"]);
  expect(headerValues(r, "x-content-type-options")).toEqual(["nosniff"]);
  expect(headerValues(r, "x-frame-options")).toEqual(["SAMEORIGIN"]);
  expect(headerValues(r, "referrer-policy")).toEqual(["strict-origin-when-cross-origin"]);
}
const servesSite = (r: CurlResult) => r.status === 200 && r.body.includes("Your static site is running");
const isDashboard = (r: CurlResult) => r.status === 200 && r.body === "hearth dashboard";
const noAppHere = (r: CurlResult) => r.status === 404 && r.body.includes("<h1>No app here</h1>") && !r.body.includes("hearth dashboard");

beforeAll(async () => {
  docker = createDocker();
  await docker.ping();
  if (!dockerOk("image", "inspect", IMAGE)) {
    // A fresh machine (CI) may run this before catalog.test.ts built the catalog images:
    // box then builds the app image itself from packages/catalog/apps (its catalog
    // fallback in images.ts), which needs the Debian base image the Dockerfile starts FROM.
    imageBuiltHere = true;
    const base = spawnSync(path.join(REPO_ROOT, "setup/images/base/build.sh"), [], { encoding: "utf8", timeout: 900_000 });
    if (base.status !== 0) throw new Error(`setup/images/base/build.sh failed:\n${base.stdout}${base.stderr}`);
  }
  t = await migratedDatabase("appsnginx");
  db = t.db;
  dashboard = http.createServer((_req, res) => res.end("hearth dashboard"));
  dashboardPort = await freePort();
  await new Promise<void>((r) => dashboard.listen(dashboardPort, "127.0.0.1", r));
  nginx = await startTestNginx({ dashboard: { upstreamPort: dashboardPort } });
  // the first domain added also serves the dashboard at my.<domain>
  // self-signed certificates only (no CA to reach here); names go through box's real DomainService
  await addDomain(db, { domain: DOMAIN, provider: "noop", tlsMode: "fallback" });
  const certs = new CertificateManager({ db, locks: null, certDir: path.join(tmpRoot, "certs"), acmeChallengeDir: nginx.proxy.acmeChallengeDir, log: { info() {}, warn() {} } });
  const real = dbVhostSync(db, nginx.proxy, { dashboardPort, tlsForSync: () => certs.tlsPicker() });
  vhostSync = real;
  const vhosts = {
    syncVhosts: () => {
      syncs++;
      return real.syncVhosts();
    },
  };
  const service = new AppService({
    db,
    docker,
    vhosts,
    names: new DomainService({ db, secretKey: null, certs, vhosts }),
    registries: prismaRegistryCredentials(db, undefined),
    catalogDirs: [CATALOG_APPS_DIR],
    owner: ownerOf(t.url),
    healthTimeoutMs: 60_000,
    healthIntervalMs: 200,
  });
  tasks = await startTaskRunner({ db, service, dataDir: path.join(tmpRoot, "box") });
}, 1_000_000);

afterAll(async () => {
  await tasks?.stop();
  if (appId) {
    // only when a test failed half way: remove what the app left
    dockerOk("rm", "-f", containerNameOf(appId));
    dockerOk("network", "rm", networkNameOf(appId));
    dockerOk("volume", "rm", "-f", dataVolumeNameOf(appId));
  }
  await nginx?.stop();
  if (dashboard) {
    dashboard.closeAllConnections();
    await new Promise((r) => dashboard.close(r));
  }
  if (imageBuiltHere) dockerOk("image", "rm", "-f", IMAGE);
  await t?.drop();
  rmSync(tmpRoot, { recursive: true, force: true });
});

describe("a catalog app behind a real nginx", () => {
  it("installs Static Site through an app.install task and serves it through nginx with the security headers, each once", async () => {
    const { app, task } = await installApp(db, { manifest, storeId: manifest.id, subdomain: "site", domain: DOMAIN, memoryLimit: manifest.memoryLimit, env: {}, createdBy: null });
    appId = app.id;
    const [reloads, synced] = [nginx.adapter.reloads, syncs];
    await finished(task);
    // the vhost before the certificates, again after them: the second changed nothing, so one reload
    expect(syncs - synced).toBe(2);
    expect(nginx.adapter.reloads - reloads).toBe(1);
    const row = await db.app.findUniqueOrThrow({ where: { id: appId } });
    expect(row).toMatchObject({ installState: "installed", runState: "running", health: "healthy", errorCode: null });
    expect(row.containerId).toBe(inspect("container", containerNameOf(appId))!.Id);
    if (imageBuiltHere) expect(tasks.log(task.id)).toMatch(/building hearth\/net\.lighttpd\.staticsite/);

    // box's sync reloads nginx asynchronously: wait for the new vhost
    const r = await eventually(() => curlResolve(https("site")), servesSite);
    expectSecurityHeaders(r);
    expect(headerValues(r, "content-type")[0]).toMatch(/^text\/html/);
    const health = await curlResolve(https("site", "/healthz"));
    expect(health.status).toBe(200);
    expect(health.body.trim()).toBe("ok");
    // the app's own 404 comes through nginx with the headers too
    const missing = await curlResolve(https("site", "/no-such-page"));
    expect(missing.status).toBe(404);
    expectSecurityHeaders(missing);
    // the dashboard vhost box rendered for the dashboard domain
    expect(isDashboard(await curlResolve(https("my")))).toBe(true);
  });

  it("redirects http to https, but serves ACME challenge tokens over plain http", async () => {
    const r = await curlResolve(httpUrl("site", "/a/page?x=1"));
    expect(r.status).toBe(301);
    expect(headerValues(r, "location")).toEqual([https("site", "/a/page?x=1")]);

    const token = "tok_apps-nginx-1";
    const file = path.join(nginx.proxy.acmeChallengeDir, token);
    writeFileSync(file, `${token}.thumbprint`);
    chmodSync(file, 0o644);
    const acme = await curlResolve(httpUrl("site", `/.well-known/acme-challenge/${token}`));
    expect(acme.status).toBe(200);
    expect(acme.body).toBe(`${token}.thumbprint`);
    expect((await curlResolve(httpUrl("site", "/.well-known/acme-challenge/missing"))).status).toBe(404);
  });

  it("configure: a new memory limit and env recreate the container; the data volume is kept", async () => {
    const before = inspect("container", containerNameOf(appId))!;
    expect(before.HostConfig.Memory).toBe(manifest.memoryLimit);
    execIn(containerNameOf(appId), "sh", "-c", "echo kept-across-configure > /app/data/public/kept.html");

    const { task } = await queueAppTask(db, appId, "app.configure", { memoryLimit: 200 * MIB, env: { GREETING: "hello from configure" } });
    await finished(task);
    const after = inspect("container", containerNameOf(appId))!;
    expect(after.Id).not.toBe(before.Id);
    expect(after.HostConfig.Memory).toBe(200 * MIB);
    expect(after.HostConfig.MemorySwap).toBe(200 * MIB);
    expect(execIn(containerNameOf(appId), "printenv", "GREETING").trim()).toBe("hello from configure");
    const row = await db.app.findUniqueOrThrow({ where: { id: appId } });
    expect(row).toMatchObject({ installState: "installed", runState: "running", containerId: after.Id });

    const kept = await eventually(
      () => curlResolve(https("site", "/kept.html")),
      (r) => r.status === 200,
    );
    expect(kept.body.trim()).toBe("kept-across-configure");
  });

  it("configure: a new subdomain serves the app and the old name no longer does", async () => {
    const { task } = await queueAppTask(db, appId, "app.configure", { subdomain: "www2" });
    await finished(task);
    const r = await eventually(() => curlResolve(https("www2")), servesSite);
    expectSecurityHeaders(r);
    expect(execIn(containerNameOf(appId), "printenv", "HEARTH_APP_DOMAIN").trim()).toBe(`www2.${DOMAIN}`);
    expect(execIn(containerNameOf(appId), "printenv", "HEARTH_APP_ORIGIN").trim()).toBe(`https://www2.${DOMAIN}`);
    // the env set before is still there
    expect(execIn(containerNameOf(appId), "printenv", "GREETING").trim()).toBe("hello from configure");

    // the old name falls to the default server ("No app here", not the dashboard), over https and http
    const old = await eventually(() => curlResolve(https("site")), noAppHere);
    expect(old.body).not.toContain("static site");
    expect(headerValues(old, "x-frame-options")).toEqual(["DENY"]);
    const oldHttp = await curlResolve(httpUrl("site", "/x"));
    expect(headerValues(oldHttp, "location")).toEqual([`https://site.${DOMAIN}/x`]);
    // the default (flat) layout: the app's names are entries of the one file's maps
    const flat = liveVhosts().get(FLAT_FILE) ?? "";
    expect(flat).toMatch(new RegExp(`^ {4}www2\\.${DOMAIN.replaceAll(".", "\\.")} ${(await db.app.findUniqueOrThrow({ where: { id: appId } })).httpHostPort};$`, "m"));
    expect(flat).not.toContain(`site.${DOMAIN}`);
  });

  it("stop: its name answers 503 '<title> is stopped by the administrator' (no auto-reload) with the security headers; start serves again", async () => {
    const { task } = await queueAppTask(db, appId, "app.stop", { runState: "stopped" });
    await finished(task);
    expect(inspect("container", containerNameOf(appId))!.State.Running).toBe(false);
    expect(await db.app.findUniqueOrThrow({ where: { id: appId } })).toMatchObject({ installState: "installed", runState: "stopped", health: null });

    // box's sync reloads nginx asynchronously
    const down = await eventually(
      () => curlResolve(https("www2", "/any/page")),
      (r) => r.status === 503,
    );
    expect(down.body).toContain(`<h1>${manifest.title} is stopped by the administrator</h1>`);
    expect(down.body).not.toMatch(/http-equiv="refresh"|starting or not responding/i);
    expect(headerValues(down, "content-type")[0]).toMatch(/^text\/html/);
    expectSecurityHeaders(down);
    // the flat file holds the name in no port map: nothing is proxied to the stopped app
    const row = await db.app.findUniqueOrThrow({ where: { id: appId } });
    expect(liveVhosts().get(FLAT_FILE)).not.toContain(`www2.${DOMAIN} ${row.httpHostPort};`);

    // configured while stopped: it stays stopped, and its name says so again (not "being reconfigured")
    const { task: configure } = await queueAppTask(db, appId, "app.configure", { env: { GREETING: "configured while stopped" } });
    await finished(configure);
    expect(inspect("container", containerNameOf(appId))!.State.Running).toBe(false);
    const still = await eventually(
      () => curlResolve(https("www2")),
      (r) => r.status === 503 && r.body.includes("is stopped by the administrator"),
    );
    expect(still.body).not.toContain("reconfigured");

    const { task: start } = await queueAppTask(db, appId, "app.start", { runState: "running" });
    await finished(start);
    expect(inspect("container", containerNameOf(appId))!.State.Running).toBe(true);
    expect(await db.app.findUniqueOrThrow({ where: { id: appId } })).toMatchObject({ runState: "running", health: "healthy" });
    expect(servesSite(await eventually(() => curlResolve(https("www2")), servesSite))).toBe(true);
  });

  it("restart restarts the same container and it serves again", async () => {
    const before = inspect("container", containerNameOf(appId))!;
    const { task } = await queueAppTask(db, appId, "app.restart", { runState: "running" });
    await finished(task);
    const after = inspect("container", containerNameOf(appId))!;
    expect(after.Id).toBe(before.Id);
    expect(after.State.StartedAt).not.toBe(before.State.StartedAt);
    expect(after.State.Running).toBe(true);
    expect(servesSite(await curlResolve(https("www2")))).toBe(true);
  });

  it("the health monitor (wired as main.ts wires it) rewrites the app's page when its container dies: 'crashed', then served again", async () => {
    const monitor = new HealthMonitor({ db, docker, log: { info() {}, warn() {} } as never, onHealthChange: async () => void (await vhostSync.syncVhosts()) });
    // the container dies behind Hearth's back (not a task): Docker does not restart a container stopped this way
    expect(dockerOk("stop", "-t", "1", containerNameOf(appId))).toBe(true);
    const reloads = nginx.adapter.reloads;
    expect(await monitor.checkOne(appId)).toBe("dead");
    const page = readFileSync(path.join(nginx.proxy.pagesDir, `app-state-${appId.toLowerCase()}.html`), "utf8");
    expect(page).toContain(`${manifest.title} has crashed and is being restarted`);
    const down = await curlResolve(https("www2"));
    expect(down.status).toBe(502);
    expect(down.body).toContain(`<h1>${manifest.title} has crashed and is being restarted</h1>`);
    expect(down.body).toContain('<meta http-equiv="refresh" content="30">');
    // only the page changed: nginx was not reloaded
    expect(nginx.adapter.reloads).toBe(reloads);

    expect(dockerOk("start", containerNameOf(appId))).toBe(true);
    await eventually(
      () => monitor.checkOne(appId),
      (h) => h === "healthy",
      30_000,
      300,
    );
    expect(servesSite(await eventually(() => curlResolve(https("www2")), servesSite))).toBe(true);
    // healthy: the page (shown only if nginx cannot reach it) no longer says crashed
    expect(readFileSync(path.join(nginx.proxy.pagesDir, `app-state-${appId.toLowerCase()}.html`), "utf8")).toContain(`${manifest.title} is not responding`);
  });

  it("uninstall, then delete now, leaves nothing: no container, network, volume, vhost or row, and nginx no longer serves the app", async () => {
    expect(appDockerObjects(appId)).toMatchObject({ containers: [expect.any(String)], networks: [expect.any(String)], volumes: [expect.any(String)] });
    const { task } = await queueAppTask(db, appId, "app.uninstall");
    const reloads = nginx.adapter.reloads;
    await finished(task);
    expect(nginx.adapter.reloads - reloads).toBe(1);
    // uninstall keeps the data until the admin deletes it (or it expires)
    expect(appDockerObjects(appId)).toEqual({ containers: [], networks: [], volumes: [expect.any(String)] });
    const kept = (await getUninstalledApp(db, appId))!;
    const { task: purge } = await queueAppPurge(db, appId, fqdnOfUninstalled(kept), null);
    await finished(purge);
    expect(appDockerObjects(appId)).toEqual({ containers: [], networks: [], volumes: [] });
    expect(inspect("container", containerNameOf(appId))).toBeNull();
    expect(inspect("network", networkNameOf(appId))).toBeNull();
    expect(inspect("volume", dataVolumeNameOf(appId))).toBeNull();
    expect(await db.app.findUnique({ where: { id: appId } })).toBeNull();
    expect(await db.appPort.count({ where: { appId } })).toBe(0);
    const files = liveVhosts();
    expect([...files.keys()].filter((f) => f.startsWith("app-") || f === FLAT_FILE)).toEqual([]);
    expect([...files.values()].join("\n")).not.toContain(appId);
    // an uninstalled app's name: "No app here", never the dashboard's login; the dashboard stays at my.<domain>
    expect(noAppHere(await eventually(() => curlResolve(https("www2")), noAppHere))).toBe(true);
    expect(isDashboard(await curlResolve(https("my")))).toBe(true);
    expect(readdirSync(nginx.proxy.pagesDir).filter((f) => f.includes(appId.toLowerCase()))).toEqual([]);
    appId = "";
  });
});
