import { cp, mkdtemp, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { closeNotificationItems, createDb, listNotifications, migrate, raiseNotification, subjectKeyOf, type Db } from "@hearth/db";
import { emptyDatabase, MIGRATIONS_DIR, type TestDatabase } from "../helpers/db";

/**
 * 20261203233000_notification_subject_key on a database that already has notification
 * items: every row gets the SHA-256 key of its stored subject (the same key
 * packages/db's subjectKeyOf computes, also for non-ASCII subjects), so a raise of the same
 * subject after the upgrade finds the existing item instead of adding a second one, and
 * closing by subject still closes it.
 */
const MINE = "20261203233000_notification_subject_key";
const dbs: TestDatabase[] = [];
const dirs: string[] = [];
let db: Db | null = null;

afterAll(async () => {
  await db?.$disconnect();
  for (const d of dbs) await d.drop();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe(MINE, () => {
  it("backfills the subject key of existing items; raises and closes after the upgrade find them", async () => {
    const d = await emptyDatabase("notifsubj");
    dbs.push(d);
    const before = await mkdtemp(path.join(os.tmpdir(), "hearth-notifsubj-"));
    dirs.push(before);
    for (const name of await readdir(MIGRATIONS_DIR)) {
      if (name < MINE) await cp(path.join(MIGRATIONS_DIR, name), path.join(before, name), { recursive: true });
    }
    await migrate(d.url, { migrationsDir: before });

    await d.sql(
      "INSERT INTO `Notification` (`id`, `key`, `openKey`, `kind`, `level`, `title`, `message`, `updatedAt`) VALUES ('g1', 'cert_failing:mig.test', 'cert_failing:mig.test', 'cert_failing', 'error', 'Certificates failing for 2 names on mig.test', '', NOW(3))",
    );
    const subjects = ["a.mig.test,b.mig.test", "bücher.mig.test"];
    for (const [i, s] of subjects.entries()) {
      await d.sql("INSERT INTO `NotificationItem` (`id`, `notificationId`, `subject`, `label`, `message`, `details`, `updatedAt`) VALUES (?, 'g1', ?, ?, 'fails', '', NOW(3))", [`i${i}`, s, s]);
    }

    await migrate(d.url, { migrationsDir: MIGRATIONS_DIR });
    const rows = await d.sql<{ subject: string; subjectKey: string }[]>("SELECT `subject`, `subjectKey` FROM `NotificationItem` ORDER BY `id`");
    expect(rows).toEqual(subjects.map((s) => ({ subject: s, subjectKey: subjectKeyOf(s) })));

    db = createDb(d.url);
    await raiseNotification(db, { kind: "cert_failing", cause: "mig.test", level: "error", subject: "bücher.mig.test", label: "bücher.mig.test", message: "still fails" });
    let [g] = await listNotifications(db, { state: "open" });
    expect(g!.id).toBe("g1");
    expect(g!.items.map((i) => [i.subject, i.message]).sort()).toEqual([
      ["a.mig.test,b.mig.test", "fails"],
      ["bücher.mig.test", "still fails"],
    ]);
    expect(await closeNotificationItems(db, { subjects: ["a.mig.test,b.mig.test"], kind: "cert_failing" })).toBe(1);
    [g] = await listNotifications(db, { state: "open" });
    expect(g!.items.map((i) => i.subject)).toEqual(["bücher.mig.test"]);
  });
});
