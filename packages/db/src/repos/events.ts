import type { Db } from "../client";
import { Prisma } from "../client";
import { sourceNetOf } from "../net";

/** The event log: dotted actions (`user.login`, `token.create` …) with actor and source IP. */
type Client = Db | Prisma.TransactionClient;

export interface NewEvent {
  action: string;
  /** user id, "box" or "system" */
  actorId?: string | null;
  actorName?: string;
  sourceIp?: string;
  target?: string;
  data?: Prisma.InputJsonValue | null;
}

export interface EventRow {
  id: bigint;
  action: string;
  actorId: string | null;
  actorName: string;
  sourceIp: string;
  target: string;
  data: unknown;
  createdAt: Date;
}

export async function recordEvent(db: Client, e: NewEvent): Promise<void> {
  await db.event.create({
    data: {
      action: e.action,
      actorId: e.actorId ?? null,
      actorName: (e.actorName ?? "").slice(0, 64),
      sourceIp: (e.sourceIp ?? "").slice(0, 45),
      sourceNet: sourceNetOf(e.sourceIp ?? "").slice(0, 45),
      target: (e.target ?? "").slice(0, 255),
      data: e.data === undefined || e.data === null ? Prisma.DbNull : e.data,
    },
  });
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

export async function listEvents(db: Client, q: { action?: string; page: number; perPage: number }): Promise<{ events: EventRow[]; total: number }> {
  const where = actionFilter(q.action);
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
