import { execFileSync, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { maxAppMemoryLimit, memoryLimitTooHighMessage, MIB, type HearthManifestInput } from "@hearth/contracts";
import { createTask, getTask, getUninstalledApp, queueAppRestore, type Db, type Task } from "@hearth/db";
import { AppService, type StepContext, type VhostSync } from "../../apps/box/src/apps/apps.service";
import { containerNameOf, dataVolumeNameOf, networkNameOf } from "../../apps/box/src/apps/container-spec";
import { prismaRegistryCredentials } from "../../apps/box/src/apps/images";
import { createDocker, type DockerApi } from "../../apps/box/src/docker/docker";
import { TaskError } from "../../apps/box/src/tasks/registry";
import { taskLogPath } from "../../apps/box/src/tasks/task-log";
import { insertPendingApp } from "../helpers/app-rows";
import { startTestBox, killBox, waitFor, type TestBoxProcess } from "../helpers/box-process";
import { removeTestDockerObjects } from "../helpers/teardown";
import { migratedDatabase, type TestDatabase } from "../helpers/db";
import { ensureHearthTestImage, ensureTestImages, TEST_HTTPD_HEARTH_IMAGE, TEST_HTTPD_SLOW_IMAGE, testHttpdManifest } from "../helpers/test-images";
import { purgeUninstalled, uninstallAndPurge } from "../helpers/purge";
import { appDockerObjects } from "../helpers/app-objects";

/**
 * Apps in real containers on the real Docker engine, against a real MariaDB: the install
 * pipeline and its hardening, isolation between apps, stop/start/restart, configure,
 * uninstall, failures that leave nothing behind, and a box killed with -9 mid-install.
 * Containers are reached only through their ports published on 127.0.0.1.
 */

const DOMAIN = "apps-test.example";
let t: TestDatabase & { db: Db };
let db: Db;
let docker: DockerApi;
let service: AppService;
const vhostSyncs: number[] = [];
const vhosts: VhostSync = { syncVhosts: async () => void vhostSyncs.push(Date.now()) };
const createdApps: string[] = [];
const tmpRoot = mkdtempSync(path.join(os.tmpdir(), "hearth-apps-"));
const catalogDir = path.join(tmpRoot, "catalog");
// Hearth image names of this run's own (catalog builds make only localhost/hearth/ images)
const RUN_TAG = randomUUID().slice(0, 8);
const BUILT_IMAGE = `localhost/hearth/test-built-${RUN_TAG}:1`;
const BROKEN_IMAGE = `localhost/hearth/test-broken-${RUN_TAG}:1`;
const dockerInspectImage = (ref: string) => {
  try {
    execFileSync("docker", ["image", "inspect", ref], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
};

function manifest(over: Partial<HearthManifestInput> = {}): HearthManifestInput {
  return testHttpdManifest("org.hearth.test.httpd", "Test httpd", over);
}

async function insertApp(subdomain: string, over: Partial<HearthManifestInput> = {}, extra: { env?: Record<string, string> } = {}): Promise<string> {
  const id = await insertPendingApp(db, manifest(over), { subdomain, domain: DOMAIN, env: extra.env });
  createdApps.push(id);
  return id;
}

function stepCtx(): StepContext & { lines: string[]; percents: number[] } {
  const lines: string[] = [];
  const percents: number[] = [];
  return {
    taskId: randomUUID(),
    lines,
    percents,
    signal: new AbortController().signal,
    log: (l) => void lines.push(l),
    progress: async (p, m) => {
      percents.push(p);
      lines.push(`[${p}%] ${m}`);
    },
  };
}

function get(port: number, urlPath = "/"): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port, path: urlPath }, (res) => {
        let body = "";
        res.on("data", (c: Buffer) => (body += c.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on("error", reject);
  });
}

const dockerCli = (...args: string[]) => execFileSync("docker", args, { encoding: "utf8" }).toString().trim();
function dockerInspect(kind: "container" | "network" | "volume", name: string): Record<string, any> | null {
  try {
    return JSON.parse(execFileSync("docker", [kind, "inspect", name], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).toString())[0];
  } catch {
    return null;
  }
}
/** docker exec with a result instead of a throw. */
function execIn(container: string, ...cmd: string[]): { code: number; out: string } {
  try {
    return { code: 0, out: execFileSync("docker", ["exec", container, ...cmd], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 20_000 }).toString() };
  } catch (e) {
    const err = e as { status?: number; stdout?: Buffer | string; stderr?: Buffer | string };
    return { code: err.status ?? -1, out: `${err.stdout ?? ""}${err.stderr ?? ""}` };
  }
}

beforeAll(async () => {
  ensureTestImages(4);
  ensureHearthTestImage();
  t = await migratedDatabase("apps");
  db = t.db;
  docker = createDocker();
  await docker.ping();
  await db.domain.create({ data: { domain: DOMAIN, provider: "noop", isDashboardDomain: true } });
  mkdirSync(catalogDir, { recursive: true });
  service = new AppService({
    db,
    docker,
    vhosts,
    registries: prismaRegistryCredentials(db, undefined),
    catalogDirs: [catalogDir],
    healthTimeoutMs: 30_000,
    healthIntervalMs: 200,
  });
});

afterAll(async () => {
  await removeTestDockerObjects({ appIds: createdApps });
  for (const ref of [BUILT_IMAGE, BROKEN_IMAGE]) await docker.removeImage(ref).catch(() => {});
  await t?.drop();
  rmSync(tmpRoot, { recursive: true, force: true });
});

describe("app.install", () => {
  let appId: string;

  beforeAll(async () => {
    appId = await insertApp("one", {}, { env: { GREETING: "hello" } });
    const ctx = stepCtx();
    const syncsBefore = vhostSyncs.length;
    const r = await service.install(appId, ctx);
    expect(r.containerId).toMatch(/^[0-9a-f]{64}$/);
    expect(vhostSyncs.length).toBe(syncsBefore + 1);
    expect(ctx.percents.at(-1)).toBe(100);
    // the pipeline's own progress never goes backwards (the runner's writer guards it too)
    expect(
      ctx.percents.every((p, i) => i === 0 || p >= ctx.percents[i - 1]!),
      ctx.percents.join(" "),
    ).toBe(true);
  });

  it("records the installed app on its row", async () => {
    const app = await db.app.findUniqueOrThrow({ where: { id: appId } });
    expect(app.installState).toBe("installed");
    expect(app.runState).toBe("running");
    expect(app.health).toBe("healthy");
    expect(app.httpHostPort).toBeGreaterThanOrEqual(20000);
    expect(app.httpHostPort).toBeLessThanOrEqual(29999);
    const c = dockerInspect("container", containerNameOf(appId))!;
    expect(app.containerId).toBe(c.Id);
    expect(app.errorCode).toBeNull();
  });

  it("runs the container with exactly the hardening", () => {
    const c = dockerInspect("container", containerNameOf(appId))!;
    const h = c.HostConfig;
    expect(c.State.Running).toBe(true);
    expect(c.Config.Labels).toMatchObject({ "hearth.managed": "true", "hearth.app": appId, "hearth.manifest": "org.hearth.test.httpd@1.0.0" });
    expect(h.ReadonlyRootfs).toBe(true);
    expect(h.CapDrop).toEqual(["ALL"]);
    expect([...h.CapAdd].sort()).toEqual(["CHOWN", "DAC_OVERRIDE", "FOWNER", "KILL", "NET_BIND_SERVICE", "SETGID", "SETUID"]);
    expect(h.SecurityOpt).toEqual(["no-new-privileges:true"]);
    expect(h.Privileged).toBe(false);
    expect(h.Memory).toBe(64 * 1024 * 1024);
    expect(h.MemorySwap).toBe(64 * 1024 * 1024);
    expect(h.PidsLimit).toBe(256);
    expect(Object.keys(h.Tmpfs).sort()).toEqual(["/run", "/tmp"]);
    expect(h.RestartPolicy.Name).toBe("unless-stopped");
    expect(h.NetworkMode).toBe(networkNameOf(appId));
    expect(Object.keys(c.NetworkSettings.Networks)).toEqual([networkNameOf(appId)]);
    expect(c.Mounts).toEqual([expect.objectContaining({ Type: "volume", Name: dataVolumeNameOf(appId), Destination: "/app/data", RW: true })]);
  });

  it("publishes the HTTP port on 127.0.0.1 only, and answers there", async () => {
    const app = await db.app.findUniqueOrThrow({ where: { id: appId } });
    const c = dockerInspect("container", containerNameOf(appId))!;
    expect(c.NetworkSettings.Ports["8080/tcp"]).toEqual([{ HostIp: "127.0.0.1", HostPort: String(app.httpHostPort) }]);
    const r = await get(app.httpHostPort!);
    expect(r.status).toBe(200);
    expect(r.body).toContain("hello from hearth test app");
  });

  it("has a read-only root, a writable /app/data and /tmp", () => {
    const name = containerNameOf(appId);
    expect(execIn(name, "/bin/busybox", "touch", "/www/x").code).not.toBe(0);
    expect(execIn(name, "/bin/busybox", "touch", "/app/data/x").code).toBe(0);
    expect(execIn(name, "/bin/busybox", "touch", "/tmp/x").code).toBe(0);
    expect(execIn(name, "/bin/busybox", "touch", "/run/x").code).toBe(0);
  });

  it("injects Hearth's variables and the admin's env", () => {
    const env = execIn(containerNameOf(appId), "/bin/busybox", "env").out;
    expect(env).toContain(`HEARTH_APP_ORIGIN=https://one.${DOMAIN}`);
    expect(env).toContain(`HEARTH_APP_DOMAIN=one.${DOMAIN}`);
    expect(env).toContain("GREETING=hello");
  });

  it("labels its network and volume", () => {
    expect(dockerInspect("network", networkNameOf(appId))!.Labels).toMatchObject({ "hearth.managed": "true", "hearth.app": appId });
    expect(dockerInspect("volume", dataVolumeNameOf(appId))!.Labels).toMatchObject({ "hearth.managed": "true", "hearth.app": appId });
  });

  it("is idempotent: running the install again keeps one container, network and volume and the same port", async () => {
    const before = await db.app.findUniqueOrThrow({ where: { id: appId } });
    await service.install(appId, stepCtx());
    const after = await db.app.findUniqueOrThrow({ where: { id: appId } });
    expect(after.httpHostPort).toBe(before.httpHostPort);
    expect(after.containerId).not.toBe(before.containerId); // recreated, not duplicated
    const o = appDockerObjects(appId);
    expect(o.containers).toHaveLength(1);
    expect(o.networks).toHaveLength(1);
    expect(o.volumes).toHaveLength(1);
    expect((await get(after.httpHostPort!, "/health")).status).toBe(200);
  });

  it("keeps data in /app/data across a recreate", async () => {
    const name = containerNameOf(appId);
    expect(execIn(name, "/bin/busybox", "sh", "-c", "echo kept > /app/data/marker").code).toBe(0);
    await service.configure(appId, stepCtx());
    expect(execIn(name, "/bin/busybox", "cat", "/app/data/marker").out.trim()).toBe("kept");
  });
});

describe("isolation between apps", () => {
  it("app A cannot open a connection to app B, by name or by IP", async () => {
    const a = await insertApp("alpha");
    const b = await insertApp("beta");
    await service.install(a, stepCtx());
    await service.install(b, stepCtx());
    const bInfo = dockerInspect("container", containerNameOf(b))!;
    const bIp: string = bInfo.NetworkSettings.Networks[networkNameOf(b)].IPAddress;
    const aInfo = dockerInspect("container", containerNameOf(a))!;
    const aIp: string = aInfo.NetworkSettings.Networks[networkNameOf(a)].IPAddress;
    expect(bIp).toMatch(/^\d+\.\d+\.\d+\.\d+$/);

    // busybox's `wget -T` crashes in the static build; nc with a hand-written request instead
    const fetchFrom = (container: string, host: string) => execIn(container, "/bin/busybox", "sh", "-c", `printf 'GET /health HTTP/1.0\\r\\n\\r\\n' | /bin/busybox nc -w 3 ${host} 8080`);

    // controls: A reaches itself by IP and by its container name (the network's DNS works)
    const self = fetchFrom(containerNameOf(a), aIp);
    expect(self.out).toContain("200 OK");
    const selfByName = fetchFrom(containerNameOf(a), containerNameOf(a));
    expect(selfByName.out).toContain("200 OK");
    // and B is up: it answers from inside itself
    expect(fetchFrom(containerNameOf(b), bIp).out).toContain("200 OK");

    const byIp = fetchFrom(containerNameOf(a), bIp);
    expect(byIp.out).not.toContain("200 OK");
    const byName = fetchFrom(containerNameOf(a), containerNameOf(b));
    expect(byName.out).not.toContain("200 OK");
    // the host's published port for B is on 127.0.0.1, which inside A is A's own loopback
    const bPort = (await db.app.findUniqueOrThrow({ where: { id: b } })).httpHostPort!;
    const viaHostPort = execIn(containerNameOf(a), "/bin/busybox", "sh", "-c", `printf 'GET /health HTTP/1.0\\r\\n\\r\\n' | /bin/busybox nc -w 3 127.0.0.1 ${bPort}`);
    expect(viaHostPort.out).not.toContain("200 OK");
    const gateway: string = aInfo.NetworkSettings.Networks[networkNameOf(a)].Gateway;
    const viaGateway = execIn(containerNameOf(a), "/bin/busybox", "sh", "-c", `printf 'GET /health HTTP/1.0\\r\\n\\r\\n' | /bin/busybox nc -w 3 ${gateway} ${bPort}`);
    expect(viaGateway.out).not.toContain("200 OK");

    await uninstallAndPurge(db, service, a, stepCtx());
    await uninstallAndPurge(db, service, b, stepCtx());
  });
});

describe("stop, start, restart, configure", () => {
  let appId: string;
  beforeAll(async () => {
    appId = await insertApp("cycle");
    await service.install(appId, stepCtx());
  });

  it("stops and starts the container and records runState", async () => {
    const port = (await db.app.findUniqueOrThrow({ where: { id: appId } })).httpHostPort!;
    await service.stop(appId, stepCtx());
    let app = await db.app.findUniqueOrThrow({ where: { id: appId } });
    expect(app.runState).toBe("stopped");
    expect(app.installState).toBe("installed");
    expect(dockerInspect("container", containerNameOf(appId))!.State.Running).toBe(false);
    await expect(get(port, "/health")).rejects.toThrow();

    await service.start(appId, stepCtx());
    app = await db.app.findUniqueOrThrow({ where: { id: appId } });
    expect(app.runState).toBe("running");
    expect(app.health).toBe("healthy");
    expect((await get(port, "/health")).status).toBe(200);
  });

  it("restarts the container", async () => {
    const before = dockerInspect("container", containerNameOf(appId))!;
    await service.restart(appId, stepCtx());
    const after = dockerInspect("container", containerNameOf(appId))!;
    expect(after.Id).toBe(before.Id);
    expect(after.State.StartedAt).not.toBe(before.State.StartedAt);
    expect(after.State.Running).toBe(true);
  });

  it("starts a stopped app whose container vanished by creating it again", async () => {
    await service.stop(appId, stepCtx());
    execFileSync("docker", ["rm", "-f", containerNameOf(appId)]);
    await service.start(appId, stepCtx());
    expect(dockerInspect("container", containerNameOf(appId))!.State.Running).toBe(true);
    expect(appDockerObjects(appId).containers).toHaveLength(1);
  });

  it("configure recreates the container with the new memory limit, env and location", async () => {
    await db.app.update({
      where: { id: appId },
      data: { memoryLimit: BigInt(96 * 1024 * 1024), env: { COLOR: "blue", HEARTH_APP_DOMAIN: "evil.example" }, subdomain: "cycle2", installState: "pending_configure" },
    });
    const syncs = vhostSyncs.length;
    await service.configure(appId, stepCtx());
    const c = dockerInspect("container", containerNameOf(appId))!;
    expect(c.HostConfig.Memory).toBe(96 * 1024 * 1024);
    expect(c.HostConfig.MemorySwap).toBe(96 * 1024 * 1024);
    const env = execIn(containerNameOf(appId), "/bin/busybox", "env").out;
    expect(env).toContain("COLOR=blue");
    expect(env).toContain(`HEARTH_APP_DOMAIN=cycle2.${DOMAIN}`);
    expect(env).not.toContain("evil.example");
    expect(vhostSyncs.length).toBe(syncs + 1);
    const app = await db.app.findUniqueOrThrow({ where: { id: appId } });
    expect(app.installState).toBe("installed");
    expect(app.containerId).toBe(c.Id);
  });

  it("configure refuses a memory limit above what the server can give before it touches the container", async () => {
    const max = maxAppMemoryLimit(os.totalmem());
    const before = dockerInspect("container", containerNameOf(appId))!;
    await db.app.update({ where: { id: appId }, data: { memoryLimit: BigInt(max + MIB), installState: "pending_configure" } });
    const err = await service.configure(appId, stepCtx()).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TaskError);
    expect((err as TaskError).code).toBe("memory_limit_too_high");
    expect((err as TaskError).message).toContain(`at most ${max / MIB} MiB`);
    const after = dockerInspect("container", containerNameOf(appId))!;
    expect(after.Id).toBe(before.Id);
    expect(after.State.Running).toBe(true);
    expect(after.HostConfig.Memory).toBe(96 * 1024 * 1024);
    const app = await db.app.findUniqueOrThrow({ where: { id: appId } });
    expect(app).toMatchObject({ installState: "error", errorCode: "memory_limit_too_high" });
    await db.app.update({ where: { id: appId }, data: { memoryLimit: BigInt(96 * 1024 * 1024), installState: "installed", errorCode: null, errorMessage: null, errorTaskId: null } });
  });

  it("configure of an app whose container already has a limit above today's maximum (a server given less memory) goes on while the limit stays; changing it is refused", async () => {
    // a server of 600 MiB: at most 88 MiB for an app, and this app's container has 96 MiB
    const smaller = new AppService({
      db,
      docker,
      vhosts,
      registries: prismaRegistryCredentials(db, undefined),
      catalogDirs: [catalogDir],
      healthTimeoutMs: 30_000,
      healthIntervalMs: 200,
      memoryBytes: () => 600 * MIB,
    });
    expect(dockerInspect("container", containerNameOf(appId))!.HostConfig.Memory).toBe(96 * MIB);
    await smaller.configure(appId, stepCtx());
    expect((await db.app.findUniqueOrThrow({ where: { id: appId } })).installState).toBe("installed");
    await db.app.update({ where: { id: appId }, data: { memoryLimit: BigInt(100 * MIB) } });
    const err = await smaller.configure(appId, stepCtx()).then(
      () => null,
      (e: unknown) => e,
    );
    expect((err as TaskError).code).toBe("memory_limit_too_high");
    expect(dockerInspect("container", containerNameOf(appId))!.HostConfig.Memory).toBe(96 * MIB);
    await db.app.update({ where: { id: appId }, data: { memoryLimit: BigInt(96 * MIB), installState: "installed", errorCode: null, errorMessage: null, errorTaskId: null } });
  });

  it("configure keeps a stopped app stopped", async () => {
    await service.stop(appId, stepCtx());
    await service.configure(appId, stepCtx());
    expect(dockerInspect("container", containerNameOf(appId))!.State.Running).toBe(false);
    await service.start(appId, stepCtx());
  });

  it("publishes an enabled TCP port on the host and tells the app", async () => {
    await db.app.update({
      where: { id: appId },
      data: { manifest: manifest({ tcpPorts: { ECHO_PORT: { title: "echo", containerPort: 8080, defaultValue: 2000 } }, httpPort: 8080 }) as object },
    });
    // a TCP port on the HTTP port is refused; use a distinct container port
    await db.app.update({
      where: { id: appId },
      data: { manifest: manifest({ tcpPorts: { ECHO_PORT: { title: "echo", containerPort: 9000, defaultValue: 2000 } } }) as object },
    });
    const hostPort = 30000 + Math.floor(Math.random() * 5000);
    await db.appPort.create({ data: { appId, envName: "ECHO_PORT", hostPort, containerPort: 9000 } });
    await service.configure(appId, stepCtx());
    const c = dockerInspect("container", containerNameOf(appId))!;
    expect(c.HostConfig.PortBindings["9000/tcp"]).toEqual([{ HostIp: "0.0.0.0", HostPort: String(hostPort) }]);
    expect(execIn(containerNameOf(appId), "/bin/busybox", "env").out).toContain(`ECHO_PORT=${hostPort}`);
    await db.appPort.deleteMany({ where: { appId } });
    await service.configure(appId, stepCtx());
  });

  it("configure refuses a TCP host port another program listens on, and keeps the container it had", async () => {
    const other = net.createServer();
    await new Promise<void>((r) => other.listen(0, "0.0.0.0", r));
    const hostPort = (other.address() as net.AddressInfo).port;
    try {
      const before = dockerInspect("container", containerNameOf(appId))!;
      await db.app.update({
        where: { id: appId },
        data: { manifest: manifest({ tcpPorts: { ECHO_PORT: { title: "echo", containerPort: 9000, defaultValue: 2000 } } }) as object },
      });
      await db.appPort.create({ data: { appId, envName: "ECHO_PORT", hostPort, containerPort: 9000 } });
      const err = await service.configure(appId, stepCtx()).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(TaskError);
      expect((err as TaskError).code).toBe("conflict");
      expect((err as TaskError).message).toContain(`host port ${hostPort} is already in use on this server (ECHO_PORT → ${hostPort})`);
      const after = dockerInspect("container", containerNameOf(appId))!;
      expect(after.Id).toBe(before.Id);
      expect(after.State.Running).toBe(true);
    } finally {
      await new Promise<void>((r) => other.close(() => r()));
      await db.appPort.deleteMany({ where: { appId } });
    }
    await service.configure(appId, stepCtx());
    expect((await db.app.findUniqueOrThrow({ where: { id: appId } })).installState).toBe("installed");
  });

  it("uninstall removes the container, network and the row but keeps the volume; purge removes it", async () => {
    const syncs = vhostSyncs.length;
    await service.uninstall(appId, stepCtx());
    expect(await db.app.findUnique({ where: { id: appId } })).toBeNull();
    expect(appDockerObjects(appId)).toEqual({ containers: [], networks: [], volumes: [expect.any(String)] });
    expect((await getUninstalledApp(db, appId))?.state).toBe("kept");
    expect(dockerInspect("container", containerNameOf(appId))).toBeNull();
    expect(vhostSyncs.length).toBe(syncs + 1);
    // again: nothing to do, no error, the data still kept
    await service.uninstall(appId, stepCtx());
    expect(appDockerObjects(appId).volumes).toHaveLength(1);
    // purge refuses a record nobody marked for deletion
    await expect(service.purge(appId, stepCtx())).rejects.toThrow(/not marked for deletion/);
    await purgeUninstalled(db, service, appId, stepCtx());
    expect(appDockerObjects(appId)).toEqual({ containers: [], networks: [], volumes: [] });
    expect(await getUninstalledApp(db, appId)).toBeNull();
  });
});

describe("failures leave nothing behind", () => {
  async function expectFailed(appId: string, code: string) {
    const ctx = stepCtx();
    const err = await service.install(appId, ctx).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TaskError);
    expect((err as TaskError).code).toBe(code);
    const app = await db.app.findUniqueOrThrow({ where: { id: appId } });
    expect(app.installState).toBe("error");
    expect(app.errorCode).toBe(code);
    expect(app.errorTaskId).toBe(ctx.taskId);
    expect(app.errorMessage).toBeTruthy();
    expect(appDockerObjects(appId)).toEqual({ containers: [], networks: [], volumes: [] });
    return { ctx, err: err as TaskError };
  }

  it("memory_limit_too_high when the row asks for more than the server can give: nothing is made", async () => {
    const max = maxAppMemoryLimit(os.totalmem());
    const id = await insertApp("toobig");
    await db.app.update({ where: { id }, data: { memoryLimit: BigInt(max + MIB) } });
    const { err, ctx } = await expectFailed(id, "memory_limit_too_high");
    expect(err.message).toBe(memoryLimitTooHighMessage(max + MIB, os.totalmem()));
    expect(ctx.lines.some((l) => /creating the (network|volume|container)/.test(l))).toBe(false);
  });

  it("image_not_found when the image is nowhere", async () => {
    const id = await insertApp("missing", { id: "org.hearth.test.missing", dockerImage: "hearth-test/does-not-exist:1" });
    const { err } = await expectFailed(id, "image_not_found");
    expect(err.message).toContain("hearth-test/does-not-exist:1");
  });

  it("builds a missing Hearth image from the catalog's context, never pulling it", async () => {
    const dir = path.join(catalogDir, "built");
    mkdirSync(dir, { recursive: true });
    const m = manifest({ id: "org.hearth.test.built", dockerImage: BUILT_IMAGE });
    writeFileSync(path.join(dir, "HearthManifest.json"), JSON.stringify(m));
    writeFileSync(path.join(dir, "index.html"), "built from the catalog\n");
    writeFileSync(path.join(dir, "Dockerfile"), `FROM ${TEST_HTTPD_HEARTH_IMAGE}\nCOPY index.html /www/index.html\n`);
    // an earlier run stopped half way may have left the image: it must really be built here
    execFileSync("docker", ["image", "rm", "-f", BUILT_IMAGE], { stdio: "ignore" });
    const id = await insertApp("built", { id: "org.hearth.test.built", dockerImage: BUILT_IMAGE });
    const ctx = stepCtx();
    await service.install(id, ctx);
    expect(ctx.lines.some((l) => l.startsWith("build: "))).toBe(true);
    expect(ctx.lines.some((l) => l.startsWith("pulling "))).toBe(false);
    const app = await db.app.findUniqueOrThrow({ where: { id } });
    expect((await get(app.httpHostPort!)).body).toContain("built from the catalog");
    await uninstallAndPurge(db, service, id, stepCtx());
  });

  it("a registry image that cannot be pulled is never built from the catalog under its name", async () => {
    // the catalog has a folder for this id (the one above); the manifest names another image
    const foreign = "hearth-test/built-foreign:1";
    const id = await insertApp("foreign", { id: "org.hearth.test.built", dockerImage: foreign });
    const { ctx, err } = await expectFailed(id, "image_not_found");
    expect(err.message).toContain(foreign);
    expect(ctx.lines.some((l) => l.startsWith("build: "))).toBe(false);
    expect(dockerInspectImage(foreign)).toBe(false);
  });

  it("build_failed with the build's output in the task log", async () => {
    const dir = path.join(catalogDir, "broken");
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, "HearthManifest.json"), JSON.stringify(manifest({ id: "org.hearth.test.broken", dockerImage: BROKEN_IMAGE })));
    writeFileSync(path.join(dir, "Dockerfile"), `FROM ${TEST_HTTPD_HEARTH_IMAGE}\nRUN /bin/busybox echo about-to-fail && /bin/busybox false\n`);
    const id = await insertApp("broken", { id: "org.hearth.test.broken", dockerImage: BROKEN_IMAGE });
    const { ctx } = await expectFailed(id, "build_failed");
    expect(ctx.lines.join("\n")).toContain("about-to-fail");
    expect(dockerCli("ps", "-a", "-q", "--filter", `ancestor=${BROKEN_IMAGE}`)).toBe("");
  });

  it("an app that never gets healthy fails and is removed", async () => {
    const quick = new AppService({ db, docker, vhosts, registries: prismaRegistryCredentials(db, undefined), catalogDirs: [], healthTimeoutMs: 2_000, healthIntervalMs: 200 });
    const id = await insertApp("sick", { healthCheckPath: "/no-such-page" });
    const ctx = stepCtx();
    await expect(quick.install(id, ctx)).rejects.toThrow(/did not answer \/no-such-page/);
    const app = await db.app.findUniqueOrThrow({ where: { id } });
    expect(app.installState).toBe("error");
    expect(app.errorCode).toBe("task_failed");
    expect(appDockerObjects(id)).toEqual({ containers: [], networks: [], volumes: [] });
  });
});

describe("the install pipeline's order", () => {
  it("syncs the vhost once the container has started, beside the health wait (not before the start, not after the app answers)", async () => {
    const ctx = stepCtx();
    let id = "";
    const seen: { running: boolean; answeredYet: boolean }[] = [];
    // the app's vhost sends traffic to its port: what the container was doing at that moment
    const watching: VhostSync = {
      syncVhosts: async () => {
        const c = await docker.inspectContainer(containerNameOf(id));
        seen.push({ running: c?.running === true, answeredYet: ctx.lines.some((l) => l.startsWith("health check ")) });
      },
    };
    const svc = new AppService({ db, docker, vhosts: watching, registries: prismaRegistryCredentials(db, undefined), catalogDirs: [], healthTimeoutMs: 30_000, healthIntervalMs: 200 });
    // the slow image answers only 4 s after its start (ensureTestImages(4) above)
    id = await insertApp("order", { dockerImage: TEST_HTTPD_SLOW_IMAGE, id: "org.hearth.test.slow" });
    await svc.install(id, ctx);
    expect(seen).toEqual([{ running: true, answeredYet: false }]);
    const at = (prefix: string) => ctx.lines.findIndex((l) => l.includes(prefix));
    expect(at("created the network")).toBeGreaterThan(-1);
    expect(at("created the network")).toBeLessThan(at("created the container"));
    expect(at("starting the container")).toBeLessThan(at("health check /health: 200"));
    await uninstallAndPurge(db, svc, id, stepCtx());
    expect(appDockerObjects(id)).toEqual({ containers: [], networks: [], volumes: [] });
  });
});

describe("box killed with -9 in the middle of a task", () => {
  let box: ChildProcess | null = null;
  const dataDir = path.join(tmpRoot, "box-data");

  function startBox(extraEnv: Record<string, string> = {}): TestBoxProcess {
    const b = startTestBox({ databaseUrl: t.url, dataDir, boxId: "apps-kill-test", env: extraEnv });
    box = b.child;
    return b;
  }
  const readLog = (taskId: string) => {
    try {
      return readFileSync(taskLogPath(dataDir, taskId), "utf8");
    } catch {
      return "";
    }
  };

  /** Runs `type` in a box that pauses 1 s after each step, kills it -9 in the pause after `marker`, lets a new box finish. */
  async function killDuring(type: string, appId: string, marker: string, queued?: Task) {
    mkdirSync(dataDir, { recursive: true });
    const task = queued ?? (await createTask(db, { type, appId, args: { appId } }));
    const first = startBox({ HEARTH_TEST_APP_STEP_DELAY_MS: "1000" });
    await first.ready;
    await waitFor(`"${marker}" in the task log`, () => readLog(task.id).includes(marker), 60_000);
    await killBox(first.child);
    const mid = await getTask(db, task.id);
    expect(mid!.state).toBe("running");

    const second = startBox();
    await second.ready;
    const done = await waitFor(
      "the task to finish",
      async () => {
        const tk = await getTask(db, task.id);
        return tk && (tk.state === "succeeded" || tk.state === "failed") ? tk : null;
      },
      90_000,
    );
    expect(done.state, `${done.errorCode}: ${done.errorMessage}\n${readLog(task.id)}`).toBe("succeeded");
    expect(done.attempts).toBe(2);
    await killBox(second.child);
    box = null;
    return done;
  }

  async function expectInstalledOnce(appId: string) {
    const app = await db.app.findUniqueOrThrow({ where: { id: appId } });
    expect(app.installState).toBe("installed");
    expect(app.runState).toBe("running");
    const o = appDockerObjects(appId);
    expect(o.containers).toHaveLength(1);
    expect(o.networks).toHaveLength(1);
    expect(o.volumes).toHaveLength(1);
    expect(app.containerId).toBe(dockerInspect("container", containerNameOf(appId))!.Id);
    expect((await get(app.httpHostPort!, "/health")).status).toBe(200);
    return app;
  }

  afterAll(async () => {
    if (box) await killBox(box);
  });

  for (const marker of ["allocating a host port", "getting the image", "creating the container", "starting the container", "waiting for the app to answer", "configuring the reverse proxy"]) {
    it(`install ends installed with exactly one container, network and volume (killed at "${marker}")`, async () => {
      const appId = await insertApp(`ki-${marker.split(" ")[0]}-${marker.split(" ").at(-1)}`.slice(0, 40), { dockerImage: TEST_HTTPD_SLOW_IMAGE, id: "org.hearth.test.slow" });
      await killDuring("app.install", appId, marker);
      await expectInstalledOnce(appId);
    });
  }

  for (const marker of ["creating the container", "starting the container"]) {
    it(`configure ends configured with one container (killed at "${marker}")`, async () => {
      const appId = await insertApp(`kc-${marker.split(" ")[0]}`);
      await service.install(appId, stepCtx());
      await db.app.update({ where: { id: appId }, data: { installState: "pending_configure", memoryLimit: BigInt(80 * 1024 * 1024), env: { AFTER: "kill" } } });
      await killDuring("app.configure", appId, marker);
      await expectInstalledOnce(appId);
      const c = dockerInspect("container", containerNameOf(appId))!;
      expect(c.HostConfig.Memory).toBe(80 * 1024 * 1024);
      expect(execIn(containerNameOf(appId), "/bin/busybox", "env").out).toContain("AFTER=kill");
    });
  }

  for (const marker of ["removing the container", "removing the network", "keeping the app's data"]) {
    it(`uninstall ends with the row moved aside and only the volume left (killed at "${marker}")`, async () => {
      const appId = await insertApp(`ku-${marker.split(" ").at(-1)!.replace(/\W/g, "")}`);
      await service.install(appId, stepCtx());
      await db.app.update({ where: { id: appId }, data: { installState: "pending_uninstall" } });
      await killDuring("app.uninstall", appId, marker);
      expect(await db.app.findUnique({ where: { id: appId } })).toBeNull();
      expect((await getUninstalledApp(db, appId))?.state).toBe("kept");
      expect(appDockerObjects(appId)).toEqual({ containers: [], networks: [], volumes: [expect.any(String)] });
    });
  }

  for (const marker of ["removing what is left", "deleting the data volume"]) {
    it(`purge leaves nothing (killed at "${marker}")`, async () => {
      const appId = await insertApp(`kp-${marker.split(" ").at(-1)!.replace(/\W/g, "")}`);
      await service.install(appId, stepCtx());
      await service.uninstall(appId, stepCtx());
      await db.uninstalledApp.update({ where: { id: appId }, data: { state: "purging" } });
      await killDuring("app.purge", appId, marker);
      expect(await getUninstalledApp(db, appId)).toBeNull();
      expect(appDockerObjects(appId)).toEqual({ containers: [], networks: [], volumes: [] });
    });
  }

  for (const marker of ["creating the container", "waiting for the app to answer"]) {
    it(`restore ends installed with its kept data (killed at "${marker}")`, async () => {
      const appId = await insertApp(`kr-${marker.split(" ").at(-1)!.replace(/\W/g, "")}`, { dockerImage: TEST_HTTPD_SLOW_IMAGE, id: "org.hearth.test.slow" });
      await service.install(appId, stepCtx());
      execIn(containerNameOf(appId), "/bin/busybox", "sh", "-c", "echo before-uninstall > /app/data/kept.txt");
      await service.uninstall(appId, stepCtx());
      const { task } = await queueAppRestore(db, appId, null);
      await killDuring("app.restore", appId, marker, task);
      await expectInstalledOnce(appId);
      expect(execIn(containerNameOf(appId), "/bin/busybox", "cat", "/app/data/kept.txt").out.trim()).toBe("before-uninstall");
    });
  }
});
