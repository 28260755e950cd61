import { execFileSync } from "node:child_process";
import http from "node:http";
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HearthManifestInput } from "@hearth/contracts";
import { createTask, ensureStoreIdentity, listOrphans, type Db, type StoreIdentity } from "@hearth/db";
import { AppService, type StepContext } from "../../apps/box/src/apps/apps.service";
import { appLabels, containerNameOf, dataVolumeNameOf, networkNameOf } from "../../apps/box/src/apps/container-spec";
import { prismaRegistryCredentials } from "../../apps/box/src/apps/images";
import { streamAppLogs } from "../../apps/box/src/apps/app-logs";
import { HealthMonitor } from "../../apps/box/src/apps/monitor";
import { Reconciler } from "../../apps/box/src/apps/reconciler";
import { createDocker, type DockerApi } from "../../apps/box/src/docker/docker";
import { createLogger } from "../../apps/box/src/logger";
import { migratedDatabase, type TestDatabase } from "../helpers/db";
import { ensureTestImages, TEST_HTTPD_IMAGE } from "../helpers/test-images";
import { fetchEvents as sseFetch, type SseEvent } from "../helpers/sse";

/**
 * The reconciler and the health monitor against real Docker and MariaDB: a vanished or
 * stopped container comes back, orphaned containers and networks of this store go under the
 * pause rule (never another store's or an unlabelled object), orphaned volumes are kept and
 * reported, a stuck pending app ends in error, health changes record events, and
 * the app log stream of box's socket.
 */

const DOMAIN = "reconcile-test.example";
let OWNER: string;
let store: StoreIdentity;
let t: TestDatabase & { db: Db };
let db: Db;
let docker: DockerApi;
let service: AppService;
let syncs = 0;
const vhosts = { syncVhosts: async () => void syncs++ };
const log = createLogger("silent", "test");
const cleanup: string[] = [];
const foreign: { networks: string[]; volumes: string[] } = { networks: [], volumes: [] };

const ctx = (): StepContext => ({ taskId: randomUUID(), signal: new AbortController().signal, log: () => {}, progress: async () => {} });
const cli = (...args: string[]) =>
  execFileSync("docker", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })
    .toString()
    .trim();
const exists = (kind: "container" | "network" | "volume", name: string) => {
  try {
    cli(kind, "inspect", name);
    return true;
  } catch {
    return false;
  }
};

async function installApp(subdomain: string, over: Partial<HearthManifestInput> = {}): Promise<string> {
  const id = randomUUID();
  const m: HearthManifestInput = {
    manifestVersion: 1,
    id: "org.hearth.test.httpd",
    title: "t",
    version: "1.0.0",
    dockerImage: TEST_HTTPD_IMAGE,
    httpPort: 8080,
    healthCheckPath: "/health",
    memoryLimit: 32 * 1024 * 1024,
    ...over,
  };
  await db.app.create({
    data: { id, manifestId: m.id, manifest: m as object, version: m.version, subdomain, domain: DOMAIN, installState: "pending_install", memoryLimit: BigInt(m.memoryLimit!), env: {} },
  });
  cleanup.push(id);
  await service.install(id, ctx());
  return id;
}

beforeAll(async () => {
  ensureTestImages();
  t = await migratedDatabase("recon");
  db = t.db;
  docker = createDocker();
  await db.domain.create({ data: { domain: DOMAIN, provider: "noop" } });
  store = await ensureStoreIdentity(db);
  OWNER = store.id;
  service = new AppService({ db, docker, vhosts, registries: prismaRegistryCredentials(db, undefined), catalogDirs: [], healthTimeoutMs: 30_000, healthIntervalMs: 200, owner: OWNER });
});

afterAll(async () => {
  for (const id of cleanup) {
    await docker.removeContainer(containerNameOf(id)).catch(() => {});
    await docker.removeNetwork(networkNameOf(id)).catch(() => {});
    await docker.removeVolume(dataVolumeNameOf(id)).catch(() => {});
  }
  for (const n of foreign.networks) await docker.removeNetwork(n).catch(() => cli("network", "rm", n));
  for (const v of foreign.volumes) await docker.removeVolume(v).catch(() => cli("volume", "rm", v));
  await t?.drop();
});

describe("reconciler", () => {
  it("creates a vanished container again and starts a stopped one", async () => {
    const id = await installApp("vanish");
    const rec = new Reconciler({ db, docker, service, vhosts, log });
    cli("rm", "-f", containerNameOf(id));
    let r = await rec.run();
    expect(r.recreated).toEqual([id]);
    expect(JSON.parse(cli("inspect", containerNameOf(id)))[0].State.Running).toBe(true);
    const app = await db.app.findUniqueOrThrow({ where: { id } });
    expect(app.containerId).toBe(JSON.parse(cli("inspect", containerNameOf(id)))[0].Id);

    cli("stop", containerNameOf(id));
    r = await rec.run();
    expect(r.started).toEqual([id]);
    expect(JSON.parse(cli("inspect", containerNameOf(id)))[0].State.Running).toBe(true);

    // a stopped app's container is recreated but not started
    await service.stop(id, ctx());
    cli("rm", "-f", containerNameOf(id));
    r = await rec.run();
    expect(r.recreated).toEqual([id]);
    expect(JSON.parse(cli("inspect", containerNameOf(id)))[0].State.Running).toBe(false);
  });

  it("leaves an app with an active task alone", async () => {
    const id = await installApp("busy");
    cli("rm", "-f", containerNameOf(id));
    await createTask(db, { type: "app.configure", appId: id, args: { appId: id } });
    const r = await new Reconciler({ db, docker, service, vhosts, log }).run();
    expect(r.recreated).not.toContain(id);
    expect(exists("container", containerNameOf(id))).toBe(false);
    await db.task.deleteMany({ where: { appId: id } });
  });

  it("marks an app stuck in a pending state without a task as error (interrupted)", async () => {
    const id = await installApp("stuck");
    await db.app.update({ where: { id }, data: { installState: "pending_configure" } });
    const r = await new Reconciler({ db, docker, service, vhosts, log }).run();
    expect(r.failedStale).toEqual([id]);
    const app = await db.app.findUniqueOrThrow({ where: { id } });
    expect(app.installState).toBe("error");
    expect(app.errorCode).toBe("interrupted");
  });

  it("removes this store's orphaned containers and networks only, keeps and reports its orphaned volume, and rewrites the vhosts", async () => {
    const gone = randomUUID();
    const withTask = randomUUID();
    const otherStore = randomUUID();
    for (const [id, owner] of [
      [gone, OWNER],
      [withTask, OWNER],
      [otherStore, "some-other-store"],
    ] as const) {
      await docker.createNetwork(networkNameOf(id), appLabels(id, owner));
      await docker.createVolume(dataVolumeNameOf(id), appLabels(id, owner));
      cleanup.push(id);
    }
    // an orphan container too (made like an app's, from the test image)
    cli("create", "--name", containerNameOf(gone), "--label", "hearth.managed=true", "--label", `hearth.app=${gone}`, "--label", `hearth.owner=${OWNER}`, TEST_HTTPD_IMAGE);
    // an object Hearth did not make, with a name like ours
    const unlabelled = `hearth-app-${randomUUID()}`;
    cli("network", "create", unlabelled);
    foreign.networks.push(unlabelled);
    await createTask(db, { type: "app.install", appId: withTask, args: { appId: withTask } });

    const before = syncs;
    const rec = new Reconciler({ db, docker, service, vhosts, log, store });
    const r = await rec.run();
    expect(r.removed.containers).toEqual([containerNameOf(gone)]);
    expect(r.removed.networks).toEqual([networkNameOf(gone)]);
    expect(exists("container", containerNameOf(gone))).toBe(false);
    expect(exists("network", networkNameOf(gone))).toBe(false);
    // the data is kept and reported, never removed by box
    expect(exists("volume", dataVolumeNameOf(gone))).toBe(true);
    expect(r.orphans).toEqual([{ kind: "volume", name: dataVolumeNameOf(gone), appId: gone }]);
    expect(r.newOrphans).toEqual(r.orphans);
    expect(exists("network", networkNameOf(withTask))).toBe(true);
    expect(exists("volume", dataVolumeNameOf(withTask))).toBe(true);
    expect(exists("network", networkNameOf(otherStore))).toBe(true);
    expect(exists("volume", dataVolumeNameOf(otherStore))).toBe(true);
    expect(exists("network", unlabelled)).toBe(true);
    expect(syncs).toBe(before + 1);
    // the installed apps' objects are not orphans
    for (const id of cleanup.slice(0, 3)) if (await db.app.findUnique({ where: { id } })) expect(exists("network", networkNameOf(id))).toBe(true);

    // any number of runs: still there, reported once (one row, one event, one open notification)
    for (let i = 0; i < 3; i++) expect((await rec.run()).newOrphans).toEqual([]);
    expect(exists("volume", dataVolumeNameOf(gone))).toBe(true);
    expect((await listOrphans(db)).map((o) => [o.kind, o.name, o.appId, o.state])).toEqual([["volume", dataVolumeNameOf(gone), gone, "found"]]);
    expect(await db.event.count({ where: { action: "orphan.found", target: dataVolumeNameOf(gone) } })).toBe(1);
    const n = await db.notification.findMany({ where: { key: "orphans", dismissedAt: null } });
    expect(n).toHaveLength(1);
    expect(n[0]!.message).toContain(dataVolumeNameOf(gone));
    await db.task.deleteMany({ where: { appId: withTask } });
  });

  it("leaves containers and networks alone that are older than the store identity (pause rule)", async () => {
    const old = randomUUID();
    await docker.createNetwork(networkNameOf(old), appLabels(old, OWNER));
    cli("create", "--name", containerNameOf(old), "--label", "hearth.managed=true", "--label", `hearth.app=${old}`, "--label", `hearth.owner=${OWNER}`, TEST_HTTPD_IMAGE);
    cleanup.push(old);
    // a store identity made after these objects: they are not its to collect
    const later = { ...store, createdAt: new Date(Date.now() + 3_600_000) };
    const r = await new Reconciler({ db, docker, service, vhosts, log, store: later }).run();
    expect(r.removed).toEqual({ containers: [], networks: [] });
    expect(r.kept).toEqual(
      expect.arrayContaining([
        { name: containerNameOf(old), reason: "it is older than the store's identity" },
        { name: networkNameOf(old), reason: "it is older than the store's identity" },
      ]),
    );
    expect(exists("container", containerNameOf(old))).toBe(true);
    expect(exists("network", networkNameOf(old))).toBe(true);
    // with the real identity they are younger than it and than the oldest app: collected
    const r2 = await new Reconciler({ db, docker, service, vhosts, log, store }).run();
    expect(r2.removed.containers).toContain(containerNameOf(old));
    expect(exists("container", containerNameOf(old))).toBe(false);
  });

  it("refuses to remove an unlabelled object even when asked directly", async () => {
    const name = `hearth-app-${randomUUID()}`;
    cli("volume", "create", name);
    foreign.volumes.push(name);
    await expect(docker.removeVolume(name)).rejects.toThrow(/not labelled hearth.managed=true/);
    expect(exists("volume", name)).toBe(true);
  });
});

describe("health monitor", () => {
  it("records app.down when the app stops answering and app.up when it is back", async () => {
    const id = await installApp("health");
    const monitor = new HealthMonitor({ db, docker, log, intervalMs: 60_000 });
    expect(await monitor.checkOne(id)).toBe("healthy");

    cli("stop", containerNameOf(id));
    expect(await monitor.checkOne(id)).toBe("dead");
    expect((await db.app.findUniqueOrThrow({ where: { id } })).health).toBe("dead");
    cli("start", containerNameOf(id));
    await sleep(500);
    expect(await monitor.checkOne(id)).toBe("healthy");

    const sick = new HealthMonitor({ db, docker, log, probe: async () => 500 });
    expect(await sick.checkOne(id)).toBe("unhealthy");
    expect(await monitor.checkOne(id)).toBe("healthy");

    const events = await db.event.findMany({ where: { target: id }, orderBy: { id: "asc" } });
    expect(events.map((e) => e.action)).toEqual(["app.down", "app.up", "app.down", "app.up"]);
  });

  it("does not check stopped apps", async () => {
    const id = await installApp("stopped");
    await service.stop(id, ctx());
    const monitor = new HealthMonitor({ db, docker, log });
    expect(await monitor.checkOne(id)).toBeNull();
    expect(await db.event.count({ where: { target: id } })).toBe(0);
  });

  it("records app.oom when the kernel kills a process of an app for memory", async () => {
    const id = await installApp("oom");
    const monitor = new HealthMonitor({ db, docker, log, intervalMs: 60_000 });
    await monitor.start();
    try {
      await sleep(300);
      // grows a shell string until the 32 MiB cgroup limit is hit
      try {
        cli("exec", containerNameOf(id), "/bin/busybox", "sh", "-c", "x=aaaaaaaaaaaaaaaa; while :; do x=$x$x; done");
      } catch {
        /* killed */
      }
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline && (await db.event.count({ where: { target: id, action: "app.oom" } })) === 0) await sleep(200);
      expect(await db.event.count({ where: { target: id, action: "app.oom" } })).toBeGreaterThanOrEqual(1);
    } finally {
      await monitor.stop();
    }
  });
});

describe("app logs stream", () => {
  let server: http.Server;
  let port: number;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const url = new URL(req.url!, "http://box");
      const id = /^\/apps\/([^/]+)\/logs$/.exec(url.pathname)![1]!;
      void streamAppLogs({ docker, appExists: async (x) => (await db.app.count({ where: { id: x } })) > 0 }, req, res, id, url);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as { port: number }).port;
  });
  afterAll(
    () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  );

  const fetchEvents = (urlPath: string, until?: (events: SseEvent[]) => boolean) => sseFetch(port, urlPath, until);

  it("sends the container's output, then end", async () => {
    const id = await installApp("logs");
    const r = await fetchEvents(`/apps/${id}/logs?lines=50`);
    expect(r.status).toBe(200);
    const lines = r.events.filter((e) => e.event === "log").map((e) => e.data.line as string);
    expect(lines.some((l) => l.includes("test app starting"))).toBe(true);
    expect(r.events.at(-1)).toEqual({ event: "end", data: {} });
  });

  it("follows new lines as they come", async () => {
    const id = cleanup.at(-1)!;
    const appPort = (await db.app.findUniqueOrThrow({ where: { id } })).httpHostPort!;
    // busybox httpd -v logs one "response:<status>" line per request
    const got = fetchEvents(`/apps/${id}/logs?lines=0&follow=1`, (evs) => evs.some((e) => e.event === "log" && String(e.data.line).includes("response:404")));
    await sleep(500);
    await new Promise<void>((r) => http.get({ host: "127.0.0.1", port: appPort, path: "/no-such-page" }, (res) => res.resume().on("end", () => r())));
    const r = await Promise.race([got, sleep(15_000).then(() => null)]);
    expect(r, "no followed log line within 15 s").not.toBeNull();
    expect(r!.events.filter((e) => e.event === "log").map((e) => e.data.line)).toEqual([expect.stringContaining("response:404")]);
  });

  it("404 for an unknown app", async () => {
    const r = await fetchEvents(`/apps/${randomUUID()}/logs`);
    expect(r.status).toBe(404);
  });
});
