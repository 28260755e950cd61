import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { addRegistryRequest, hearthManifest, type HearthManifest } from "@hearth/contracts";
import { addDomain, addRegistry, installApp, openSecret, queueAppPurge, queueAppTask, sealSecret, type Db, type Task } from "@hearth/db";
import { AppService, noopVhostSync, ownerOf } from "../../apps/box/src/apps/apps.service";
import { containerNameOf, dataVolumeNameOf, networkNameOf } from "../../apps/box/src/apps/container-spec";
import { prismaRegistryCredentials } from "../../apps/box/src/apps/images";
import { createDocker, type DockerApi } from "../../apps/box/src/docker/docker";
import { CATALOG_APPS_DIR } from "../../packages/catalog/src/catalog";
import { startTaskRunner, type InProcessTasks } from "../helpers/app-tasks";
import { migratedDatabase, type TestDatabase } from "../helpers/db";
import { freePortIn } from "../helpers/nginx";
import { startTestRegistry, type TestRegistry } from "../helpers/registry";
import { ensureTestImages, TEST_HTTPD_IMAGE, testHttpdManifest } from "../helpers/test-images";
import { appDockerObjects } from "../helpers/app-objects";

/**
 * Installing an app whose image lives in a private registry: a real docker-registry with
 * htpasswd auth over TLS (test/helpers/registry.ts), credentials saved as admin's
 * POST /api/v1/registries saves them (sealed with HEARTH_SECRET_KEY), and box's image code
 * (images.ts, prismaRegistryCredentials) pulling through the real Docker engine inside an
 * app.install task run by box's task runner. The local copy of the image is removed before
 * every case, so each one really pulls. A failed install leaves no container, network or
 * volume, and no saved password ever reaches the task log.
 *
 * The app answers on its published 127.0.0.1 port; nginx is not the subject here
 * (apps-nginx.test.ts is), so vhosts are not rendered (box's HEARTH_PROXY=off wiring).
 */

const DOMAIN = "registry-pull.test";
let t: TestDatabase & { db: Db };
let db: Db;
let docker: DockerApi;
let registry: TestRegistry;
let tasks: InProcessTasks;
let ref = "";
const secretKey = randomBytes(32);
const tmpRoot = mkdtempSync(path.join(os.tmpdir(), "hearth-registry-pull-"));
const appIds: string[] = [];

function privateManifest(dockerImage: string): HearthManifest {
  return hearthManifest.parse(testHttpdManifest("org.hearth.test.private", "Private image", { dockerImage }));
}

/** What POST /api/v1/registries does with its body (apps/admin/app/api/v1/registries/route.ts). */
async function saveCredentials(body: { server: string; username: string; password: string }) {
  const parsed = addRegistryRequest.parse(body);
  return addRegistry(db, { server: parsed.server.toLowerCase(), username: parsed.username, passwordEnc: sealSecret(secretKey, parsed.password) });
}

const imagePresent = (r: string) => spawnSync("docker", ["image", "inspect", r], { stdio: "ignore" }).status === 0;

async function install(dockerImage: string, subdomain: string): Promise<{ appId: string; task: Task; log: string }> {
  const { app, task } = await installApp(db, { manifest: privateManifest(dockerImage), storeId: null, subdomain, domain: DOMAIN, memoryLimit: 64 * 1024 * 1024, env: {}, createdBy: null });
  appIds.push(app.id);
  const done = await tasks.finish(task.id);
  return { appId: app.id, task: done, log: tasks.log(task.id) };
}

/** The install failed with `code`, the app shows it, and nothing of it is left in Docker. */
async function expectFailedCleanly(r: { appId: string; task: Task; log: string }, code: string) {
  expect(r.task.state, r.log).toBe("failed");
  expect(r.task.errorCode, `${r.task.errorMessage}\n${r.log}`).toBe(code);
  const app = await db.app.findUniqueOrThrow({ where: { id: r.appId } });
  expect(app).toMatchObject({ installState: "error", errorCode: code, errorMessage: r.task.errorMessage, errorTaskId: r.task.id, containerId: null });
  expect(appDockerObjects(r.appId)).toEqual({ containers: [], networks: [], volumes: [] });
  expect(r.log).not.toContain(registry.password);
}

beforeAll(async () => {
  ensureTestImages();
  docker = createDocker();
  await docker.ping();
  // A port with "401"/"403" in it on purpose: a missing image must stay image_not_found even
  // when the registry's address contains what looks like an HTTP status (images.ts AUTH_ERROR).
  registry = await startTestRegistry({ port: await freePortIn(20000, 20999, (p) => /40[13]/.test(String(p))) });
  ref = await registry.push(TEST_HTTPD_IMAGE, "hearth-test/private-httpd:2");
  t = await migratedDatabase("regpull");
  db = t.db;
  await addDomain(db, { domain: DOMAIN, provider: "noop" });
  const service = new AppService({
    db,
    docker,
    vhosts: noopVhostSync,
    registries: prismaRegistryCredentials(db, secretKey.toString("base64")),
    catalogDirs: [CATALOG_APPS_DIR],
    owner: ownerOf(t.url),
    healthTimeoutMs: 30_000,
    healthIntervalMs: 200,
  });
  tasks = await startTaskRunner({ db, service, dataDir: path.join(tmpRoot, "box") });
});

afterAll(async () => {
  await tasks?.stop();
  for (const id of appIds) {
    spawnSync("docker", ["rm", "-f", containerNameOf(id)], { stdio: "ignore" });
    spawnSync("docker", ["network", "rm", networkNameOf(id)], { stdio: "ignore" });
    spawnSync("docker", ["volume", "rm", "-f", dataVolumeNameOf(id)], { stdio: "ignore" });
  }
  // only the tag this test made; the image itself stays as hearth-test/httpd
  if (ref) await docker.removeImage(ref).catch(() => {});
  await registry?.stop();
  await t?.drop();
  rmSync(tmpRoot, { recursive: true, force: true });
});

beforeEach(async () => {
  // each case really pulls: no local copy, no credentials from an earlier case
  await docker.removeImage(ref).catch(() => {});
  expect(imagePresent(ref)).toBe(false);
  await db.registry.deleteMany({});
});

describe("pulling an app's image from a private registry", () => {
  it("the registry itself refuses anonymous and wrong logins (so the cases below test box, not an open registry)", async () => {
    expect(await registry.get("/v2/", null)).toBe(401);
    expect(await registry.get("/v2/", { username: registry.username, password: "wrong" })).toBe(401);
    expect(await registry.get("/v2/hearth-test/private-httpd/manifests/2")).toBe(200);
  });

  it("with the saved credentials: pulls, installs and the app answers", async () => {
    const saved = await saveCredentials({ server: registry.host, username: registry.username, password: registry.password });
    // sealed at rest, opened only with the key
    expect(saved.passwordEnc).not.toContain(registry.password);
    expect(openSecret(secretKey, saved.passwordEnc)).toBe(registry.password);

    const r = await install(ref, "private");
    expect(r.task.state, `${r.task.errorCode}: ${r.task.errorMessage}\n${r.log}`).toBe("succeeded");
    expect(r.log).toContain(`pulling ${ref} from ${registry.host} as ${registry.username}`);
    expect(r.log).toContain(`image ${ref}: pulled`);
    expect(r.log).not.toContain(registry.password);
    expect(imagePresent(ref)).toBe(true);

    const app = await db.app.findUniqueOrThrow({ where: { id: r.appId } });
    expect(app).toMatchObject({ installState: "installed", runState: "running", health: "healthy" });
    const c = await docker.inspectContainer(containerNameOf(r.appId));
    expect(c?.status).toBe("running");
    const res = await fetch(`http://127.0.0.1:${app.httpHostPort}/`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("hello from hearth test app");

    const { task } = await queueAppTask(db, r.appId, "app.uninstall");
    expect((await tasks.finish(task.id)).state).toBe("succeeded");
    // uninstall keeps the app's data until an admin deletes it ("delete now" = app.purge)
    expect(appDockerObjects(r.appId)).toEqual({ containers: [], networks: [], volumes: [dataVolumeNameOf(r.appId)] });
    const purge = await queueAppPurge(db, r.appId, `${app.subdomain}.${app.domain}`, null);
    expect((await tasks.finish(purge.task.id)).state).toBe("succeeded");
    expect(appDockerObjects(r.appId)).toEqual({ containers: [], networks: [], volumes: [] });
  });

  it("with a wrong saved password: the task fails with registry_auth and leaves nothing behind", async () => {
    const wrong = `not-${registry.password}`;
    await saveCredentials({ server: registry.host, username: registry.username, password: wrong });
    const r = await install(ref, "wrongpw");
    await expectFailedCleanly(r, "registry_auth");
    expect(r.task.errorMessage).toContain(registry.host);
    expect(r.task.errorMessage).toContain(`the saved credentials of ${registry.username}`);
    expect(r.task.errorMessage).not.toContain(wrong);
    expect(r.log).not.toContain(wrong);
    expect(imagePresent(ref)).toBe(false);
  });

  it("with no credentials saved: registry_auth saying a login is needed, and nothing left behind", async () => {
    const r = await install(ref, "nocreds");
    // dockerd treats 127.0.0.0/8 as an insecure registry: after the anonymous https attempt
    // is refused it retries over plain http, and that error is the one the pull ends with.
    await expectFailedCleanly(r, "registry_auth");
    expect(r.task.errorMessage).toContain("requires a login and no credentials are saved");
    expect(r.log).toContain(`pulling ${ref} from ${registry.host}`);
    expect(r.log).not.toContain(`from ${registry.host} as `);
    expect(imagePresent(ref)).toBe(false);
  });

  it("an image the registry does not have: image_not_found naming the image, nothing left behind", async () => {
    await saveCredentials({ server: registry.host, username: registry.username, password: registry.password });
    const missing = `${registry.host}/hearth-test/no-such-image:1`;
    const r = await install(missing, "missing");
    await expectFailedCleanly(r, "image_not_found");
    expect(r.task.errorMessage).toContain(`image ${missing} is not on this server, could not be pulled`);
    expect(r.task.errorMessage).toMatch(/not found|manifest unknown/);
    expect(imagePresent(missing)).toBe(false);
  });
});
