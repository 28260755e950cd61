import type { HearthManifest } from "@hearth/contracts";
import type { Prisma, App, AppDomain, AppPort, Db, Registry } from "../client";

/**
 * App rows as box runs them (apps.ts is what admin records): the row a task works from, the
 * state, container and health box writes back, the host ports it claims, and the lookups the
 * reconciler, the health monitor and the proxy make. Conditional writes return whether a row
 * matched, so a caller that raced a task changes nothing.
 */
type Client = Db | Prisma.TransactionClient;

export type AppRowWithPorts = App & { ports: AppPort[] };
export type AppRowWithNames = App & { appDomains: AppDomain[] };

export async function getAppRow(db: Client, id: string): Promise<App | null> {
  return db.app.findUnique({ where: { id } });
}

export async function getAppRowWithPorts(db: Client, id: string): Promise<AppRowWithPorts | null> {
  return db.app.findUnique({ where: { id }, include: { ports: true } });
}

export async function getAppRowWithNames(db: Client, id: string): Promise<AppRowWithNames | null> {
  return db.app.findUnique({ where: { id }, include: { appDomains: true } });
}

export async function appExists(db: Client, id: string): Promise<boolean> {
  return (await db.app.count({ where: { id } })) > 0;
}

/** What the notification sweep needs of an app: is it meant to run, and its last health; null when gone. */
export async function appRunStatus(db: Client, id: string): Promise<{ meantToRun: boolean; health: App["health"] } | null> {
  const a = await db.app.findUnique({ where: { id }, select: { installState: true, runState: true, health: true } });
  return a ? { meantToRun: a.installState === "installed" && a.runState === "running", health: a.health } : null;
}

/** Every app row with its ports (the reconciler's view). */
export async function listAppRowsWithPorts(db: Client): Promise<AppRowWithPorts[]> {
  return db.app.findMany({ include: { ports: true } });
}

/** Every app that is not being uninstalled, with its extra names (what is served). */
export async function listServedAppsWithNames(db: Client): Promise<AppRowWithNames[]> {
  return db.app.findMany({ where: { installState: { not: "pending_uninstall" } }, include: { appDomains: true } });
}

/** Installed apps meant to run and published on a host port (the health monitor's round). */
export async function listRunningApps(db: Client): Promise<App[]> {
  return db.app.findMany({ where: { installState: "installed", runState: "running", httpHostPort: { not: null } } });
}

/**
 * What the proxy renders per app: published, not being uninstalled, with its aliases and
 * redirects, and what its page says (state, health, the manifest's title).
 */
export async function listProxiedApps(db: Client) {
  return db.app.findMany({
    where: { httpHostPort: { not: null }, installState: { not: "pending_uninstall" } },
    select: {
      id: true,
      subdomain: true,
      domain: true,
      httpHostPort: true,
      installState: true,
      runState: true,
      health: true,
      manifest: true,
      appDomains: { orderBy: [{ domain: "asc" }, { subdomain: "asc" }] },
    },
    orderBy: { id: "asc" },
  });
}

/** Changes the app's state columns; no-op when the row is gone. */
export async function updateAppState(db: Client, id: string, data: Prisma.AppUpdateManyMutationInput): Promise<void> {
  await db.app.updateMany({ where: { id }, data });
}

/** The manifest (and its version) on the App row. */
export async function setAppManifest(db: Client, id: string, m: HearthManifest): Promise<void> {
  await db.app.update({ where: { id }, data: { manifest: m as unknown as Prisma.InputJsonValue, version: m.version } });
}

export async function setAppContainerId(db: Client, id: string, containerId: string): Promise<void> {
  await db.app.update({ where: { id }, data: { containerId } });
}

/** Deletes the app's row (its AppPort and AppDomain rows cascade); no-op when it is gone. */
export async function deleteAppRow(db: Client, id: string): Promise<void> {
  await db.app.deleteMany({ where: { id } });
}

/**
 * Records a health check, only while the app is still installed and meant to run; false when
 * it is not. Raw SQL on purpose: Prisma's @updatedAt would move `updatedAt` on every check
 * (every app, every 10 s), and `updatedAt` is part of the apps list's fingerprint
 * (appsListVersion), so every open dashboard would re-download the list although nothing it
 * shows changed. A changed `health` still changes the fingerprint.
 */
export async function recordAppHealth(db: Client, id: string, health: App["health"], at: Date): Promise<boolean> {
  const n = await db.$executeRaw`UPDATE \`App\` SET \`health\` = ${health}, \`healthCheckedAt\` = ${at} WHERE \`id\` = ${id} AND \`installState\` = 'installed' AND \`runState\` = 'running'`;
  return n > 0;
}

/** Marks an app left in `pendingState` without a task as failed (`interrupted`); false when its state moved meanwhile. */
export async function failStalePendingApp(db: Client, id: string, pendingState: App["installState"]): Promise<boolean> {
  const r = await db.app.updateMany({
    where: { id, installState: pendingState },
    data: { installState: "error", errorCode: "interrupted", errorMessage: "the operation was interrupted and could not be finished; try again" },
  });
  return r.count > 0;
}

// ---- host ports -------------------------------------------------------------------------------

/** The app's HTTP host port; throws when the app does not exist. */
export async function appHttpHostPort(db: Client, id: string): Promise<number | null> {
  const a = await db.app.findUnique({ where: { id }, select: { httpHostPort: true } });
  if (!a) throw new Error(`app ${id} does not exist`);
  return a.httpHostPort;
}

/** Every host port taken by an app's HTTP port or a published TCP port. */
export async function usedHostPorts(db: Client): Promise<Set<number>> {
  const [apps, ports] = await Promise.all([db.app.findMany({ where: { httpHostPort: { not: null } }, select: { httpHostPort: true } }), db.appPort.findMany({ select: { hostPort: true } })]);
  return new Set([...apps.map((a) => a.httpHostPort!), ...ports.map((p) => p.hostPort)]);
}

/**
 * Gives the app `port` unless it has one: "ok", "has-one" (it had one already), or "taken"
 * (another app holds it: the unique key refused it).
 */
export async function claimHttpHostPort(db: Client, id: string, port: number): Promise<"ok" | "has-one" | "taken"> {
  try {
    const r = await db.app.updateMany({ where: { id, httpHostPort: null }, data: { httpHostPort: port } });
    return r.count === 1 ? "ok" : "has-one";
  } catch (e) {
    if ((e as { code?: string }).code === "P2002") return "taken";
    throw e;
  }
}

// ---- what else box reads about apps --------------------------------------------------------------

/** The ids of the apps that have a pending or running task. */
export async function appIdsWithActiveTasks(db: Client): Promise<Set<string>> {
  const tasks = await db.task.findMany({ where: { state: { in: ["pending", "running"] }, appId: { not: null } }, select: { appId: true } });
  return new Set(tasks.map((t) => t.appId!));
}

/** The saved credentials of the first of `servers` that has some (a registry has several names). */
export async function findRegistryByServer(db: Client, servers: readonly string[]): Promise<Registry | null> {
  return db.registry.findFirst({ where: { server: { in: [...servers] } } });
}
