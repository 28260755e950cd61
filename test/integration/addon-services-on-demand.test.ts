import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HearthManifestInput } from "@hearth/contracts";
import { addonsDeclaredByApps, queueAppRestore, type Db } from "@hearth/db";
import { servicesFor } from "../../apps/box/src/addons/infra";
import { LocalStorageAddon } from "../../apps/box/src/addons/localstorage";
import { MysqlAddon } from "../../apps/box/src/addons/mysql";
import { PostgresqlAddon } from "../../apps/box/src/addons/postgresql";
import { createServiceDockerExtras } from "../../apps/box/src/addons/service-docker";
import { ServiceManager } from "../../apps/box/src/addons/services";
import type { AppService, StepContext } from "../../apps/box/src/apps/apps.service";
import { createDocker } from "../../apps/box/src/docker/docker";
import { createLogger } from "../../apps/box/src/logger";
import { addonTestStack, buildServiceImages } from "../helpers/addon-stack";
import { insertPendingApp } from "../helpers/app-rows";
import type { TestDatabase } from "../helpers/db";
import { removeTestDockerObjects } from "../helpers/teardown";
import { purgeUninstalled } from "../helpers/purge";
import { ensureTestImages, testHttpdManifest } from "../helpers/test-images";

/**
 * The shared addon services run only while some app needs them (ServiceManager's `needed`,
 * wired as box wires it: the addons the App rows' manifests declare). On the real engine,
 * the real service images and a real database: no service runs with no app; the first
 * user's install starts it (two installs at once share one start); an uninstall of the last
 * user stops it with its data kept; a box start starts only what is needed; a restore
 * starts it again with the data; a purge starts it for the drop and stops it after; a
 * stop never lands under an operation that uses the service.
 */

const RUN = randomBytes(4).toString("hex");
const OWNER = `ondemand-test-${RUN}`;
const PREFIX = `hearth-t${RUN}d-`;
const DOMAIN = "on-demand-test.example";
const docker = createDocker();
const extras = createServiceDockerExtras();
const dataDir = mkdtempSync(path.join(os.tmpdir(), "hearth-ondemand-"));
const logLines: string[] = [];
const log = createLogger("info", "ondemand-test", { write: (s: string) => void logLines.push(s) });
let t: TestDatabase & { db: Db };
let db: Db;
let services: ServiceManager;
let apps: AppService;
const secretKey = randomBytes(32);
const appIds: string[] = [];

const ctx = (): StepContext => ({ taskId: randomUUID(), progress: async () => {}, log: () => {}, signal: new AbortController().signal });
const MARIADB = `${PREFIX}mariadb`;
const POSTGRESQL = `${PREFIX}postgresql`;

/** "running", "exited", … or "missing". */
function state(name: string): string {
  const r = spawnSync("docker", ["inspect", "-f", "{{.State.Status}}", name], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : "missing";
}
async function until(what: string, check: () => boolean, ms = 90_000): Promise<void> {
  const t0 = Date.now();
  while (!check()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
const rootMysql = (sql: string) => execFileSync("docker", ["exec", MARIADB, "mariadb", "--protocol=socket", "-uroot", "-N", "-B", "-e", sql], { encoding: "utf8" }).trim();
const rootPsql = (sql: string) => execFileSync("docker", ["exec", POSTGRESQL, "runuser", "-u", "postgres", "--", "psql", "-X", "-tAc", sql], { encoding: "utf8" }).trim();
const inspect = (name: string) => JSON.parse(execFileSync("docker", ["inspect", name], { encoding: "utf8" }))[0];
const dbOf = (id: string) => `app_${id.replace(/-/g, "")}`;

/** What box's services need: the addons the App rows' manifests declare. */
const needed = async () => servicesFor(await addonsDeclaredByApps(db));
function manager(): ServiceManager {
  return new ServiceManager({ docker, extras, dataDir, prefix: PREFIX, owner: OWNER, log, readyTimeoutMs: 120_000, needed });
}

async function insertApp(sub: string, addons: HearthManifestInput["addons"]): Promise<string> {
  const id = randomUUID();
  const m = testHttpdManifest("org.hearth.test.ondemand", "On demand test", { addons });
  await insertPendingApp(db, m, { id, subdomain: sub, domain: DOMAIN });
  appIds.push(id);
  return id;
}

beforeAll(async () => {
  buildServiceImages(["base", "mariadb", "postgresql"]);
  ensureTestImages();
  ({ t, db, services, apps } = await addonTestStack({
    dbName: "ondemand",
    owner: OWNER,
    prefix: PREFIX,
    dataDir,
    log,
    secretKey,
    domain: DOMAIN,
    docker,
    extras,
    services: { needed },
    startServices: false,
    settleServices: true,
    handlers: (deps) => [new MysqlAddon(deps), new PostgresqlAddon(deps), new LocalStorageAddon(deps)],
    apps: { healthTimeoutMs: 30_000, healthIntervalMs: 200 },
  }));
}, 1_800_000);

afterAll(() => removeTestDockerObjects({ owner: OWNER, appIds, dataDir, database: t }), 300_000);

describe("addon services run only while an app needs them", () => {
  let A = "";
  let B = "";

  it("with no app, box start runs no service", async () => {
    expect(await services.start()).toEqual([]);
    expect(state(MARIADB)).toBe("missing");
    expect(state(POSTGRESQL)).toBe("missing");
  });

  it("an app without mysql/postgresql starts none", async () => {
    const id = await insertApp("plain", { localstorage: {} });
    await apps.install(id, ctx());
    expect(state(MARIADB)).toBe("missing");
    expect(state(POSTGRESQL)).toBe("missing");
  }, 120_000);

  it("two installs at once that need mysql: the first user starts MariaDB once, both get their database", async () => {
    A = await insertApp("a", { mysql: {} });
    B = await insertApp("b", { mysql: {} });
    await Promise.all([apps.install(A, ctx()), apps.install(B, ctx())]);
    expect(state(MARIADB)).toBe("running");
    expect(state(POSTGRESQL)).toBe("missing");
    expect(inspect(MARIADB).RestartCount).toBe(0);
    expect(rootMysql(`SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name IN ('${dbOf(A)}', '${dbOf(B)}')`)).toBe("2");
    rootMysql(`CREATE TABLE ${dbOf(A)}.t (v VARCHAR(20)); INSERT INTO ${dbOf(A)}.t VALUES ('kept-a')`);
    expect(logLines.filter((l) => l.includes("creating the service's container") && l.includes('"addon":"mariadb"'))).toHaveLength(1);
  }, 600_000);

  it("a stopped app still counts as a user", async () => {
    await apps.stop(A, ctx());
    await apps.stop(B, ctx());
    await services.settleAll();
    expect(state(MARIADB)).toBe("running");
    await apps.start(A, ctx());
    await apps.start(B, ctx());
  }, 120_000);

  it("PostgreSQL starts with its first user and stops with its last; MariaDB is not touched", async () => {
    const C = await insertApp("c", { postgresql: {} });
    await apps.install(C, ctx());
    expect(state(POSTGRESQL)).toBe("running");
    rootPsql(`SELECT 1 FROM pg_database WHERE datname = '${dbOf(C)}'`);
    await apps.uninstall(C, ctx());
    expect(state(POSTGRESQL)).toBe("exited");
    expect(state(MARIADB)).toBe("running");
  }, 600_000);

  it("uninstalling one of two users keeps MariaDB; the last one's uninstall stops it, its data kept", async () => {
    await apps.uninstall(A, ctx());
    expect(state(MARIADB)).toBe("running");
    await apps.uninstall(B, ctx());
    expect(state(MARIADB)).toBe("exited");
    // the container and its data folder stay
    expect(inspect(MARIADB).HostConfig.RestartPolicy.Name).toBe("unless-stopped");
  }, 300_000);

  it("a box start with no user starts no service", async () => {
    const again = manager();
    expect(await again.start()).toEqual([]);
    expect(state(MARIADB)).toBe("exited");
    expect(state(POSTGRESQL)).toBe("exited");
  }, 120_000);

  it("restoring an uninstalled app starts MariaDB again with the data it had", async () => {
    await queueAppRestore(db, A, null);
    await apps.restore(A, ctx());
    expect(state(MARIADB)).toBe("running");
    expect(rootMysql(`SELECT v FROM ${dbOf(A)}.t`)).toBe("kept-a");
  }, 300_000);

  it("a box start with a user starts its service (after a reboot, say), and stops one with none", async () => {
    execFileSync("docker", ["stop", MARIADB]);
    execFileSync("docker", ["start", POSTGRESQL]);
    const again = manager();
    const up = await again.start();
    expect(up.map((e) => e.container)).toEqual([MARIADB]);
    expect(state(MARIADB)).toBe("running");
    expect(state(POSTGRESQL)).toBe("exited");
    expect(rootMysql(`SELECT v FROM ${dbOf(A)}.t`)).toBe("kept-a");
  }, 300_000);

  it("purging an uninstalled app starts the service for the drop and stops it afterwards", async () => {
    await apps.uninstall(A, ctx());
    expect(state(MARIADB)).toBe("exited");
    await db.uninstalledApp.update({ where: { id: B }, data: { state: "purging" } });
    await purgeUninstalled(db, apps, B, ctx());
    await until("MariaDB stopped after the purge", () => state(MARIADB) === "exited");
    const counts = await services.use("mariadb", async () =>
      rootMysql(`SELECT (SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = '${dbOf(B)}'), (SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = '${dbOf(A)}')`),
    );
    expect(counts).toBe("0\t1");
    await until("MariaDB stopped after the check", () => state(MARIADB) === "exited");
  }, 300_000);

  it("a stop never lands under an operation that uses the service, however they interleave", async () => {
    const query = () => services.use("mariadb", async () => rootMysql("SELECT 1"));
    const inner = services.use("mariadb", async () => {
      await services.settle("mariadb"); // no app needs it, but this operation does
      await new Promise((r) => setTimeout(r, 500));
      return rootMysql("SELECT 2");
    });
    const out = await Promise.all([query(), services.settle("mariadb"), inner, services.settle("mariadb"), query()]);
    expect(out).toEqual(["1", undefined, "2", undefined, "1"]);
    await until("MariaDB stopped when the last operation ended", () => state(MARIADB) === "exited");
  }, 300_000);
});
