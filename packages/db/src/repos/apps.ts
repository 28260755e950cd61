import { randomUUID } from "node:crypto";
import { APP_TASK_TYPES, HearthError, type AppTaskType, type DomainProvider, type HearthManifest } from "@hearth/contracts";
import { Prisma, type App, type AppDomain, type AppPort, type Db, type Domain, type Registry, type Task } from "../client";
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

export type AppWithPorts = App & { ports: AppPort[]; appDomains: AppDomain[] };
/** What every app read includes: published ports and extra names. */
export const APP_INCLUDE = { ports: true, appDomains: { orderBy: [{ type: "asc" }, { domain: "asc" }, { subdomain: "asc" }] } } as const satisfies Prisma.AppInclude;

function isUniqueViolation(e: unknown): boolean {
  return e instanceof Prisma.PrismaClientKnownRequestError && e.code === "P2002";
}

export function isForeignKeyViolation(e: unknown): boolean {
  return e instanceof Prisma.PrismaClientKnownRequestError && (e.code === "P2003" || e.code === "P2014");
}

// ---- apps ---------------------------------------------------------------------------------

export interface ExtraName {
  subdomain: string;
  domain: string;
}

export interface AppPlacement {
  subdomain: string;
  domain: string;
  aliases?: ExtraName[];
  redirects?: ExtraName[];
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

const fqdnOf = (n: ExtraName) => (n.subdomain ? `${n.subdomain}.${n.domain}` : n.domain);

/** The app's names in one list: primary first, then aliases and redirects (400 on repeats). */
function namesOf(p: { subdomain: string; domain: string; aliases?: ExtraName[]; redirects?: ExtraName[] }): (ExtraName & { field: string })[] {
  const all = [
    { subdomain: p.subdomain, domain: p.domain, field: "subdomain" },
    ...(p.aliases ?? []).map((n, i) => ({ ...n, field: `aliases.${i}` })),
    ...(p.redirects ?? []).map((n, i) => ({ ...n, field: `redirects.${i}` })),
  ];
  const seen = new Set<string>();
  for (const n of all) {
    const f = fqdnOf(n);
    if (seen.has(f)) throw new HearthError("invalid", `${f} is given twice`, { details: [{ path: n.field.split("."), code: "custom", message: "name given twice" }] });
    seen.add(f);
  }
  return all;
}

/** 409 conflict when one of the app's names or a host port is taken by another app (or a missing domain: 404). */
export async function checkPlacement(
  tx: Prisma.TransactionClient,
  p: { subdomain: string; domain: string; aliases?: ExtraName[]; redirects?: ExtraName[]; hostPorts: number[] },
  exceptAppId?: string,
) {
  for (const n of namesOf(p)) {
    const domain = await tx.domain.findUnique({ where: { domain: n.domain } });
    if (!domain)
      throw new HearthError("not_found", `No domain ${n.domain}; add it first`, {
        details: [{ path: n.field === "subdomain" ? ["domain"] : n.field.split("."), code: "custom", message: "unknown domain" }],
      });
    if (domain.isDashboardDomain && n.subdomain === "my") throw new HearthError("conflict", `my.${n.domain} is the dashboard`);
    const taken = await tx.app.findFirst({ where: { domain: n.domain, subdomain: n.subdomain, ...(exceptAppId ? { id: { not: exceptAppId } } : {}) }, select: { id: true } });
    const extra = await tx.appDomain.findFirst({ where: { domain: n.domain, subdomain: n.subdomain, ...(exceptAppId ? { appId: { not: exceptAppId } } : {}) }, select: { appId: true, type: true } });
    const owner = taken?.id ?? extra?.appId;
    if (owner) {
      const holder = await appHolder(tx, owner);
      const as = taken ? "" : extra?.type === "redirect" ? " as a redirect" : " as an alias";
      throw new HearthError("conflict", `${fqdnOf(n)} is already used${as} by ${holderText(holder)}`, {
        details: { appId: owner, field: n.field, holder },
      });
    }
  }
  if (p.hostPorts.length > 0) {
    const ports = await tx.appPort.findMany({ where: { hostPort: { in: p.hostPorts }, ...(exceptAppId ? { appId: { not: exceptAppId } } : {}) }, select: { hostPort: true, appId: true } });
    const http = await tx.app.findMany({ where: { httpHostPort: { in: p.hostPorts }, ...(exceptAppId ? { id: { not: exceptAppId } } : {}) }, select: { httpHostPort: true, id: true } });
    const busy = [...ports.map((x) => ({ port: x.hostPort, appId: x.appId })), ...http.map((x) => ({ port: x.httpHostPort!, appId: x.id }))].sort((a, b) => a.port - b.port);
    if (busy.length > 0) {
      const first = await appHolder(tx, busy[0]!.appId);
      throw new HearthError("conflict", `Host port ${busy.map((b) => b.port).join(", ")} is already used by ${holderText(first)}`, {
        details: { hostPorts: busy.map((b) => b.port), field: "portBindings", holder: first },
      });
    }
  }
}

const holderText = (h: { title: string; url: string }) => (h.url ? `${h.title} (${h.url})` : h.title);

/** Who holds a name or port, for a conflict message: the app's title (from its manifest) and its URL. */
async function appHolder(tx: Prisma.TransactionClient, appId: string): Promise<{ appId: string; title: string; url: string }> {
  const app = await tx.app.findUnique({ where: { id: appId }, select: { manifest: true, subdomain: true, domain: true } });
  if (!app) return { appId, title: "another app", url: "" };
  const m = app.manifest as { title?: unknown } | null;
  const title = typeof m?.title === "string" && m.title ? m.title : "another app";
  return { appId, title, url: `https://${fqdnOf(app)}/` };
}

async function writeExtraNames(tx: Prisma.TransactionClient, appId: string, p: { aliases?: ExtraName[]; redirects?: ExtraName[] }) {
  if (p.aliases === undefined && p.redirects === undefined) return;
  for (const [type, list] of [
    ["alias", p.aliases],
    ["redirect", p.redirects],
  ] as const) {
    if (list === undefined) continue;
    await tx.appDomain.deleteMany({ where: { appId, type } });
    if (list.length > 0) await tx.appDomain.createMany({ data: list.map((n) => ({ id: randomUUID(), appId, subdomain: n.subdomain, domain: n.domain, type })) });
  }
}

function placementConflict(e: unknown): never {
  if (isUniqueViolation(e)) throw new HearthError("conflict", "The subdomain or a host port was just taken by another app");
  throw e;
}

export interface InstallAppInput extends AppPlacement {
  /** replace DNS records for the app's names that point elsewhere (API providers) */
  overwriteDns?: boolean;
  manifest: HearthManifest;
  storeId: string | null;
  memoryLimit: number;
  env: Record<string, string>;
  createdBy: string | null;
  /** The first admin account (manifest firstAdmin), its password already sealed (sealSecret). */
  firstAdmin?: { username: string; passwordEnc: string };
}

/** App (pending_install) + AppPort rows + the app.install task, in one transaction. */
export async function installApp(db: Db, input: InstallAppInput): Promise<{ app: AppWithPorts; task: Task }> {
  const ports = portRowsOf(input.manifest, input.portBindings);
  try {
    return await db.$transaction(async (tx) => {
      await checkPlacement(tx, { ...input, hostPorts: ports.map((p) => p.hostPort) });
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
      if (input.firstAdmin) await tx.appCredential.create({ data: { appId: id, username: input.firstAdmin.username, passwordEnc: input.firstAdmin.passwordEnc } });
      await writeExtraNames(tx, id, input);
      const task = await createTask(tx, { type: "app.install", appId: id, args: { appId: id, ...(input.overwriteDns ? { overwriteDns: true } : {}) }, createdBy: input.createdBy });
      const app = await tx.app.findUniqueOrThrow({ where: { id }, include: APP_INCLUDE });
      return { app, task };
    });
  } catch (e) {
    placementConflict(e);
  }
}

export async function getApp(db: Client, id: string): Promise<AppWithPorts | null> {
  return db.app.findUnique({ where: { id }, include: APP_INCLUDE });
}

/** Automatic patch updates of the app on or off; null when there is no such app. */
export async function setAppAutoUpdate(db: Client, id: string, autoUpdate: boolean): Promise<AppWithPorts | null> {
  const r = await db.app.updateMany({ where: { id }, data: { autoUpdate } });
  return r.count === 0 ? null : getApp(db, id);
}

/** Installed store apps with automatic patch updates on (box's nightly window). */
export async function listAutoUpdateApps(db: Client): Promise<AppWithPorts[]> {
  return db.app.findMany({ where: { autoUpdate: true, installState: "installed", storeId: { not: null } }, include: APP_INCLUDE, orderBy: { createdAt: "asc" } });
}

export async function listApps(db: Client): Promise<AppWithPorts[]> {
  return db.app.findMany({ include: APP_INCLUDE, orderBy: [{ createdAt: "asc" }, { id: "asc" }] });
}

/**
 * A cheap fingerprint of everything GET /api/v1/apps shows from the database: the App rows
 * (count, and per row its id, updatedAt and state columns, so two changes in the same
 * millisecond still differ), their ports and extra names, and which task is active for which
 * app. One round trip over indexes and small tables; equal strings mean an equal list (up to
 * CRC32 collisions). admin answers 304 and its server-sent events from it.
 */
export async function appsListVersion(db: Client): Promise<string> {
  const rows = await db.$queryRawUnsafe<{ v: string }[]>(
    `SELECT CONCAT_WS(':',
      (SELECT CONCAT(COUNT(*), '.', COALESCE(BIT_XOR(CRC32(CONCAT_WS('|', \`id\`, \`updatedAt\`, \`installState\`, \`runState\`, \`health\`, \`errorCode\`, \`errorTaskId\`, \`version\`, \`autoUpdate\`))), 0)) FROM \`App\`),
      (SELECT CONCAT(COUNT(*), '.', COALESCE(BIT_XOR(CRC32(CONCAT_WS('|', \`appId\`, \`envName\`, \`hostPort\`))), 0)) FROM \`AppPort\`),
      (SELECT CONCAT(COUNT(*), '.', COALESCE(BIT_XOR(CRC32(CONCAT_WS('|', \`id\`, \`appId\`, \`subdomain\`, \`domain\`, \`type\`))), 0)) FROM \`AppDomain\`),
      (SELECT CONCAT(COUNT(*), '.', COALESCE(BIT_XOR(CRC32(CONCAT_WS('|', \`id\`, \`appId\`))), 0)) FROM \`Task\` WHERE \`state\` IN ('pending', 'running') AND \`appId\` IS NOT NULL)
    ) AS v`,
  );
  return String(rows[0]?.v ?? "");
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
  aliases?: ExtraName[];
  redirects?: ExtraName[];
  overwriteDns?: boolean;
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
export async function queueAppTask(
  db: Db,
  appId: string,
  type: Exclude<AppTaskType, "app.install">,
  change: AppChange = {},
  createdBy: string | null = null,
  /** more task args from the locked row (app.update: the manifests); may throw to refuse */
  extraArgs?: (app: AppWithPorts) => Record<string, unknown>,
): Promise<{ app: AppWithPorts; task: Task }> {
  try {
    return await db.$transaction(async (tx) => {
      const locked = await tx.$queryRawUnsafe<{ id: string }[]>("SELECT `id` FROM `App` WHERE `id` = ? FOR UPDATE", appId);
      if (locked.length === 0) throw new HearthError("not_found", "No such app");
      const app = await tx.app.findUniqueOrThrow({ where: { id: appId }, include: APP_INCLUDE });
      if (app.installState.startsWith("pending_")) throw new HearthError("bad_state", `The app is busy (${app.installState}); wait until it is done`);
      const active = await tx.task.findFirst({ where: { appId, state: { in: [...ACTIVE_TASK_STATES] } }, select: { id: true, type: true } });
      if (active) throw new HearthError("bad_state", `The app is busy (${active.type} is not finished); wait until it is done`, { details: { taskId: active.id } });

      const extra = extraArgs?.(app) ?? {};
      const data: Prisma.AppUpdateInput = { installState: APP_TASK_TYPES[type] };
      if (change.runState) data.runState = change.runState;
      if (change.memoryLimit !== undefined) data.memoryLimit = BigInt(change.memoryLimit);
      if (change.env !== undefined) data.env = change.env;
      const placementChanged = [change.subdomain, change.domain, change.portBindings, change.aliases, change.redirects].some((x) => x !== undefined);
      if (placementChanged) {
        const manifest = app.manifest as unknown as HearthManifest;
        const ports = change.portBindings !== undefined ? portRowsOf(manifest, change.portBindings) : null;
        const subdomain = change.subdomain ?? app.subdomain;
        const domain = change.domain ?? app.domain;
        const kept = (type: "alias" | "redirect") => app.appDomains.filter((d) => d.type === type).map((d) => ({ subdomain: d.subdomain, domain: d.domain }));
        const aliases = change.aliases ?? kept("alias");
        const redirects = change.redirects ?? kept("redirect");
        await checkPlacement(tx, { subdomain, domain, aliases, redirects, hostPorts: (ports ?? []).map((p) => p.hostPort) }, appId);
        await writeExtraNames(tx, appId, { aliases: change.aliases, redirects: change.redirects });
        if (subdomain !== app.subdomain) data.subdomain = subdomain;
        if (domain !== app.domain) data.domainRef = { connect: { domain } };
        if (ports) {
          await tx.appPort.deleteMany({ where: { appId } });
          if (ports.length > 0) await tx.appPort.createMany({ data: ports.map((p) => ({ ...p, appId })) });
        }
      }
      await tx.app.update({ where: { id: appId }, data });
      const task = await createTask(tx, { type, appId, args: { ...extra, appId, ...(change.overwriteDns ? { overwriteDns: true } : {}) } as Prisma.InputJsonValue, createdBy });
      return { app: await tx.app.findUniqueOrThrow({ where: { id: appId }, include: APP_INCLUDE }), task };
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
