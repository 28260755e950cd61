import { randomUUID } from "node:crypto";
import { HearthError } from "@hearth/contracts";
import type { Db, Notification, Prisma } from "../client";

/**
 * Notifications for admins. `notify` with the same key while an earlier one is not
 * dismissed updates that one (new message, count + 1) instead of piling up copies; once
 * dismissed, the next occurrence is a new notification. `resolveNotifications` dismisses
 * by key when the problem went away by itself (e.g. the certificate was renewed after all).
 */
type Client = Db | Prisma.TransactionClient;

export interface NewNotification {
  key: string;
  level: "info" | "warning" | "error";
  title: string;
  message: string;
  target?: string;
}

export async function notify(db: Client, n: NewNotification): Promise<Notification> {
  const open = await db.notification.findFirst({ where: { key: n.key, dismissedAt: null }, orderBy: { createdAt: "desc" } });
  const fields = { level: n.level, title: n.title.slice(0, 255), message: n.message.slice(0, 8000), target: (n.target ?? "").slice(0, 255) };
  if (open) return db.notification.update({ where: { id: open.id }, data: { ...fields, count: { increment: 1 } } });
  return db.notification.create({ data: { id: randomUUID(), key: n.key.slice(0, 255), ...fields } });
}

export async function resolveNotifications(db: Client, key: string): Promise<number> {
  return (await db.notification.updateMany({ where: { key, dismissedAt: null }, data: { dismissedAt: new Date(), dismissedBy: "system" } })).count;
}

export async function listNotifications(db: Client, opts: { includeDismissed?: boolean; limit?: number } = {}): Promise<Notification[]> {
  return db.notification.findMany({
    where: opts.includeDismissed ? {} : { dismissedAt: null },
    orderBy: [{ updatedAt: "desc" }, { id: "asc" }],
    take: Math.min(Math.max(opts.limit ?? 50, 1), 200),
  });
}

export async function dismissNotification(db: Client, id: string, userId: string): Promise<Notification> {
  const n = await db.notification.findUnique({ where: { id } });
  if (!n) throw new HearthError("not_found", "No such notification");
  if (n.dismissedAt) return n;
  return db.notification.update({ where: { id }, data: { dismissedAt: new Date(), dismissedBy: userId } });
}
