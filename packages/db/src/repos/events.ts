import { appFqdn, SETTING_NAMES, taskOutcomeAction, type EventAction, type EventTargetType } from "@hearth/contracts";
import type { Db } from "../client";
import { Prisma } from "../client";
import { sourceNetOf } from "../net";

/**
 * The event log: dotted actions (`user.login`, `token.create`, `app.install.failed` …) with
 * actor, source IP and target. The target is stored three ways: its key (`target`: an app's
 * id, a domain, a username …), what it is (`targetType`) and its name as it read when the
 * event was written (`targetName`: an app's "Title (host)"), because Event rows outlive what
 * they name.
 */
type Client = Db | Prisma.TransactionClient;

export interface NewEvent {
  action: EventAction;
  /** user id, "box" or "system" */
  actorId?: string | null;
  actorName?: string;
  sourceIp?: string;
  target?: string;
  /** What `target` is; by default from the action's first part (`app.*` → app, `user.*` → user …). */
  targetType?: EventTargetType | "";
  /** The target's name now; by default looked up (apps) or the target itself. */
  targetName?: string;
  data?: Prisma.InputJsonValue | null;
}

export interface EventRow {
  id: bigint;
  action: string;
  actorId: string | null;
  actorName: string;
  sourceIp: string;
  target: string;
  targetType: string;
  targetName: string;
  data: unknown;
  createdAt: Date;
}

const TARGET_TYPE_OF_PREFIX: Record<string, EventTargetType> = {
  app: "app",
  orphan: "orphan",
  domain: "domain",
  user: "user",
  token: "token",
  registry: "registry",
  certificate: "certificate",
  settings: "setting",
  mail: "email",
};

/** The target type an action implies (its first dotted part), "" when none. */
export function targetTypeOfAction(action: string): EventTargetType | "" {
  return TARGET_TYPE_OF_PREFIX[action.split(".")[0] ?? ""] ?? "";
}

/** How an app is named in the event log: "Title (host)". */
export function appEventName(app: { title: string; subdomain: string; domain: string }): string {
  return `${app.title} (${appFqdn(app.subdomain, app.domain)})`;
}

/**
 * An app's name as the event log stores it: from its App row, else its UninstalledApp row,
 * else the name the newest earlier event stored; "" when nothing knows it.
 */
export async function appTargetName(db: Client, appId: string): Promise<string> {
  if (!appId) return "";
  const app = await db.app.findUnique({ where: { id: appId }, select: { manifest: true, manifestId: true, subdomain: true, domain: true } });
  if (app) {
    const m = app.manifest as { title?: unknown } | null;
    return appEventName({ title: typeof m?.title === "string" ? m.title : app.manifestId, subdomain: app.subdomain, domain: app.domain });
  }
  const gone = await db.uninstalledApp.findUnique({ where: { id: appId }, select: { title: true, subdomain: true, domain: true } });
  if (gone) return appEventName(gone);
  const earlier = await db.event.findFirst({ where: { targetType: "app", target: appId, targetName: { not: "" } }, select: { targetName: true }, orderBy: [{ createdAt: "desc" }, { id: "desc" }] });
  return earlier?.targetName ?? "";
}

export async function recordEvent(db: Client, e: NewEvent): Promise<void> {
  const target = (e.target ?? "").slice(0, 255);
  const targetType = e.targetType ?? (target ? targetTypeOfAction(e.action) : "");
  const targetName = e.targetName ?? (targetType === "app" ? await appTargetName(db, target) : targetType === "setting" ? (SETTING_NAMES[target] ?? target) : target);
  await db.event.create({
    data: {
      action: e.action,
      actorId: e.actorId ?? null,
      actorName: (e.actorName ?? "").slice(0, 64),
      sourceIp: (e.sourceIp ?? "").slice(0, 45),
      sourceNet: sourceNetOf(e.sourceIp ?? "").slice(0, 45),
      target,
      targetType,
      targetName: cutChars(targetName, 255),
      data: e.data === undefined || e.data === null ? Prisma.DbNull : e.data,
    },
  });
}

/** The longest error message an outcome event keeps (the task row has the whole one). */
const OUTCOME_MESSAGE_MAX = 2000;

/**
 * Records how a task ended (`<type>.succeeded` / `<type>.failed` with the error), written by
 * the task repository in the same transaction as the task's final state. Test-only types
 * ("_sleep" …) and unknown ones record nothing.
 */
export async function recordTaskOutcome(
  db: Client,
  task: { id: string; type: string; appId: string | null; args: unknown; createdBy: string | null; attempts: number },
  outcome: { state: "succeeded" } | { state: "failed"; errorCode: string; errorMessage: string },
): Promise<void> {
  const action = taskOutcomeAction(task.type, outcome.state);
  if (!action) return;
  const args = (task.args ?? {}) as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === "string" ? v : "");
  let target = "";
  let targetType: EventTargetType | "" = "";
  let targetName = "";
  const appId = task.appId ?? str(args.appId);
  if (appId) {
    target = appId;
    targetType = "app";
  } else if (task.type === "domain.sync") {
    target = str(args.domain);
    targetType = "domain";
  } else if (task.type === "mail.test") {
    target = str(args.to);
    targetType = "email";
  } else if (task.type === "certificate.renew" && str(args.certificateId)) {
    const c = await db.certificate.findUnique({ where: { id: str(args.certificateId) }, select: { names: true } });
    target = Array.isArray(c?.names) ? c.names.join(", ") : "";
    targetType = "certificate";
  } else if (task.type === "orphan.delete") {
    const o = await db.orphan.findUnique({ where: { id: str(args.orphanId) }, select: { name: true } });
    target = o?.name ?? str(args.orphanId);
    targetType = "orphan";
  }
  if (targetType === "app") targetName = await appTargetName(db, target);
  else targetName = target;
  const data: Record<string, Prisma.InputJsonValue> = { taskId: task.id, attempts: task.attempts };
  if (task.createdBy) data.requestedBy = task.createdBy;
  if (outcome.state === "failed") data.error = { code: outcome.errorCode, message: cutChars(outcome.errorMessage, OUTCOME_MESSAGE_MAX) };
  await recordEvent(db, { action, actorId: "box", actorName: "box", target, targetType, targetName, data });
}

/**
 * `action` matches exactly, or as a prefix when it ends with "." ("user." → every user.*
 * event); a bare namespace without a dot ("user") matches "user" and "user.*".
 */
export function actionFilter(action: string | undefined): Prisma.EventWhereInput {
  if (!action) return {};
  if (action.endsWith(".")) return { action: { startsWith: likeLiteral(action) } };
  return { OR: [{ action }, { action: { startsWith: `${likeLiteral(action)}.` } }] };
}

/**
 * `s` as a literal inside a LIKE pattern. Prisma's `startsWith` on MySQL/MariaDB builds
 * `LIKE CONCAT(?, '%')` without escaping, so `%` and `_` in the value would act as
 * wildcards; MariaDB's default LIKE escape character is the backslash.
 */
export function likeLiteral(s: string): string {
  return s.replace(/[\\%_]/g, "\\$&");
}

export interface EventFilter {
  action?: string;
  /** an app's id: the events about it */
  app?: string;
  /** a username: what the user did and what happened to their account */
  user?: string;
}

export function eventWhere(f: EventFilter): Prisma.EventWhereInput {
  const and: Prisma.EventWhereInput[] = [actionFilter(f.action)];
  if (f.app) and.push({ targetType: "app", target: f.app });
  if (f.user) and.push({ OR: [{ actorName: f.user }, { targetType: "user", target: f.user }] });
  return { AND: and };
}

export async function listEvents(db: Client, q: EventFilter & { page: number; perPage: number }): Promise<{ events: EventRow[]; total: number }> {
  const where = eventWhere(q);
  const [events, total] = await Promise.all([
    db.event.findMany({
      where,
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      skip: (q.page - 1) * q.perPage,
      take: q.perPage,
    }),
    db.event.count({ where }),
  ]);
  return { events, total };
}

/**
 * Every event matching `f`, newest first, in batches of `batch` (keyset on the order, so a
 * long export neither skips nor repeats rows and never loads the whole log at once).
 */
export async function* eachEvent(db: Client, f: EventFilter, batch = 1000): AsyncGenerator<EventRow[]> {
  const where = eventWhere(f);
  let after: { createdAt: Date; id: bigint } | null = null;
  for (;;) {
    const page: EventRow[] = await db.event.findMany({
      where: after ? { AND: [where, { OR: [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }] }] } : where,
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      take: batch,
    });
    if (page.length === 0) return;
    yield page;
    if (page.length < batch) return;
    const last = page[page.length - 1]!;
    after = { createdAt: last.createdAt, id: last.id };
  }
}

/** Which of the given targets still exist, for the event log's links. */
export async function existingEventTargets(
  db: Client,
  q: { apps: string[]; domains: string[]; users: string[]; registries: string[] },
): Promise<{ apps: Set<string>; domains: Set<string>; users: Set<string>; registries: Set<string> }> {
  const none = Promise.resolve([] as string[]);
  const [apps, domains, users, registries] = await Promise.all([
    q.apps.length ? db.app.findMany({ where: { id: { in: q.apps } }, select: { id: true } }).then((r) => r.map((x) => x.id)) : none,
    q.domains.length ? db.domain.findMany({ where: { domain: { in: q.domains } }, select: { domain: true } }).then((r) => r.map((x) => x.domain)) : none,
    q.users.length ? db.user.findMany({ where: { username: { in: q.users } }, select: { username: true } }).then((r) => r.map((x) => x.username)) : none,
    q.registries.length ? db.registry.findMany({ where: { server: { in: q.registries } }, select: { server: true } }).then((r) => r.map((x) => x.server)) : none,
  ]);
  return { apps: new Set(apps), domains: new Set(domains), users: new Set(users), registries: new Set(registries) };
}

/**
 * Times of `user.login_failed` events from the network of `sourceIp` (the address, or its
 * IPv6 /64: see net.ts) since `since`, optionally only those for one attempted username
 * (the event's target). Oldest first.
 */
export async function loginFailureTimes(db: Client, q: { sourceIp: string; target?: string; since: Date }): Promise<Date[]> {
  return eventTimes(db, { action: "user.login_failed", sourceIp: q.sourceIp, target: q.target, since: q.since });
}

/**
 * Times of `action` events since `since` (oldest first, at most `limit`, the newest kept),
 * from the network of `sourceIp` and for `target` when given.
 */
export async function eventTimes(db: Client, q: { action: string; sourceIp?: string; target?: string; since: Date; limit?: number }): Promise<Date[]> {
  const rows = await db.event.findMany({
    where: {
      action: q.action,
      createdAt: { gte: q.since },
      ...(q.sourceIp === undefined ? {} : { sourceNet: sourceNetOf(q.sourceIp) }),
      ...(q.target === undefined ? {} : { target: q.target }),
    },
    select: { createdAt: true },
    orderBy: { createdAt: "desc" },
    take: q.limit ?? 1000,
  });
  return rows.map((r) => r.createdAt).reverse();
}

/**
 * Time of the latest successful `user.login` of `target` since `since`: from the network of
 * `sourceIp` when given, else from anywhere.
 */
export async function lastLoginTime(db: Client, q: { sourceIp?: string; target: string; since: Date }): Promise<Date | null> {
  const row = await db.event.findFirst({
    where: {
      action: "user.login",
      target: q.target,
      createdAt: { gte: q.since },
      ...(q.sourceIp === undefined ? {} : { sourceNet: sourceNetOf(q.sourceIp) }),
    },
    select: { createdAt: true },
    orderBy: { createdAt: "desc" },
  });
  return row?.createdAt ?? null;
}

/** The first `n` characters of `s` (code points: never half of a surrogate pair, as slice can leave). */
function cutChars(s: string, n: number): string {
  return s.length <= n ? s : Array.from(s).slice(0, n).join("");
}
