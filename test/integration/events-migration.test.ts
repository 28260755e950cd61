import { cp, mkdtemp, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { SETTING_NAMES } from "@hearth/contracts";

/** The settings keys of 20261203184500_event_target_name's backfill. */
const SETTINGS_AT_MIGRATION = ["acme", "network", "mail.outbound", "housekeeping.retention", "apps.uninstallRetentionDays"];
import { migrate } from "@hearth/db";
import { emptyDatabase, MIGRATIONS_DIR, type TestDatabase } from "../helpers/db";

/**
 * 20261203184500_event_target_name on a database that already has events: the target's type
 * follows the action, apps get "Title (host)" from their App row, else from their
 * UninstalledApp row, everything else keeps its target as its name, and an app nothing
 * knows any more keeps an empty name (the dashboard then shows its id).
 */
const MINE = "20261203184500_event_target_name";
const dbs: TestDatabase[] = [];
const dirs: string[] = [];

afterAll(async () => {
  for (const d of dbs) await d.drop();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe(MINE, () => {
  it("backfills the target's type and name of existing events", async () => {
    const d = await emptyDatabase("evmig");
    dbs.push(d);
    const before = await mkdtemp(path.join(os.tmpdir(), "hearth-evmig-"));
    dirs.push(before);
    for (const name of await readdir(MIGRATIONS_DIR)) {
      if (name < MINE) await cp(path.join(MIGRATIONS_DIR, name), path.join(before, name), { recursive: true });
    }
    await migrate(d.url, { migrationsDir: before });

    await d.sql("INSERT INTO `Domain` (`domain`, `provider`, `updatedAt`) VALUES ('mig.test', 'noop', NOW(3))");
    await d.sql(
      "INSERT INTO `App` (`id`, `manifestId`, `manifest`, `version`, `subdomain`, `domain`, `installState`, `memoryLimit`, `env`, `updatedAt`) VALUES ('app-live', 'org.example.wiki', ?, '1.0.0', 'wiki', 'mig.test', 'installed', 67108864, '{}', NOW(3)), ('app-apex', 'org.example.home', '{}', '1.0.0', '', 'mig.test', 'installed', 67108864, '{}', NOW(3))",
      [JSON.stringify({ id: "org.example.wiki", title: 'Team Wiki, "v2"' })],
    );
    await d.sql(
      "INSERT INTO `UninstalledApp` (`id`, `manifestId`, `title`, `version`, `subdomain`, `domain`, `snapshot`, `purgeAfter`) VALUES ('app-kept', 'org.example.blog', 'Blog', '1.0.0', 'blog', 'mig.test', '{}', NOW(3))",
    );
    const events: [string, string][] = [
      ["app.install", "app-live"],
      ["app.down", "app-apex"],
      ["app.uninstall", "app-kept"],
      ["app.purge", "app-gone"],
      ["domain.add", "mig.test"],
      ["user.login_failed", "nobody"],
      ["token.create", "laptop"],
      ["settings.mail", "mail.outbound"],
      ["settings.acme", "acme"],
      ["mail.test", "a@b.example"],
      ["dns.record_conflict", "x.mig.test"],
      ["housekeeping.purge", ""],
    ];
    for (const [action, target] of events) await d.sql("INSERT INTO `Event` (`action`, `target`) VALUES (?, ?)", [action, target]);
    // every setting that existed when the migration was written, with its name as recordEvent
    // gives it now (settings added later never had an event before the migration ran)
    for (const key of SETTINGS_AT_MIGRATION) await d.sql("INSERT INTO `Event` (`action`, `target`) VALUES ('settings.x', ?)", [key]);

    await migrate(d.url, { migrationsDir: MIGRATIONS_DIR });
    const rows = await d.sql<{ action: string; target: string; targetType: string; targetName: string }[]>("SELECT `action`, `target`, `targetType`, `targetName` FROM `Event` ORDER BY `id`");
    expect(rows.map((r) => [r.action, r.targetType, r.targetName])).toEqual([
      ["app.install", "app", 'Team Wiki, "v2" (wiki.mig.test)'],
      // no title in the manifest: the manifest id; an app at the apex: the domain
      ["app.down", "app", "org.example.home (mig.test)"],
      ["app.uninstall", "app", "Blog (blog.mig.test)"],
      ["app.purge", "app", ""],
      ["domain.add", "domain", "mig.test"],
      ["user.login_failed", "user", "nobody"],
      ["token.create", "token", "laptop"],
      ["settings.mail", "setting", "Mail relay"],
      ["settings.acme", "setting", "Certificate authority (ACME)"],
      ["mail.test", "email", "a@b.example"],
      ["dns.record_conflict", "", "x.mig.test"],
      ["housekeeping.purge", "", ""],
      ...SETTINGS_AT_MIGRATION.map((key) => ["settings.x", "setting", SETTING_NAMES[key]]),
    ]);
  });
});
