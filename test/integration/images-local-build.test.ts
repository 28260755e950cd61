import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HEARTH_BASE_IMAGE, hearthManifest, type HearthManifest } from "@hearth/contracts";
import { addDomain, installApp, queueAppTask, type Db, type Task } from "@hearth/db";
import { AppService, noopVhostSync, ownerOf } from "../../apps/box/src/apps/apps.service";
import { containerNameOf, dataVolumeNameOf, networkNameOf } from "../../apps/box/src/apps/container-spec";
import { prismaRegistryCredentials } from "../../apps/box/src/apps/images";
import { createDocker, type DockerApi } from "../../apps/box/src/docker/docker";
import { startTaskRunner, type InProcessTasks } from "../helpers/app-tasks";
import { migratedDatabase, REPO_ROOT, type TestDatabase } from "../helpers/db";
import { ensureTestImages, testHttpdManifest } from "../helpers/test-images";

/**
 * Hearth's own images are built here, never pulled (issue 10, "Images"). A catalog of this
 * run's own (a temporary folder, so the shared catalog images other tests use are left
 * alone) holds a tiny app built FROM the local debootstrap base `localhost/hearth/base:bookworm`
 * under a name no earlier run made. It is installed through box's real install path (the
 * task runner claiming an `app.install` row made as admin makes it) while:
 *  - box's Docker client is wrapped so any pull box asks for is recorded and refused, and
 *  - `docker events --filter type=image` is watched for a pull of any image this test names
 *    (the watcher is proven live by the `tag` event of the build).
 * It must be built from the catalog folder, FROM the local base (its layers start with the
 * base's), run and answer. Then: an App row stored with the legacy bare `hearth/` name
 * (installs before localhost/hearth/) gets the same local image, never Docker Hub's; a
 * catalog app whose base is missing fails before any build (the build would have pulled
 * it); and a registry image of the same manifest id that cannot be pulled is never built
 * from the catalog under that name.
 */

const RUN = randomBytes(4).toString("hex");
const DOMAIN = "images-local.test";
const APP_ID = `org.hearth.test.localbuild${RUN}`;
const IMAGE = `localhost/hearth/test-localbuild-${RUN}:1.0.0`;
const LEGACY_IMAGE = `hearth/test-localbuild-${RUN}:1.0.0`;
const NOBASE_ID = `org.hearth.test.nobase${RUN}`;
const NOBASE_IMAGE = `localhost/hearth/test-nobase-${RUN}:1.0.0`;
const MISSING_BASE = `localhost/hearth/test-missing-base-${RUN}:1`;
const FOREIGN_IMAGE = `hearth-test/localbuild-foreign-${RUN}:1.0.0`;
const OUR_NAMES = [IMAGE, LEGACY_IMAGE, NOBASE_IMAGE, MISSING_BASE, FOREIGN_IMAGE, HEARTH_BASE_IMAGE, "hearth/base:bookworm"];

const tmpRoot = mkdtempSync(path.join(os.tmpdir(), "hearth-images-local-"));
const catalogDir = path.join(tmpRoot, "catalog");
let t: TestDatabase & { db: Db };
let db: Db;
let tasks: InProcessTasks;
const pullsAsked: string[] = [];
const appIds: string[] = [];
let events: ChildProcess | undefined;
const imageEvents: { action: string; id: string }[] = [];

const imagePresent = (ref: string) => spawnSync("docker", ["image", "inspect", ref], { stdio: "ignore" }).status === 0;
const inspectImage = (ref: string) => JSON.parse(execFileSync("docker", ["image", "inspect", ref], { encoding: "utf8" }))[0];

function manifest(id: string, dockerImage: string): HearthManifest {
  return hearthManifest.parse(testHttpdManifest(id, "Local build test", { dockerImage }));
}

/** A catalog app folder: HearthManifest.json (the raw JSON, legacy names as written), a Dockerfile, the files it copies. */
function catalogApp(slug: string, m: Record<string, unknown>, from: string) {
  const dir = path.join(catalogDir, slug);
  mkdirSync(path.join(dir, "www"), { recursive: true });
  writeFileSync(path.join(dir, "HearthManifest.json"), JSON.stringify(m));
  copyFileSync("/bin/busybox", path.join(dir, "busybox"));
  writeFileSync(path.join(dir, "www", "index.html"), `built here from ${from} (${RUN})\n`);
  writeFileSync(path.join(dir, "www", "health"), "ok\n");
  writeFileSync(path.join(dir, "Dockerfile"), `FROM ${from}\nCOPY busybox /usr/local/bin/busybox\nCOPY www/ /www/\nCMD ["/usr/local/bin/busybox", "httpd", "-f", "-v", "-p", "8080", "-h", "/www"]\n`);
}

async function install(m: HearthManifest | Record<string, unknown>, subdomain: string): Promise<{ appId: string; task: Task; log: string }> {
  const { app, task } = await installApp(db, { manifest: m as HearthManifest, storeId: null, subdomain, domain: DOMAIN, memoryLimit: 64 * 1024 * 1024, env: {}, createdBy: null });
  appIds.push(app.id);
  const done = await tasks.finish(task.id, 300_000);
  return { appId: app.id, task: done, log: tasks.log(task.id) };
}

const pullEvents = () => imageEvents.filter((e) => e.action === "pull" && OUR_NAMES.some((n) => e.id === n || e.id.startsWith(`${n.split(":")[0]}:`)));

beforeAll(async () => {
  ensureTestImages(); // installs Debian's static busybox when missing
  if (!imagePresent(HEARTH_BASE_IMAGE)) {
    const r = spawnSync(path.join(REPO_ROOT, "setup/images/base/build.sh"), [], { encoding: "utf8", timeout: 900_000 });
    if (r.status !== 0) throw new Error(`setup/images/base/build.sh failed (${r.status ?? r.signal}):\n${r.stdout}${r.stderr}`);
  }
  for (const ref of [IMAGE, LEGACY_IMAGE, NOBASE_IMAGE, FOREIGN_IMAGE]) expect(imagePresent(ref)).toBe(false);

  mkdirSync(catalogDir, { recursive: true });
  // the catalog's own JSON says the legacy name for this one: both spellings must find it
  catalogApp("localbuild", { ...manifest(APP_ID, IMAGE), dockerImage: LEGACY_IMAGE }, HEARTH_BASE_IMAGE);
  catalogApp("nobase", manifest(NOBASE_ID, NOBASE_IMAGE), MISSING_BASE);

  events = spawn("docker", ["events", "--filter", "type=image", "--format", "{{json .}}"], { stdio: ["ignore", "pipe", "ignore"] });
  let buf = "";
  events.stdout!.on("data", (c: Buffer) => {
    buf += c.toString("utf8");
    let nl: number;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      try {
        const e = JSON.parse(line) as { Action?: string; Actor?: { ID?: string; Attributes?: Record<string, string> } };
        imageEvents.push({ action: e.Action ?? "", id: e.Actor?.Attributes?.name ?? e.Actor?.ID ?? "" });
      } catch {
        /* not an event */
      }
    }
  });
  await sleep(500);

  t = await migratedDatabase("imageslocal");
  db = t.db;
  await addDomain(db, { domain: DOMAIN, provider: "noop" });
  const real = createDocker();
  // box's own Docker client, with pulls recorded and made impossible
  const docker: DockerApi = {
    ...real,
    async pullImage(ref) {
      pullsAsked.push(ref);
      throw new Error(`test: pulling ${ref} is not allowed`);
    },
  };
  const service = new AppService({
    db,
    docker,
    vhosts: noopVhostSync,
    registries: prismaRegistryCredentials(db, undefined),
    catalogDirs: [catalogDir],
    owner: ownerOf(t.url),
    healthTimeoutMs: 30_000,
    healthIntervalMs: 200,
  });
  tasks = await startTaskRunner({ db, service, dataDir: path.join(tmpRoot, "box") });
}, 1_200_000);

afterAll(async () => {
  events?.kill();
  await tasks?.stop();
  for (const id of appIds) {
    spawnSync("docker", ["rm", "-f", containerNameOf(id)], { stdio: "ignore" });
    spawnSync("docker", ["network", "rm", networkNameOf(id)], { stdio: "ignore" });
    spawnSync("docker", ["volume", "rm", "-f", dataVolumeNameOf(id)], { stdio: "ignore" });
  }
  // only the images this run made (never the shared base)
  for (const ref of [IMAGE, LEGACY_IMAGE, NOBASE_IMAGE, FOREIGN_IMAGE]) spawnSync("docker", ["image", "rm", ref], { stdio: "ignore" });
  await t?.drop();
  rmSync(tmpRoot, { recursive: true, force: true });
}, 120_000);

describe("a missing catalog image is built locally, never pulled", () => {
  it("installs through box's task runner: built FROM the local base from the catalog folder, runs, answers", async () => {
    const r = await install(manifest(APP_ID, IMAGE), "local");
    expect(r.task.state, `${r.task.errorCode}: ${r.task.errorMessage}\n${r.log}`).toBe("succeeded");
    expect(r.log).toContain(`building ${IMAGE} from ${path.join(catalogDir, "localbuild")}`);
    expect(r.log).toContain(`image ${IMAGE}: built`);
    expect(r.log).not.toMatch(/pulling /);
    expect(pullsAsked).toEqual([]);

    // FROM the local base: the built image's layers start with the base's
    const base = inspectImage(HEARTH_BASE_IMAGE);
    const built = inspectImage(IMAGE);
    expect(built.RootFS.Layers.slice(0, base.RootFS.Layers.length)).toEqual(base.RootFS.Layers);
    expect(built.Config.Labels).toMatchObject({ "hearth.managed": "true", "hearth.manifest-id": APP_ID });

    const app = await db.app.findUniqueOrThrow({ where: { id: r.appId } });
    expect(app).toMatchObject({ installState: "installed", runState: "running", health: "healthy" });
    const c = JSON.parse(execFileSync("docker", ["inspect", containerNameOf(r.appId)], { encoding: "utf8" }))[0];
    expect(c.Image).toBe(built.Id);
    const res = await fetch(`http://127.0.0.1:${app.httpHostPort}/`);
    expect(await res.text()).toBe(`built here from ${HEARTH_BASE_IMAGE} (${RUN})\n`);

    // the event watcher saw the build tag the image (so it was listening), and no pull of ours
    await sleep(500);
    expect(
      imageEvents.some((e) => e.action === "tag" && e.id === IMAGE),
      JSON.stringify(imageEvents),
    ).toBe(true);
    expect(pullEvents()).toEqual([]);
  });

  it("an App row with the legacy bare hearth/ name runs the local image (present now: used as is, never pulled from Docker Hub)", async () => {
    const legacy = { ...manifest(APP_ID, IMAGE), dockerImage: LEGACY_IMAGE };
    const r = await install(legacy, "legacy");
    expect(r.task.state, `${r.task.errorCode}: ${r.task.errorMessage}\n${r.log}`).toBe("succeeded");
    expect(r.log).toContain(`image ${IMAGE} is present`);
    expect(pullsAsked).toEqual([]);
    expect(imagePresent(LEGACY_IMAGE)).toBe(false);
    const c = JSON.parse(execFileSync("docker", ["inspect", containerNameOf(r.appId)], { encoding: "utf8" }))[0];
    expect(c.Image).toBe(inspectImage(IMAGE).Id);
    const { task } = await queueAppTask(db, r.appId, "app.uninstall");
    expect((await tasks.finish(task.id)).state).toBe("succeeded");
  });

  it("the image removed again: a legacy-named install rebuilds it under the local name", async () => {
    // the first app runs the image: uninstall it, then remove the image
    const { task } = await queueAppTask(db, appIds[0]!, "app.uninstall");
    expect((await tasks.finish(task.id)).state).toBe("succeeded");
    execFileSync("docker", ["image", "rm", IMAGE], { stdio: "ignore" });
    expect(imagePresent(IMAGE)).toBe(false);
    const r = await install({ ...manifest(APP_ID, IMAGE), dockerImage: LEGACY_IMAGE }, "rebuilt");
    expect(r.task.state, `${r.task.errorCode}: ${r.task.errorMessage}\n${r.log}`).toBe("succeeded");
    expect(r.log).toContain(`image ${IMAGE}: built`);
    expect(pullsAsked).toEqual([]);
    expect(imagePresent(IMAGE)).toBe(true);
    expect(imagePresent(LEGACY_IMAGE)).toBe(false);
    await sleep(500);
    expect(pullEvents()).toEqual([]);
  });

  it("a catalog app whose base is missing fails with image_not_found before any build (the build would pull the base)", async () => {
    const r = await install(manifest(NOBASE_ID, NOBASE_IMAGE), "nobase");
    expect(r.task.state).toBe("failed");
    expect(r.task.errorCode).toBe("image_not_found");
    expect(r.task.errorMessage).toContain(`the base image ${MISSING_BASE} of ${NOBASE_IMAGE} is missing`);
    expect(r.log).not.toMatch(/build: Step/);
    expect(pullsAsked).toEqual([]);
    expect(imagePresent(NOBASE_IMAGE)).toBe(false);
    expect(imagePresent(MISSING_BASE)).toBe(false);
  });

  it("a registry image that cannot be pulled is never built from the catalog folder of the same id", async () => {
    const r = await install(manifest(APP_ID, FOREIGN_IMAGE), "foreign");
    expect(r.task.state).toBe("failed");
    expect(r.task.errorCode).toBe("image_not_found");
    expect(pullsAsked).toEqual([FOREIGN_IMAGE]);
    expect(r.log).not.toMatch(/build: Step/);
    expect(imagePresent(FOREIGN_IMAGE)).toBe(false);
    await sleep(500);
    expect(pullEvents()).toEqual([]);
  });

  it("the data migration renames the bare hearth/ images stored in App rows, and nothing else", async () => {
    const sql = readFileSync(path.join(REPO_ROOT, "prisma/migrations/20261203100100_hearth_image_names/migration.sql"), "utf8")
      .split("\n")
      .filter((l) => !l.startsWith("--"))
      .join("\n")
      .trim()
      .replace(/;$/, "");
    const rows: Record<string, string> = { [randomUUID()]: LEGACY_IMAGE, [randomUUID()]: "docker.io/hearth/x:1", [randomUUID()]: IMAGE, [randomUUID()]: "hearthx/y:1" };
    for (const [id, dockerImage] of Object.entries(rows)) {
      await db.app.create({
        data: {
          id,
          manifestId: APP_ID,
          manifest: { ...manifest(APP_ID, IMAGE), dockerImage } as object,
          version: "1.0.0",
          subdomain: `mig-${id.slice(0, 8)}`,
          domain: DOMAIN,
          installState: "installed",
          memoryLimit: BigInt(64 * 1024 * 1024),
          env: {},
        },
      });
    }
    await db.$executeRawUnsafe(sql);
    const after = Object.fromEntries((await db.app.findMany({ where: { id: { in: Object.keys(rows) } } })).map((r) => [r.id, (r.manifest as { dockerImage: string }).dockerImage]));
    expect(Object.values(after).sort()).toEqual([IMAGE, IMAGE, "docker.io/hearth/x:1", "hearthx/y:1"].sort());
    for (const [id, before] of Object.entries(rows)) expect(after[id]).toBe(before === LEGACY_IMAGE ? IMAGE : before);
    await db.app.deleteMany({ where: { id: { in: Object.keys(rows) } } });
  });
});
