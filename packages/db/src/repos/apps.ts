import { randomUUID } from "node:crypto";
import { APP_TASK_TYPES, HearthError, type AppTaskType, type DomainProvider, type HearthManifest } from "@hearth/contracts";
import { Prisma, type App, type AppPort, type Db, type Domain, type Registry, type Task } from "../client";
import { createTask } from "./tasks";

/**
 * Apps, domains and registries as admin records them: intent only. Every app operation is one
 * transaction that checks the app is idle, writes the desired state to the App row (and its
 * AppPort rows), sets the pending_* install state and inserts the Task that box runs. box
 * recreates the container from the row alone; the task's args are just `{ appId }`.
 *
 * Callers serialize placement changes (install, configure, domain add/remove) under one
 * named lock; the unique keys (domain+subdomain, AppPort.hostPort, App.httpHostPort) are the
 * final guard and map to `conflict`.
 */
type Client = Db | Prisma.TransactionClient;

export const ACTIVE_TASK_STATES = ["pending", "running"] as const;

export type AppWithPorts = App & { ports: AppPort[] };

function isUniqueViolation(e: unknown): boolean {
  return e instanceof Prisma.PrismaClientKnownRequestError && e.code === "P2002";
}

function isForeignKeyViolation(e: unknown): boolean {
  return e instanceof Prisma.PrismaClientKnownRequestError && (e.code === "P2003" || e.code === "P2014");
}

// ---- domains ------------------------------------------------------------------------------

export async function listDomains(db: Client): Promise<Domain[]> {
  return db.domain.findMany({ orderBy: [{ isDashboardDomain: "desc" }, { domain: "asc" }] });
}

export async function getDomain(db: Client, domain: string): Promise<Domain | null> {
  return db.domain.findUnique({ where: { domain } });
}

/** Adds a domain; the first one becomes the dashboard's. 409 conflict when it exists. */
export async function addDomain(db: Db, input: { domain: string; provider: DomainProvider }): Promise<Domain> {
  try {
    return await db.$transaction(async (tx) => {
      if (await tx.domain.findUnique({ where: { domain: input.domain } })) throw new HearthError("conflict", `The domain ${input.domain} already exists`);
      const hasDashboard = (await tx.domain.count({ where: { isDashboardDomain: true } })) > 0;
      return tx.domain.create({ data: { domain: input.domain, provider: input.provider, isDashboardDomain: !hasDashboard } });
    });
  } catch (e) {
    if (isUniqueViolation(e)) throw new HearthError("conflict", `The domain ${input.domain} already exists`);
    throw e;
  }
}

/** Removes a domain no app uses (409 conflict otherwise, 404 when unknown). */
export async function removeDomain(db: Db, domain: string): Promise<Domain> {
  try {
    return await db.$transaction(async (tx) => {
      const d = await tx.domain.findUnique({ where: { domain } });
      if (!d) throw new HearthError("not_found", `No domain ${domain}`);
      const used = await tx.app.findMany({ where: { domain }, select: { id: true, subdomain: true }, take: 20 });
      if (used.length > 0) {
        throw new HearthError("conflict", `Apps still use ${domain}; move or uninstall them first`, {
          details: { apps: used.map((a) => a.id) },
        });
      }
      await tx.domain.delete({ where: { domain } });
      if (d.isDashboardDomain) {
        // the dashboard moves to the oldest remaining domain
        const next = await tx.domain.findFirst({ orderBy: [{ createdAt: "asc" }, { domain: "asc" }] });
        if (next) await tx.domain.update({ where: { domain: next.domain }, data: { isDashboardDomain: true } });
      }
      return d;
    });
  } catch (e) {
    if (isForeignKeyViolation(e)) throw new HearthError("conflict", `Apps still use ${domain}; move or uninstall them first`);
    throw e;
  }
}

// ---- apps ---------------------------------------------------------------------------------

export interface AppPlacement {
  subdomain: string;
  domain: string;
  /** ENV name → host port; null or absent = not published */
  portBindings?: Record<string, number | null>;
}

/** The AppPort rows for `bindings`, checked against the manifest's tcpPorts (400 invalid). */
export function portRowsOf(manifest: HearthManifest, bindings: Record<string, number | null> | undefined): { envName: string; hostPort: number; containerPort: number }[] {
  const rows: { envName: string; hostPort: number; containerPort: number }[] = [];
  const seen = new Set<number>();
  for (const [envName, hostPort] of Object.entries(bindings ?? {})) {
    const spec = manifest.tcpPorts[envName];
    if (!spec) {
      throw new HearthError("invalid", `The manifest has no TCP port ${envName}`, {
        details: [{ path: ["portBindings", envName], code: "custom", message: `not one of the manifest's tcpPorts (${Object.keys(manifest.tcpPorts).join(", ") || "none"})` }],
      });
    }
    if (hostPort === null) continue;
    if (seen.has(hostPort)) {
      throw new HearthError("invalid", `Host port ${hostPort} is bound twice`, {
        details: [{ path: ["portBindings", envName], code: "custom", message: "host port used twice" }],
      });
    }
    seen.add(hostPort);
    rows.push({ envName, hostPort, containerPort: spec.containerPort });
  }
  return rows;
}

/** 409 conflict when the location or a host port is taken by another app (or a missing domain: 404). */
async function checkPlacement(tx: Prisma.TransactionClient, p: { subdomain: string; domain: string; hostPorts: number[] }, exceptAppId?: string) {
  const domain = await tx.domain.findUnique({ where: { domain: p.domain } });
  if (!domain) throw new HearthError("not_found", `No domain ${p.domain}; add it first`, { details: [{ path: ["domain"], code: "custom", message: "unknown domain" }] });
  if (domain.isDashboardDomain && p.subdomain === "my") throw new HearthError("conflict", `my.${p.domain} is the dashboard`);
  const taken = await tx.app.findFirst({ where: { domain: p.domain, subdomain: p.subdomain, ...(exceptAppId ? { id: { not: exceptAppId } } : {}) }, select: { id: true } });
  if (taken) {
    const where = p.subdomain ? `${p.subdomain}.${p.domain}` : p.domain;
    throw new HearthError("conflict", `${where} is already used by another app`, { details: { appId: taken.id, field: "subdomain" } });
  }
  if (p.hostPorts.length > 0) {
    const ports = await tx.appPort.findMany({ where: { hostPort: { in: p.hostPorts }, ...(exceptAppId ? { appId: { not: exceptAppId } } : {}) }, select: { hostPort: true, appId: true } });
    const http = await tx.app.findMany({ where: { httpHostPort: { in: p.hostPorts }, ...(exceptAppId ? { id: { not: exceptAppId } } : {}) }, select: { httpHostPort: true, id: true } });
    const busy = [...ports.map((x) => x.hostPort), ...http.map((x) => x.httpHostPort!)];
    if (busy.length > 0) throw new HearthError("conflict", `Host port ${busy.sort((a, b) => a - b).join(", ")} is already in use`, { details: { hostPorts: busy, field: "portBindings" } });
  }
}

function placementConflict(e: unknown): never {
  if (isUniqueViolation(e)) throw new HearthError("conflict", "The subdomain or a host port was just taken by another app");
  throw e;
}

export interface InstallAppInput extends AppPlacement {
  manifest: HearthManifest;
  storeId: string | null;
  memoryLimit: number;
  env: Record<string, string>;
  createdBy: string | null;
}

/** App (pending_install) + AppPort rows + the app.install task, in one transaction. */
export async function installApp(db: Db, input: InstallAppInput): Promise<{ app: AppWithPorts; task: Task }> {
  const ports = portRowsOf(input.manifest, input.portBindings);
  try {
    return await db.$transaction(async (tx) => {
      await checkPlacement(tx, { subdomain: input.subdomain, domain: input.domain, hostPorts: ports.map((p) => p.hostPort) });
      const id = randomUUID();
      await tx.app.create({
        data: {
          id,
          manifestId: input.manifest.id,
          storeId: input.storeId,
          manifest: input.manifest as unknown as Prisma.InputJsonValue,
          version: input.manifest.version,
          subdomain: input.subdomain,
          domain: input.domain,
          installState: APP_TASK_TYPES["app.install"],
          runState: "running",
          memoryLimit: BigInt(input.memoryLimit),
          env: input.env,
        },
      });
      if (ports.length > 0) await tx.appPort.createMany({ data: ports.map((p) => ({ ...p, appId: id })) });
      const task = await createTask(tx, { type: "app.install", appId: id, args: { appId: id }, createdBy: input.createdBy });
      const app = await tx.app.findUniqueOrThrow({ where: { id }, include: { ports: true } });
      return { app, task };
    });
  } catch (e) {
    placementConflict(e);
  }
}

export async function getApp(db: Client, id: string): Promise<AppWithPorts | null> {
  return db.app.findUnique({ where: { id }, include: { ports: true } });
}

export async function listApps(db: Client): Promise<AppWithPorts[]> {
  return db.app.findMany({ include: { ports: true }, orderBy: [{ createdAt: "asc" }, { id: "asc" }] });
}

/** The newest pending or running task of each app. */
export async function activeTasksOf(db: Client, appIds: string[]): Promise<Map<string, Task>> {
  if (appIds.length === 0) return new Map();
  const tasks = await db.task.findMany({
    where: { appId: { in: appIds }, state: { in: [...ACTIVE_TASK_STATES] } },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
  });
  const out = new Map<string, Task>();
  for (const t of tasks) if (t.appId && !out.has(t.appId)) out.set(t.appId, t);
  return out;
}

export interface AppChange {
  subdomain?: string;
  domain?: string;
  memoryLimit?: number;
  env?: Record<string, string>;
  portBindings?: Record<string, number | null>;
  runState?: "running" | "stopped";
}

/**
 * Queues an app task: locks the App row, refuses (409 bad_state) while the app is in a
 * pending_* state or has a pending/running task, writes `change` to the row, sets the task
 * type's pending state and inserts the task.
 */
export async function queueAppTask(db: Db, appId: string, type: Exclude<AppTaskType, "app.install">, change: AppChange = {}, createdBy: string | null = null): Promise<{ app: AppWithPorts; task: Task }> {
  try {
    return await db.$transaction(async (tx) => {
      const locked = await tx.$queryRawUnsafe<{ id: string }[]>("SELECT `id` FROM `App` WHERE `id` = ? FOR UPDATE", appId);
      if (locked.length === 0) throw new HearthError("not_found", "No such app");
      const app = await tx.app.findUniqueOrThrow({ where: { id: appId }, include: { ports: true } });
      if (app.installState.startsWith("pending_")) throw new HearthError("bad_state", `The app is busy (${app.installState}); wait until it is done`);
      const active = await tx.task.findFirst({ where: { appId, state: { in: [...ACTIVE_TASK_STATES] } }, select: { id: true, type: true } });
      if (active) throw new HearthError("bad_state", `The app is busy (${active.type} is not finished); wait until it is done`, { details: { taskId: active.id } });

      const data: Prisma.AppUpdateInput = { installState: APP_TASK_TYPES[type] };
      if (change.runState) data.runState = change.runState;
      if (change.memoryLimit !== undefined) data.memoryLimit = BigInt(change.memoryLimit);
      if (change.env !== undefined) data.env = change.env;
      if (change.subdomain !== undefined || change.domain !== undefined || change.portBindings !== undefined) {
        const manifest = app.manifest as unknown as HearthManifest;
        const ports = change.portBindings !== undefined ? portRowsOf(manifest, change.portBindings) : null;
        const subdomain = change.subdomain ?? app.subdomain;
        const domain = change.domain ?? app.domain;
        await checkPlacement(tx, { subdomain, domain, hostPorts: (ports ?? []).map((p) => p.hostPort) }, appId);
        if (subdomain !== app.subdomain) data.subdomain = subdomain;
        if (domain !== app.domain) data.domainRef = { connect: { domain } };
        if (ports) {
          await tx.appPort.deleteMany({ where: { appId } });
          if (ports.length > 0) await tx.appPort.createMany({ data: ports.map((p) => ({ ...p, appId })) });
        }
      }
      await tx.app.update({ where: { id: appId }, data });
      const task = await createTask(tx, { type, appId, args: { appId }, createdBy });
      return { app: await tx.app.findUniqueOrThrow({ where: { id: appId }, include: { ports: true } }), task };
    });
  } catch (e) {
    placementConflict(e);
  }
}

// ---- registries ---------------------------------------------------------------------------

export async function listRegistries(db: Client): Promise<Registry[]> {
  return db.registry.findMany({ orderBy: { server: "asc" } });
}

/** `passwordEnc` must already be sealed (sealSecret). 409 conflict on a duplicate server. */
export async function addRegistry(db: Client, input: { server: string; username: string; passwordEnc: string }): Promise<Registry> {
  try {
    if (await db.registry.findUnique({ where: { server: input.server } })) throw new HearthError("conflict", `Credentials for ${input.server} exist; delete them first`);
    return await db.registry.create({ data: { id: randomUUID(), ...input } });
  } catch (e) {
    if (isUniqueViolation(e)) throw new HearthError("conflict", `Credentials for ${input.server} exist; delete them first`);
    throw e;
  }
}

export async function removeRegistry(db: Client, id: string): Promise<Registry | null> {
  const r = await db.registry.findUnique({ where: { id } });
  if (!r) return null;
  await db.registry.deleteMany({ where: { id } });
  return r;
}
