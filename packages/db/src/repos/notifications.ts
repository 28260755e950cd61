import { createHash, randomUUID } from "node:crypto";
import { HearthError, notificationTitle } from "@hearth/contracts";
import { Prisma, type Db, type Notification, type NotificationItem } from "../client";

/**
 * Notifications for admins, grouped by cause (issue 14).
 *
 * A Notification row is one group: `key` = kind + cause (e.g. `cert_failing:lab.example`),
 * open while `dismissedAt` is null. Its NotificationItem rows are the subjects inside it
 * (a certificate's names, an app, …), one per subject, each open or closed.
 *  - `raiseNotification` adds or refreshes an item in the open group of its key (making
 *    the group when there is none). A new item, or one that was closed, moves the group's
 *    `raisedAt` (unread again for every admin, and mailable again); a repeat of an open
 *    item only updates its message and the group's count.
 *  - `closeNotificationItems` closes items by subject (the app is gone, the name was
 *    removed, the certificate was renewed); a group left without open items is closed
 *    ("system"). Box's sweep calls it for whatever no longer exists.
 *  - read state is per admin (NotificationRead): unread while readAt < raisedAt.
 * `notify`/`resolveNotifications` are the item-less form (one message per key), kept for
 * causes that have no subjects.
 */
type Client = Db | Prisma.TransactionClient;

export interface NewNotification {
  key: string;
  level: "info" | "warning" | "error";
  title: string;
  message: string;
  target?: string;
  kind?: string;
  link?: string;
}

export async function notify(db: Client, n: NewNotification): Promise<Notification> {
  try {
    return await notifyOnce(db, n);
  } catch (e) {
    // another raise made the open group of this key meanwhile: update that one
    if (isRetryable(e)) return notifyOnce(db, n);
    throw e;
  }
}

async function notifyOnce(db: Client, n: NewNotification): Promise<Notification> {
  const open = await db.notification.findUnique({ where: { openKey: n.key.slice(0, 255) } });
  const fields = {
    level: n.level,
    title: n.title.slice(0, 255),
    message: n.message.slice(0, 8000),
    target: (n.target ?? "").slice(0, 255),
    kind: (n.kind ?? "other").slice(0, 32),
    link: (n.link ?? "").slice(0, 512),
  };
  if (open) return db.notification.update({ where: { id: open.id }, data: { ...fields, count: { increment: 1 } } });
  return db.notification.create({ data: { id: randomUUID(), key: n.key.slice(0, 255), openKey: n.key.slice(0, 255), ...fields } });
}

export async function resolveNotifications(db: Client, key: string): Promise<number> {
  return (await db.notification.updateMany({ where: { key, dismissedAt: null }, data: { dismissedAt: new Date(), dismissedBy: "system", openKey: null } })).count;
}

/**
 * A concurrent raise of the same key: the other made the open group first (P2002 on the
 * unique `openKey`), or MariaDB broke a lock wait (deadlock, P2034). Raising again finds it.
 */
function isRetryable(e: unknown): boolean {
  if (e instanceof Prisma.PrismaClientKnownRequestError && (e.code === "P2002" || e.code === "P2034")) return true;
  // a raw query's deadlock comes as P2010 with MariaDB's code in the message
  return /Deadlock found|Lock wait timeout|`1213`|`1205`|TransactionWriteConflict/.test(String((e as Error)?.message ?? ""));
}

/** Runs `fn` again (up to 10 times, after a short random pause) when MariaDB broke a lock wait or a unique race was lost. */
async function retrying<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (attempt >= 10 || !isRetryable(e)) throw e;
      await sleep(Math.floor(Math.random() * 10 * attempt));
    }
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface RaisedItem {
  kind: string;
  /** what groups it besides the kind (a domain, …); "" for one group per kind */
  cause: string;
  level: "info" | "warning" | "error";
  /** where the admin acts on it */
  link?: string;
  subject: string;
  label: string;
  /** in the admin's words */
  message: string;
  /** the raw error */
  details?: string;
}

/**
 * The key an item is found by: SHA-256 hex of the FULL subject. Subjects are stored whole
 * (TEXT; a certificate's names key can be 768 characters), never cut, so the sweep looks up
 * exactly what was raised and two long subjects sharing a prefix stay two items.
 */
export const subjectKeyOf = (subject: string): string => createHash("sha256").update(subject, "utf8").digest("hex");

export const notificationKeyOf = (kind: string, cause: string) => (cause ? `${kind}:${cause}` : kind).slice(0, 255);

/** A group box closed less than this ago re-opens on a new raise of its key (no new mail). */
export const REOPEN_WINDOW_MS = 30 * 60_000;

/** Deletes closed groups (with their items and read state) closed before `before`: the housekeeping purge, at the event retention. */
export async function purgeClosedNotifications(db: Client, before: Date): Promise<number> {
  return (await db.notification.deleteMany({ where: { dismissedAt: { lt: before } } })).count;
}

/** What raising changed: `raised` when the group is new or re-raised (new or re-opened item). */
export interface RaiseResult {
  notification: Notification;
  raised: boolean;
}

/**
 * Serialised per key: the open group carries `openKey` = its key (unique; null once closed),
 * locked with SELECT … FOR UPDATE under READ COMMITTED (no gap locks, so two first raises
 * cannot deadlock); when two raises both find no group, the second insert fails on the unique
 * key and that raise runs again, now finding and locking the group the first one made.
 */
export async function raiseNotification(db: Db, n: RaisedItem, now = new Date()): Promise<RaiseResult> {
  return retrying(() => raiseOnce(db, n, now));
}

async function raiseOnce(db: Db, n: RaisedItem, now: Date): Promise<RaiseResult> {
  const key = notificationKeyOf(n.kind, n.cause);
  return db.$transaction(
    async (tx) => {
      const [locked] = await tx.$queryRaw<{ id: string }[]>`SELECT \`id\` FROM \`Notification\` WHERE \`openKey\` = ${key} FOR UPDATE`;
      let group = locked ? await tx.notification.findUnique({ where: { id: locked.id } }) : null;
      if (!group) {
        // dismissed by an admin while its cause persists: stays closed (and quiet) until the
        // cause clears (the item closes) and comes back
        const held = await tx.notificationItem.findFirst({
          where: { subjectKey: subjectKeyOf(n.subject), closedAt: null, notification: { key, dismissedAt: { not: null }, dismissedBy: { not: "system" } } },
          include: { notification: true },
          orderBy: { createdAt: "desc" },
        });
        if (held) {
          await tx.notificationItem.update({
            where: { id: held.id },
            data: { label: n.label.slice(0, 255), message: n.message.slice(0, 4000), details: (n.details ?? "").slice(0, 8000) },
          });
          return { notification: held.notification, raised: false };
        }
        // a flapping cause (an app down, up, down …): the group box closed less than
        // REOPEN_WINDOW_MS ago opens again (unread again, but not mailed or posted again:
        // its emailedAt stays) instead of a new group, a mail and a webhook per cycle
        const recent = await tx.notification.findFirst({
          where: { key, dismissedBy: "system", dismissedAt: { gte: new Date(now.getTime() - REOPEN_WINDOW_MS) } },
          orderBy: { dismissedAt: "desc" },
        });
        if (recent) group = await tx.notification.update({ where: { id: recent.id }, data: { dismissedAt: null, dismissedBy: null, openKey: key, raisedAt: now } });
      }
      let raised = false;
      const created = !group;
      if (!group) {
        group = await tx.notification.create({
          data: {
            id: randomUUID(),
            key,
            openKey: key,
            kind: n.kind,
            level: n.level,
            title: notificationTitle(n.kind, 1, n.cause),
            message: "",
            target: n.cause.slice(0, 255),
            link: (n.link ?? "").slice(0, 512),
            raisedAt: now,
          },
        });
        raised = true;
      }
      const existing = await tx.notificationItem.findUnique({ where: { notificationId_subjectKey: { notificationId: group.id, subjectKey: subjectKeyOf(n.subject) } } });
      const fields = { label: n.label.slice(0, 255), message: n.message.slice(0, 4000), details: (n.details ?? "").slice(0, 8000) };
      if (!existing) {
        await tx.notificationItem.create({ data: { id: randomUUID(), notificationId: group.id, subject: n.subject, subjectKey: subjectKeyOf(n.subject), ...fields } });
        raised = true;
      } else {
        if (existing.closedAt) raised = true;
        await tx.notificationItem.update({ where: { id: existing.id }, data: { ...fields, closedAt: null } });
      }
      const open = await tx.notificationItem.count({ where: { notificationId: group.id, closedAt: null } });
      const level = group.level === "error" || n.level === "error" ? "error" : group.level === "warning" || n.level === "warning" ? "warning" : "info";
      const notification = await tx.notification.update({
        where: { id: group.id },
        data: {
          level,
          title: notificationTitle(n.kind, open, n.cause).slice(0, 255),
          ...(n.link ? { link: n.link.slice(0, 512) } : {}),
          ...(created ? {} : { count: { increment: 1 } }),
          ...(raised ? { raisedAt: now } : {}),
        },
      });
      return { notification, raised };
    },
    { isolationLevel: Prisma.TransactionIsolationLevel.ReadCommitted, maxWait: 10_000, timeout: 20_000 },
  );
}

/**
 * Closes the open items about these subjects (of one kind, or of any kind), then every group
 * left without an open item. Per group, in one transaction holding the group's row lock (the
 * lock a raise takes, see raiseNotification): a crash cannot leave an open group without open
 * items, and a concurrent raise cannot re-open an item of a group being closed. Returns how
 * many items it closed.
 */
export async function closeNotificationItems(db: Client, opts: { subjects: string[]; kind?: string }, now = new Date()): Promise<number> {
  if (opts.subjects.length === 0) return 0;
  const items = await db.notificationItem.findMany({
    // also items of groups an admin dismissed: their cause cleared, so the next raise opens anew
    where: { subjectKey: { in: opts.subjects.map(subjectKeyOf) }, closedAt: null, ...(opts.kind ? { notification: { kind: opts.kind } } : {}) },
    select: { id: true, notificationId: true },
  });
  let closed = 0;
  for (const groupId of new Set(items.map((i) => i.notificationId))) {
    const ids = items.filter((i) => i.notificationId === groupId).map((i) => i.id);
    closed += await withGroupLock(db, groupId, async (tx) => {
      const r = await tx.notificationItem.updateMany({ where: { id: { in: ids }, closedAt: null }, data: { closedAt: now } });
      await settleGroups(tx, [groupId], now);
      return r.count;
    });
  }
  return closed;
}

/** Closes open groups left without an open item (box's sweep; e.g. after a crash of an older version). */
export async function closeEmptyNotificationGroups(db: Client, now = new Date()): Promise<number> {
  const empty = await db.notification.findMany({ where: { dismissedAt: null, items: { some: {}, none: { closedAt: null } } }, select: { id: true } });
  let closed = 0;
  for (const g of empty) {
    closed += await withGroupLock(db, g.id, async (tx) => {
      const before = await tx.notification.findUnique({ where: { id: g.id }, select: { dismissedAt: true } });
      await settleGroups(tx, [g.id], now);
      const after = await tx.notification.findUnique({ where: { id: g.id }, select: { dismissedAt: true } });
      return before && !before.dismissedAt && after?.dismissedAt ? 1 : 0;
    });
  }
  return closed;
}

/** Runs `fn` in a READ COMMITTED transaction holding the group's row lock (or in the caller's transaction, taking it there). */
async function withGroupLock<T>(db: Client, groupId: string, fn: (tx: Prisma.TransactionClient) => Promise<T>): Promise<T> {
  const locked = async (tx: Prisma.TransactionClient) => {
    await tx.$queryRaw`SELECT \`id\` FROM \`Notification\` WHERE \`id\` = ${groupId} FOR UPDATE`;
    return fn(tx);
  };
  if (!("$transaction" in db)) return locked(db);
  return retrying(() => db.$transaction(locked, { isolationLevel: Prisma.TransactionIsolationLevel.ReadCommitted, maxWait: 10_000, timeout: 20_000 }));
}

/** Closes the groups among `ids` that have no open item left; retitles the others by their open count. */
async function settleGroups(db: Client, ids: string[], now: Date): Promise<void> {
  for (const id of ids) {
    const g = await db.notification.findUnique({ where: { id } });
    if (!g || g.dismissedAt) continue;
    const open = await db.notificationItem.count({ where: { notificationId: id, closedAt: null } });
    const cause = g.key.startsWith(`${g.kind}:`) ? g.key.slice(g.kind.length + 1) : "";
    if (open === 0) await db.notification.update({ where: { id }, data: { dismissedAt: now, dismissedBy: "system", openKey: null } });
    else await db.notification.update({ where: { id }, data: { title: notificationTitle(g.kind, open, cause).slice(0, 255) } });
  }
}

/**
 * The open items of a kind (box's sweep checks each subject still exists and still fails),
 * including those of groups an admin dismissed while their cause persists.
 */
export async function openNotificationItems(db: Client, kind: string): Promise<(NotificationItem & { notification: Notification })[]> {
  return db.notificationItem.findMany({ where: { closedAt: null, notification: { kind } }, include: { notification: true } });
}

export type NotificationWithItems = Notification & { items: NotificationItem[]; unread: boolean };

export async function listNotifications(db: Client, opts: { includeDismissed?: boolean; state?: "open" | "closed" | "all"; limit?: number; userId?: string } = {}): Promise<NotificationWithItems[]> {
  const state = opts.state ?? (opts.includeDismissed ? "all" : "open");
  const rows = await db.notification.findMany({
    where: state === "open" ? { dismissedAt: null } : state === "closed" ? { dismissedAt: { not: null } } : {},
    orderBy: [{ raisedAt: "desc" }, { id: "asc" }],
    take: Math.min(Math.max(opts.limit ?? 50, 1), 200),
    include: {
      // an open group shows its open items; a closed one what it had
      items: { orderBy: [{ label: "asc" }], take: 500 },
      reads: opts.userId ? { where: { userId: opts.userId } } : false,
    },
  });
  return rows.map(({ reads, items, ...n }) => ({
    ...n,
    items: n.dismissedAt ? items : items.filter((i) => !i.closedAt),
    unread: !n.dismissedAt && !(reads ?? []).some((r) => r.readAt >= n.raisedAt),
  }));
}

/** How many open notifications there are and how many of them this admin has not read. */
export async function notificationCounts(db: Client, userId: string): Promise<{ open: number; unread: number }> {
  const open = await db.notification.findMany({ where: { dismissedAt: null }, select: { id: true, raisedAt: true, reads: { where: { userId } } } });
  return { open: open.length, unread: open.filter((n) => !n.reads.some((r) => r.readAt >= n.raisedAt)).length };
}

export async function markNotificationRead(db: Client, id: string, userId: string, now = new Date()): Promise<void> {
  const n = await db.notification.findUnique({ where: { id }, select: { id: true } });
  if (!n) throw new HearthError("not_found", "No such notification");
  await db.notificationRead.upsert({ where: { notificationId_userId: { notificationId: id, userId } }, create: { notificationId: id, userId, readAt: now }, update: { readAt: now } });
}

/** Marks every open notification read for this admin; returns how many. */
export async function markAllNotificationsRead(db: Client, userId: string, now = new Date()): Promise<number> {
  const open = await db.notification.findMany({ where: { dismissedAt: null }, select: { id: true } });
  for (const n of open) {
    await db.notificationRead.upsert({ where: { notificationId_userId: { notificationId: n.id, userId } }, create: { notificationId: n.id, userId, readAt: now }, update: { readAt: now } });
  }
  return open.length;
}

/** Groups raised since they were last mailed (or never mailed): box's digest picks these. */
export async function notificationsToMail(db: Client): Promise<Notification[]> {
  const open = await db.notification.findMany({ where: { dismissedAt: null }, orderBy: { raisedAt: "asc" } });
  return open.filter((n) => !n.emailedAt || n.emailedAt < n.raisedAt);
}

export async function markNotificationMailed(db: Client, id: string, at = new Date()): Promise<void> {
  await db.notification.update({ where: { id }, data: { emailedAt: at } });
}

/**
 * An admin closes a group for everyone. Its open items stay open (their cause persists): a
 * raise of such an item keeps to this closed group (no new group, no mail) until the item's
 * cause clears and it closes; then the next raise opens a new group. `dismissed` is false
 * when it was closed already.
 */
export async function dismissNotification(db: Client, id: string, userId: string): Promise<{ notification: Notification; dismissed: boolean }> {
  const n = await db.notification.findUnique({ where: { id } });
  if (!n) throw new HearthError("not_found", "No such notification");
  if (n.dismissedAt) return { notification: n, dismissed: false };
  const r = await db.notification.updateMany({ where: { id, dismissedAt: null }, data: { dismissedAt: new Date(), dismissedBy: userId, openKey: null } });
  const after = await db.notification.findUnique({ where: { id } });
  return { notification: after ?? n, dismissed: r.count > 0 };
}

/** The kinds this user gets by email; null when never chosen (every kind). */
export async function getEmailKinds(db: Client, userId: string): Promise<string[] | null> {
  const p = await db.notificationPreference.findUnique({ where: { userId } });
  return p ? (p.emailKinds as string[]) : null;
}

export async function setEmailKinds(db: Client, userId: string, kinds: string[]): Promise<void> {
  await db.notificationPreference.upsert({ where: { userId }, create: { userId, emailKinds: kinds }, update: { emailKinds: kinds } });
}

/** Active owners and admins with an email address who get this kind by email. */
export async function notificationRecipients(db: Client, kind: string): Promise<{ id: string; email: string; username: string }[]> {
  const users = await db.user.findMany({
    where: { active: true, role: { in: ["owner", "admin"] }, email: { not: "" } },
    select: { id: true, email: true, username: true, notificationPreference: true },
    orderBy: { username: "asc" },
  });
  return users.filter((u) => !u.notificationPreference || (u.notificationPreference.emailKinds as string[]).includes(kind)).map((u) => ({ id: u.id, email: u.email, username: u.username }));
}
