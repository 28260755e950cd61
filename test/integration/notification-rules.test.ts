import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  appRunStatus,
  closeNotificationItems,
  dismissNotification,
  purgeClosedNotifications,
  raiseNotification,
  REOPEN_WINDOW_MS,
  listNotifications,
  markAllNotificationsRead,
  markNotificationRead,
  moveAppToUninstalled,
  notificationCounts,
  type Db,
} from "@hearth/db";
import { closeAppNotices, closeAppRecovered, closeTaskFailure, OOM_QUIET_MS, raiseAppNotice, raiseCertificateFailure, raiseTaskFailure, sweep } from "../../apps/box/src/notifications/notices";
import { NotificationSweep } from "../../apps/box/src/notifications/schedule";
import { migratedDatabase, type TestDatabase } from "../helpers/db";

/**
 * The grouping and closing rules of notifications on a real MariaDB (packages/db
 * repos/notifications.ts, apps/box/src/notifications/notices.ts): one open group per kind,
 * one item per subject; closing by subject closes only that kind's items and the group when
 * it is empty; an uninstalled app's notices close; read state is per admin; the disk notice
 * follows the threshold.
 */
let t: TestDatabase & { db: Db };
let tmp = "";
const DOMAIN = "rules.example";
const ADMIN_A = randomUUID();
const ADMIN_B = randomUUID();

async function app(subdomain: string): Promise<string> {
  const id = randomUUID();
  await t.db.app.create({
    data: {
      id,
      manifestId: "org.example.rules",
      manifest: { id: "org.example.rules", title: "Rules" },
      version: "1.0.0",
      subdomain,
      domain: DOMAIN,
      installState: "installed",
      memoryLimit: BigInt(64 << 20),
      env: {},
    },
  });
  return id;
}

beforeAll(async () => {
  t = await migratedDatabase("notifyrules");
  tmp = mkdtempSync(path.join(os.tmpdir(), "hearth-notify-rules-"));
  await t.db.domain.create({ data: { domain: DOMAIN, provider: "noop" } });
  for (const [id, username] of [
    [ADMIN_A, "a"],
    [ADMIN_B, "b"],
  ] as const) {
    await t.db.user.create({ data: { id, username, email: `${username}@rules.example`, role: "admin", passwordHash: "x" } });
  }
});

afterAll(async () => {
  await t?.drop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const open = async (kind: string) => (await listNotifications(t.db, { state: "open" })).filter((n) => n.kind === kind);

describe("notification rules", () => {
  it("apps down: one group for all apps, back up closes one item, uninstall closes the rest", async () => {
    const [wiki, chat] = [await app("wiki"), await app("chat")];
    await raiseAppNotice(t.db, "app_down", wiki, "{}");
    await raiseAppNotice(t.db, "app_down", chat, "{}");
    await raiseAppNotice(t.db, "app_oom", chat, "{}");
    await raiseTaskFailure(t.db, { id: "t0", type: "app.update", appId: chat, error: "boom" });
    let down = await open("app_down");
    expect(down).toHaveLength(1);
    expect(down[0]!.title).toBe("2 apps are down");
    expect(down[0]!.items.map((i) => i.label).sort()).toEqual([`chat.${DOMAIN}`, `wiki.${DOMAIN}`]);
    // back up: only that app's down item closes; the OOM notice stays
    await closeAppRecovered(t.db, wiki);
    down = await open("app_down");
    expect(down[0]!.title).toBe("1 app is down");
    expect(await open("app_oom")).toHaveLength(1);
    // uninstalled: everything about it closes, groups left empty close
    await moveAppToUninstalled(t.db, chat);
    await closeAppNotices(t.db, chat);
    expect(await open("app_down")).toHaveLength(0);
    expect(await open("app_oom")).toHaveLength(0);
    // its failed tasks (subject `<appId>:<type>`) too
    expect((await open("task_failed")).flatMap((g) => g.items).map((i) => i.subject)).not.toContain(`${chat}:app.update`);
    const closed = (await listNotifications(t.db, { state: "closed" })).filter((n) => n.kind === "app_down");
    expect(closed[0]!.dismissedBy).toBe("system");
  });

  it("a failed task raises per app and type; the same task succeeding closes it; the runner's own test tasks raise nothing", async () => {
    const id = await app("tasks");
    expect(await raiseTaskFailure(t.db, { id: "t1", type: "_fail", appId: null, error: "boom" })).toBeNull();
    await raiseTaskFailure(t.db, { id: "t2", type: "app.configure", appId: id, error: "connect ECONNREFUSED 10.0.0.5:3306" });
    await raiseTaskFailure(t.db, { id: "t3", type: "app.configure", appId: id, error: "connect ECONNREFUSED 10.0.0.5:3306" });
    const g = await open("task_failed");
    expect(g).toHaveLength(1);
    expect(g[0]!.items).toHaveLength(1);
    expect(g[0]!.items[0]!.label).toBe(`app configure of tasks.${DOMAIN}`);
    expect(g[0]!.items[0]!.message).toBe("The connection was refused: nothing answered on that address and port.");
    await closeTaskFailure(t.db, { type: "app.restart", appId: id });
    expect(await open("task_failed")).toHaveLength(1);
    await closeTaskFailure(t.db, { type: "app.configure", appId: id });
    expect(await open("task_failed")).toHaveLength(0);
  });

  it("read state is per admin and comes back when a new item joins", async () => {
    const [a1, a2] = [await app("r1"), await app("r2")];
    await raiseAppNotice(t.db, "app_down", a1, "{}");
    const [g] = await open("app_down");
    expect(await notificationCounts(t.db, ADMIN_A)).toEqual({ open: 1, unread: 1 });
    await markNotificationRead(t.db, g!.id, ADMIN_A);
    expect(await notificationCounts(t.db, ADMIN_A)).toEqual({ open: 1, unread: 0 });
    expect(await notificationCounts(t.db, ADMIN_B)).toEqual({ open: 1, unread: 1 });
    // the same item again: still read
    await raiseAppNotice(t.db, "app_down", a1, "{}");
    expect((await notificationCounts(t.db, ADMIN_A)).unread).toBe(0);
    // a new item: unread again
    await new Promise((r) => setTimeout(r, 5));
    await raiseAppNotice(t.db, "app_down", a2, "{}");
    expect((await notificationCounts(t.db, ADMIN_A)).unread).toBe(1);
    expect(await markAllNotificationsRead(t.db, ADMIN_B)).toBe(1);
    expect((await notificationCounts(t.db, ADMIN_B)).unread).toBe(0);
  });

  it("the sweep closes items of apps that are gone and follows the disk threshold", async () => {
    const gone = await app("gone");
    await raiseAppNotice(t.db, "app_down", gone, "{}");
    await t.db.app.delete({ where: { id: gone } });
    const deps = { db: t.db, certificateState: async () => "gone" as const, appStatus: (id: string) => appRunStatus(t.db, id) };
    let used = 0.95;
    const r = await sweep({ ...deps, diskUsed: async () => ({ path: tmp, used }) });
    expect(r.closed).toBeGreaterThanOrEqual(1);
    expect((await open("app_down")).flatMap((g) => g.items).map((i) => i.subject)).not.toContain(gone);
    const disk = await open("disk_full");
    expect(disk).toHaveLength(1);
    expect(disk[0]!.items[0]!.message).toContain("95 % full");
    used = 0.5;
    await sweep({ ...deps, diskUsed: async () => ({ path: tmp, used }) });
    expect(await open("disk_full")).toHaveLength(0);
  });

  // the sweep with the production app lookup and no certificates
  const sweepApps = (now?: Date) => sweep({ db: t.db, certificateState: async () => "gone", appStatus: (id) => appRunStatus(t.db, id), now });
  const openSubjects = async (kind: string) => (await open(kind)).flatMap((g) => g.items).map((i) => i.subject);

  it("an app recovering through a restart task (starting → healthy, never seen down → up by the monitor) has its down item closed by the sweep; a stopped app's too", async () => {
    const [back, still, stopped] = [await app("back"), await app("still"), await app("stopped")];
    for (const id of [back, still, stopped]) {
      await t.db.app.update({ where: { id }, data: { health: "unhealthy" } });
      await raiseAppNotice(t.db, "app_down", id, "{}");
    }
    await sweepApps();
    expect(await openSubjects("app_down")).toEqual(expect.arrayContaining([back, still, stopped]));
    // the restart task writes starting, then healthy, itself
    await t.db.app.update({ where: { id: back }, data: { health: "starting" } });
    await sweepApps();
    expect(await openSubjects("app_down")).toContain(back);
    await t.db.app.update({ where: { id: back }, data: { health: "healthy" } });
    await t.db.app.update({ where: { id: stopped }, data: { runState: "stopped" } });
    await sweepApps();
    const left = await openSubjects("app_down");
    expect(left).toContain(still);
    expect(left).not.toContain(back);
    expect(left).not.toContain(stopped);
  });

  it("an OOM item closes once the app has been healthy for OOM_QUIET_MS after the last kill, not before", async () => {
    const id = await app("oomy");
    await t.db.app.update({ where: { id }, data: { health: "healthy" } });
    await raiseAppNotice(t.db, "app_oom", id, "{}");
    await sweepApps();
    expect(await openSubjects("app_oom")).toContain(id);
    await sweepApps(new Date(Date.now() + OOM_QUIET_MS - 60_000));
    expect(await openSubjects("app_oom")).toContain(id);
    // unhealthy after the quiet time: still open
    await t.db.app.update({ where: { id }, data: { health: "unhealthy" } });
    await sweepApps(new Date(Date.now() + OOM_QUIET_MS + 60_000));
    expect(await openSubjects("app_oom")).toContain(id);
    await t.db.app.update({ where: { id }, data: { health: "healthy" } });
    await sweepApps(new Date(Date.now() + OOM_QUIET_MS + 60_000));
    expect(await openSubjects("app_oom")).not.toContain(id);
  });

  it("a dismissed group stays closed while its cause persists, and a new one opens when the cause clears and comes back", async () => {
    const id = await app("dismissed");
    await t.db.app.update({ where: { id }, data: { health: "unhealthy" } });
    await raiseAppNotice(t.db, "app_down", id, "{}");
    const [g] = (await open("app_down")).filter((n) => n.items.some((i) => i.subject === id));
    const d = await dismissNotification(t.db, g!.id, ADMIN_A);
    expect(d.dismissed).toBe(true);
    expect(d.notification.dismissedBy).toBe(ADMIN_A);
    expect((await dismissNotification(t.db, g!.id, ADMIN_B)).dismissed).toBe(false);
    expect(await openSubjects("app_down")).not.toContain(id);
    // still down, raised again (the monitor after a box restart): stays dismissed, nothing new to mail
    const again = await raiseAppNotice(t.db, "app_down", id, "{}");
    expect(again!.raised).toBe(false);
    expect(again!.notification.id).toBe(g!.id);
    expect(await openSubjects("app_down")).not.toContain(id);
    // the cause clears: the sweep closes the item of the dismissed group
    await t.db.app.update({ where: { id }, data: { health: "healthy" } });
    await sweepApps();
    expect((await t.db.notificationItem.findFirst({ where: { notificationId: g!.id, subject: id } }))!.closedAt).not.toBeNull();
    // and comes back: a new open group
    const back = await raiseAppNotice(t.db, "app_down", id, "{}");
    expect(back!.raised).toBe(true);
    expect(back!.notification.id).not.toBe(g!.id);
    expect(await openSubjects("app_down")).toContain(id);
  });

  it("10 concurrent raises of one key make one group holding all 10 items, without an error; 10 more of the same subjects add none", async () => {
    const cause = `race-${randomUUID().slice(0, 8)}.example`;
    const raise = (i: number) => raiseNotification(t.db, { kind: "cert_failing", cause, level: "error", subject: `n${i}.${cause}`, label: `n${i}.${cause}`, message: "failed", details: "boom" });
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => raise(i)));
    expect(results.filter((r) => r.status === "rejected")).toEqual([]);
    const groups = await t.db.notification.findMany({ where: { key: `cert_failing:${cause}` }, include: { items: true } });
    expect(groups).toHaveLength(1);
    expect(groups[0]!.dismissedAt).toBeNull();
    expect(groups[0]!.items.map((i) => i.subject).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `n${i}.${cause}`).sort());
    expect(groups[0]!.title).toContain("10");
    const again = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => raise(i)));
    expect(again.filter((r) => r.status === "rejected")).toEqual([]);
    expect(await t.db.notificationItem.count({ where: { notification: { key: `cert_failing:${cause}` } } })).toBe(10);
    expect(await t.db.notification.count({ where: { key: `cert_failing:${cause}` } })).toBe(1);
  });

  it("the sweep closes an open group left without an open item (a crash between closing its items and the group)", async () => {
    const id = await app("crashed");
    await t.db.app.update({ where: { id }, data: { health: "unhealthy" } });
    const r = await raiseAppNotice(t.db, "app_restarting", id, "{}");
    // what an interrupted close left behind: the item closed, the group still open
    await t.db.notificationItem.updateMany({ where: { notificationId: r!.notification.id }, data: { closedAt: new Date() } });
    expect((await t.db.notification.findUnique({ where: { id: r!.notification.id } }))!.dismissedAt).toBeNull();
    await sweepApps();
    const g = await t.db.notification.findUnique({ where: { id: r!.notification.id } });
    expect(g!.dismissedAt).not.toBeNull();
    expect(g!.dismissedBy).toBe("system");
    expect(g!.openKey).toBeNull();
    // raising again re-opens it (closed just now: a flapping cause, see the REOPEN_WINDOW_MS test) with the item open
    const again = await raiseAppNotice(t.db, "app_restarting", id, "{}");
    expect(again!.notification.dismissedAt).toBeNull();
    expect(await openSubjects("app_restarting")).toContain(id);
  });

  it("closing items while raises of the same group run concurrently leaves no open group without open items, and no error", async () => {
    const cause = `close-race-${randomUUID().slice(0, 8)}.example`;
    const key = `cert_failing:${cause}`;
    const raise = (i: number) => raiseNotification(t.db, { kind: "cert_failing", cause, level: "error", subject: `n${i}.${cause}`, label: `n${i}.${cause}`, message: "failed" });
    await Promise.all([0, 1, 2, 3].map(raise));
    const results = await Promise.allSettled([closeNotificationItems(t.db, { subjects: [0, 1, 2, 3].map((i) => `n${i}.${cause}`), kind: "cert_failing" }), ...[0, 1, 4, 5].map(raise)]);
    expect(results.filter((r) => r.status === "rejected")).toEqual([]);
    const groups = await t.db.notification.findMany({ where: { key }, include: { items: true } });
    const open = groups.filter((g) => !g.dismissedAt);
    expect(open.length).toBeLessThanOrEqual(1);
    for (const g of open) expect(g.items.some((i) => !i.closedAt)).toBe(true);
    for (const g of groups.filter((g) => g.dismissedAt)) expect(g.items.every((i) => i.closedAt)).toBe(true);
    // 4 and 5 were raised after or during the close: they are open somewhere
    const openSubjectsNow = open.flatMap((g) => g.items.filter((i) => !i.closedAt).map((i) => i.subject));
    expect(openSubjectsNow).toEqual(expect.arrayContaining([`n4.${cause}`, `n5.${cause}`]));
  });

  it("a certificate's renewal failing after expiry moves its item from 'expiring' to 'failing' (never both open), and back", async () => {
    const domain = `kinds-${randomUUID().slice(0, 8)}.example`;
    const f = { domain, namesKey: `a.${domain}`, names: [`a.${domain}`], error: "getaddrinfo ENOTFOUND acme.example" };
    const openOf = async (kind: string) => (await openSubjects(kind)).filter((s) => s === f.namesKey);
    await raiseCertificateFailure(t.db, { ...f, renewal: true, daysLeft: 3 });
    expect(await openOf("cert_expiring")).toHaveLength(1);
    await raiseCertificateFailure(t.db, { ...f, renewal: true, daysLeft: 0 });
    expect(await openOf("cert_failing")).toHaveLength(1);
    expect(await openOf("cert_expiring")).toHaveLength(0);
    await raiseCertificateFailure(t.db, { ...f, renewal: true, daysLeft: 20 });
    expect(await openOf("cert_expiring")).toHaveLength(1);
    expect(await openOf("cert_failing")).toHaveLength(0);
  });

  it("the sweep keeps a certificate item whose certificate is still served and still failing, and closes the one that works again", async () => {
    const domain = `swept-${randomUUID().slice(0, 8)}.example`;
    const failing = { domain, namesKey: `f.${domain}`, names: [`f.${domain}`], error: "connect ECONNREFUSED 10.0.0.5:443", renewal: false, daysLeft: 0 };
    const fixed = { ...failing, namesKey: `ok.${domain}`, names: [`ok.${domain}`] };
    await raiseCertificateFailure(t.db, failing);
    await raiseCertificateFailure(t.db, fixed);
    const states: Record<string, "failing" | "ok" | "gone"> = { [failing.namesKey]: "failing", [fixed.namesKey]: "ok" };
    await sweep({ db: t.db, certificateState: async (k) => states[k] ?? "gone", appStatus: (id) => appRunStatus(t.db, id) });
    const left = await openSubjects("cert_failing");
    expect(left).toContain(failing.namesKey);
    expect(left).not.toContain(fixed.namesKey);
    const [g] = (await open("cert_failing")).filter((n) => n.key === `cert_failing:${domain}`);
    expect(g!.title).toContain("1");
  });

  it("a certificate with 20 long names (its key over 255 characters) still failing stays open after the sweep, and closes when it works; two long keys sharing 255 characters are two items", async () => {
    const domain = `long-${randomUUID().slice(0, 8)}.example`;
    await t.db.domain.create({ data: { domain, provider: "noop" } });
    const names = Array.from({ length: 20 }, (_, i) => `service-${String(i).padStart(2, "0")}-name.${domain}`).sort();
    const namesKey = names.join(",");
    expect(namesKey.length).toBeGreaterThan(255);
    expect(namesKey.length).toBeLessThanOrEqual(768);
    // the real certificate row box's sweep reads (schedule.ts): still failing, its names served
    await t.db.certificate.create({ data: { id: randomUUID(), namesKey, names, domain, kind: "acme", failures: 2, lastError: "getaddrinfo ENOTFOUND service-00" } });
    await raiseCertificateFailure(t.db, { domain, namesKey, names, error: "getaddrinfo ENOTFOUND service-00", renewal: false, daysLeft: 0 });
    const boxSweep = new NotificationSweep({ db: t.db, dataDir: tmp, servedNames: async () => new Set(names), log: { info: () => {}, warn: () => {} } });
    const groupOf = async () => (await open("cert_failing")).find((n) => n.key === `cert_failing:${domain}`);

    await boxSweep.runOnce();
    const kept = await groupOf();
    expect(kept?.items.map((i) => i.subject)).toEqual([namesKey]);
    // raising it again finds the same item (no second one)
    await raiseCertificateFailure(t.db, { domain, namesKey, names, error: "getaddrinfo ENOTFOUND service-00", renewal: false, daysLeft: 0 });
    expect((await groupOf())?.items).toHaveLength(1);

    // the certificate works again: the sweep finds it by the full key and closes the item
    await t.db.certificate.update({ where: { namesKey }, data: { failures: 0, lastError: null } });
    await boxSweep.runOnce();
    expect(await groupOf()).toBeUndefined();

    // two keys that differ only after their first 255 characters
    const prefix = namesKey.slice(0, 255);
    const [k1, k2] = [`${prefix},a.${domain}`, `${prefix},b.${domain}`];
    await raiseCertificateFailure(t.db, { domain, namesKey: k1, names: [`a.${domain}`], error: "timeout", renewal: false, daysLeft: 0 });
    await raiseCertificateFailure(t.db, { domain, namesKey: k2, names: [`b.${domain}`], error: "timeout", renewal: false, daysLeft: 0 });
    const two = await groupOf();
    expect(two?.items.map((i) => i.subject).sort()).toEqual([k1, k2]);
    // closing one closes only that one
    await closeNotificationItems(t.db, { subjects: [k1], kind: "cert_failing" });
    expect((await groupOf())?.items.map((i) => i.subject)).toEqual([k2]);
  });

  it("a flapping cause re-opens the group box closed less than REOPEN_WINDOW_MS ago (unread, not mailed again); later a new group; old closed groups are purged", async () => {
    const cause = `flap-${randomUUID().slice(0, 8)}`;
    const item = { kind: "app_down", cause, level: "error" as const, subject: `app-${cause}`, label: "flappy", message: "down" };
    const t0 = new Date();
    const first = await raiseNotification(t.db, item, t0);
    const mailedAt = new Date(t0.getTime() + 31_000);
    await t.db.notification.update({ where: { id: first.notification.id }, data: { emailedAt: mailedAt } });
    await markNotificationRead(t.db, first.notification.id, ADMIN_A, new Date(t0.getTime() + 40_000));
    // up, then down again 10 minutes later
    await closeNotificationItems(t.db, { subjects: [item.subject], kind: "app_down" }, new Date(t0.getTime() + 60_000));
    const again = await raiseNotification(t.db, item, new Date(t0.getTime() + 10 * 60_000));
    expect(again.notification.id).toBe(first.notification.id);
    expect(again.notification.dismissedAt).toBeNull();
    expect(again.notification.emailedAt).toEqual(mailedAt);
    expect((await open("app_down")).find((g) => g.id === first.notification.id)).toBeDefined();
    const [mine] = (await listNotifications(t.db, { state: "open", userId: ADMIN_A })).filter((g) => g.id === first.notification.id);
    expect(mine!.unread).toBe(true);
    // up again, and down after the window: a new group (mailed as new)
    const closedAt = new Date(t0.getTime() + 11 * 60_000);
    await closeNotificationItems(t.db, { subjects: [item.subject], kind: "app_down" }, closedAt);
    const later = await raiseNotification(t.db, item, new Date(closedAt.getTime() + REOPEN_WINDOW_MS + 60_000));
    expect(later.notification.id).not.toBe(first.notification.id);
    expect(later.notification.emailedAt).toBeNull();
    // the purge deletes closed groups closed before its date, and only those
    expect(await purgeClosedNotifications(t.db, new Date(closedAt.getTime() + 1))).toBeGreaterThanOrEqual(1);
    expect(await t.db.notification.findUnique({ where: { id: first.notification.id } })).toBeNull();
    expect(await t.db.notification.findUnique({ where: { id: later.notification.id } })).not.toBeNull();
  });
});
