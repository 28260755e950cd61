import { randomUUID } from "node:crypto";
import { HearthError, type HearthManifest } from "@hearth/contracts";
import type { Db, Task, UninstalledApp } from "../client";
import { Prisma } from "../client";
import { checkPlacement } from "./apps";
import { getSetting } from "./settings";
import { createTask } from "./tasks";

/**
 * Uninstalled apps whose data is kept (see README "Uninstall keeps the data"). box's
 * app.uninstall removes the container, network, vhost and DNS records, then moves the App
 * row here in one transaction (`moveAppToUninstalled`): the row's snapshot keeps the
 * manifest, config, ports, extra names, sealed addon credentials and the sealed first admin
 * password (AppCredential); the volume, databases
 * and Redis data stay where they are. The subdomain is free again.
 *
 * - restore (`queueAppRestore`): the App row comes back from the snapshot (409 when a name or
 *   host port has been taken since) in `pending_restore` with an `app.restore` task;
 * - delete now (`queueAppPurge`, the typed name) and expiry (`queueExpiredPurges`, daily):
 *   state `purging` and an `app.purge` task that deletes the data, then this row.
 */
type Client = Db | Prisma.TransactionClient;

export const UNINSTALL_RETENTION_KEY = "apps.uninstallRetentionDays";
export const DEFAULT_UNINSTALL_RETENTION_DAYS = 7;

export interface UninstalledSnapshot {
  version: 1;
  app: {
    manifestId: string;
    storeId: string | null;
    manifest: unknown;
    version: string;
    subdomain: string;
    domain: string;
    runState: "running" | "stopped";
    memoryLimit: string;
    env: unknown;
    createdAt: string;
  };
  ports: { envName: string; hostPort: number; containerPort: number }[];
  appDomains: { subdomain: string; domain: string; type: "alias" | "redirect" }[];
  /** sealed as they were on the AppAddon rows */
  addons: { name: string; credentialsEnc: string | null }[];
  /**
   * the app's first admin account (AppCredential) as it was kept: the password still sealed,
   * never opened here; absent in snapshots made before it was kept, or when there was none
   */
  credential?: { username: string; passwordEnc: string; createdAt: string };
}

export const fqdnOfUninstalled = (u: { subdomain: string; domain: string }) => (u.subdomain ? `${u.subdomain}.${u.domain}` : u.domain);

export async function uninstallRetentionDays(db: Client): Promise<number> {
  const v = await getSetting(db, UNINSTALL_RETENTION_KEY);
  return typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 3650 ? v : DEFAULT_UNINSTALL_RETENTION_DAYS;
}

export async function listUninstalledApps(db: Client): Promise<UninstalledApp[]> {
  return db.uninstalledApp.findMany({ orderBy: [{ uninstalledAt: "desc" }, { id: "asc" }] });
}

export async function getUninstalledApp(db: Client, id: string): Promise<UninstalledApp | null> {
  return db.uninstalledApp.findUnique({ where: { id } });
}

export const snapshotOf = (u: UninstalledApp): UninstalledSnapshot => u.snapshot as unknown as UninstalledSnapshot;

/**
 * The App row (with ports, names and addon rows) becomes an UninstalledApp row kept until
 * now + the retention setting. Idempotent: when the App row is already gone, returns the
 * existing record (null when there is neither).
 */
export async function moveAppToUninstalled(db: Db, appId: string, now = new Date()): Promise<UninstalledApp | null> {
  return db.$transaction(async (tx) => {
    const app = await tx.app.findUnique({ where: { id: appId }, include: { ports: true, appDomains: true, addons: true, credential: true } });
    if (!app) return tx.uninstalledApp.findUnique({ where: { id: appId } });
    const days = await uninstallRetentionDays(tx);
    const m = app.manifest as unknown as Partial<HearthManifest>;
    const snapshot: UninstalledSnapshot = {
      version: 1,
      app: {
        manifestId: app.manifestId,
        storeId: app.storeId,
        manifest: app.manifest,
        version: app.version,
        subdomain: app.subdomain,
        domain: app.domain,
        runState: app.runState,
        memoryLimit: app.memoryLimit.toString(),
        env: app.env,
        createdAt: app.createdAt.toISOString(),
      },
      ports: app.ports.map((p) => ({ envName: p.envName, hostPort: p.hostPort, containerPort: p.containerPort })),
      appDomains: app.appDomains.map((d) => ({ subdomain: d.subdomain, domain: d.domain, type: d.type })),
      addons: app.addons.map((a) => ({ name: a.name, credentialsEnc: a.credentialsEnc })),
      ...(app.credential ? { credential: { username: app.credential.username, passwordEnc: app.credential.passwordEnc, createdAt: app.credential.createdAt.toISOString() } } : {}),
    };
    const data = {
      manifestId: app.manifestId,
      title: String(m.title ?? app.manifestId).slice(0, 255),
      version: app.version,
      subdomain: app.subdomain,
      domain: app.domain,
      snapshot: snapshot as unknown as Prisma.InputJsonValue,
      state: "kept",
      uninstalledAt: now,
      purgeAfter: new Date(now.getTime() + days * 86_400_000),
    };
    const row = await tx.uninstalledApp.upsert({ where: { id: appId }, create: { id: appId, ...data }, update: data });
    await tx.app.deleteMany({ where: { id: appId } }); // ports, names, addon and credential rows cascade
    return row;
  });
}

async function lockUninstalled(tx: Prisma.TransactionClient, id: string): Promise<UninstalledApp> {
  const rows = await tx.$queryRawUnsafe<{ id: string }[]>("SELECT `id` FROM `UninstalledApp` WHERE `id` = ? FOR UPDATE", id);
  if (rows.length === 0) throw new HearthError("not_found", "No such uninstalled app");
  return tx.uninstalledApp.findUniqueOrThrow({ where: { id } });
}

async function busyCheck(tx: Prisma.TransactionClient, id: string): Promise<void> {
  const active = await tx.task.findFirst({ where: { appId: id, state: { in: ["pending", "running"] } }, select: { id: true, type: true } });
  if (active) throw new HearthError("bad_state", `The app is busy (${active.type} is not finished); wait until it is done`, { details: { taskId: active.id } });
}

/**
 * Restore: the App row, its ports, names, addon rows and kept first admin password come back from the snapshot
 * (pending_restore), the record goes, and the app.restore task is queued, in one
 * transaction. 409 when one of its names or host ports has been taken since, or when its
 * data is being purged.
 */
export async function queueAppRestore(db: Db, id: string, createdBy: string | null): Promise<{ task: Task; snapshot: UninstalledSnapshot }> {
  try {
    return await db.$transaction(async (tx) => {
      const u = await lockUninstalled(tx, id);
      if (u.state !== "kept") throw new HearthError("conflict", "The app's data is being deleted; it cannot be restored");
      await busyCheck(tx, id);
      const s = snapshotOf(u);
      const aliases = s.appDomains.filter((d) => d.type === "alias").map(({ subdomain, domain }) => ({ subdomain, domain }));
      const redirects = s.appDomains.filter((d) => d.type === "redirect").map(({ subdomain, domain }) => ({ subdomain, domain }));
      await checkPlacement(tx, { subdomain: s.app.subdomain, domain: s.app.domain, aliases, redirects, hostPorts: s.ports.map((p) => p.hostPort) });
      await tx.app.create({
        data: {
          id,
          manifestId: s.app.manifestId,
          storeId: s.app.storeId,
          manifest: s.app.manifest as Prisma.InputJsonValue,
          version: s.app.version,
          subdomain: s.app.subdomain,
          domain: s.app.domain,
          installState: "pending_restore",
          runState: s.app.runState,
          memoryLimit: BigInt(s.app.memoryLimit),
          env: s.app.env as Prisma.InputJsonValue,
          createdAt: new Date(s.app.createdAt),
        },
      });
      if (s.ports.length) await tx.appPort.createMany({ data: s.ports.map((p) => ({ ...p, appId: id })) });
      if (s.appDomains.length) await tx.appDomain.createMany({ data: s.appDomains.map((d) => ({ id: randomUUID(), appId: id, ...d })) });
      if (s.addons.length) await tx.appAddon.createMany({ data: s.addons.map((a) => ({ appId: id, name: a.name, credentialsEnc: a.credentialsEnc })) });
      if (s.credential) await tx.appCredential.create({ data: { appId: id, username: s.credential.username, passwordEnc: s.credential.passwordEnc, createdAt: new Date(s.credential.createdAt) } });
      await tx.uninstalledApp.delete({ where: { id } });
      const task = await createTask(tx, { type: "app.restore", appId: id, args: { appId: id }, createdBy });
      return { task, snapshot: s };
    });
  } catch (e) {
    if (e instanceof Prisma.PrismaClientKnownRequestError && e.code === "P2002") throw new HearthError("conflict", "A name or host port of the app was just taken by another app");
    throw e;
  }
}

/** Delete now: `confirm` must be the app's address (fqdn). 404, 400 wrong name, 409 busy. */
export async function queueAppPurge(db: Db, id: string, confirm: string, createdBy: string | null): Promise<{ task: Task; app: UninstalledApp }> {
  return db.$transaction(async (tx) => {
    const u = await lockUninstalled(tx, id);
    const fqdn = fqdnOfUninstalled(u);
    if (confirm !== fqdn) throw new HearthError("invalid", `Type ${fqdn} to delete the app's data`, { details: [{ path: ["confirm"], code: "custom", message: "does not match the app's address" }] });
    await busyCheck(tx, id);
    await tx.uninstalledApp.update({ where: { id }, data: { state: "purging" } });
    const task = await createTask(tx, { type: "app.purge", appId: id, args: { appId: id }, createdBy });
    return { task, app: u };
  });
}

/** The daily purge: every kept record past its purgeAfter gets an app.purge task. */
export async function queueExpiredPurges(db: Db, now = new Date()): Promise<{ appId: string; taskId: string }[]> {
  const due = await db.uninstalledApp.findMany({ where: { state: "kept", purgeAfter: { lte: now } }, select: { id: true } });
  const out: { appId: string; taskId: string }[] = [];
  for (const { id } of due) {
    const r = await db.$transaction(async (tx) => {
      const u = await tx.$queryRawUnsafe<{ id: string }[]>("SELECT `id` FROM `UninstalledApp` WHERE `id` = ? AND `state` = 'kept' FOR UPDATE", id);
      if (u.length === 0) return null;
      if (await tx.task.findFirst({ where: { appId: id, state: { in: ["pending", "running"] } }, select: { id: true } })) return null;
      await tx.uninstalledApp.update({ where: { id }, data: { state: "purging" } });
      return createTask(tx, { type: "app.purge", appId: id, args: { appId: id } });
    });
    if (r) out.push({ appId: id, taskId: r.id });
  }
  return out;
}

export async function removeUninstalledApp(db: Client, id: string): Promise<void> {
  await db.uninstalledApp.deleteMany({ where: { id } });
}

/** The ids of every app this store knows: installed (App) and uninstalled with data kept. */
export async function knownAppIds(db: Client): Promise<{ ids: Set<string>; oldestAppCreatedAt: Date | null; appCount: number }> {
  const apps = await db.app.findMany({ select: { id: true, createdAt: true } });
  const kept = await db.uninstalledApp.findMany({ select: { id: true } });
  let oldest: Date | null = null;
  for (const a of apps) if (!oldest || a.createdAt < oldest) oldest = a.createdAt;
  return { ids: new Set([...apps.map((a) => a.id), ...kept.map((k) => k.id)]), oldestAppCreatedAt: oldest, appCount: apps.length };
}
