import { execFileSync, spawnSync, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hearthManifest, type HearthManifestInput } from "@hearth/contracts";
import { createTask, getTask, type Db } from "@hearth/db";
import { BACKUP_COMPLETE_FILE } from "../../apps/box/src/apps/apps.service";
import { containerNameOf } from "../../apps/box/src/apps/container-spec";
import { taskLogPath } from "../../apps/box/src/tasks/task-log";
import { insertPendingApp } from "../helpers/app-rows";
import { killBox, startTestBox, waitFor, type TestBoxProcess } from "../helpers/box-process";
import { migratedDatabase, REPO_ROOT, type TestDatabase } from "../helpers/db";
import { removeTestDockerObjects } from "../helpers/teardown";
import { ensureTestImages, testHttpdManifest } from "../helpers/test-images";

/**
 * A real box (HEARTH_SERVICES=off: localstorage only) killed with -9 in the middle of an
 * app.update at several steps (HEARTH_TEST_APP_STEP_DELAY_MS gives each step a pause); a new
 * box resumes the task from the start and the app ends updated, once, with its /app/data.
 */
const tmpRoot = mkdtempSync(path.join(os.tmpdir(), "hearth-update-kill-"));
const dataDir = path.join(tmpRoot, "box-data");
let t: TestDatabase & { db: Db };
let db: Db;
let box: ChildProcess | null = null;
const appIds: string[] = [];
const DOMAIN = "update-kill.example";

const manifest = (version: string, over: Partial<HearthManifestInput> = {}) => hearthManifest.parse(testHttpdManifest("org.hearth.test.update-kill", "Update kill", { version, ...over }));

function startBox(extraEnv: Record<string, string> = {}): TestBoxProcess {
  const b = startTestBox({ databaseUrl: t.url, dataDir, boxId: "update-kill-test", env: extraEnv });
  box = b.child;
  return b;
}
const readLog = (taskId: string) => (existsSync(taskLogPath(dataDir, taskId)) ? readFileSync(taskLogPath(dataDir, taskId), "utf8") : "");
const finished = (id: string) =>
  waitFor(
    `task ${id} to finish`,
    async () => {
      const tk = await getTask(db, id);
      return tk && (tk.state === "succeeded" || tk.state === "failed") ? tk : null;
    },
    90_000,
  );
const names = (args: string[]) => execFileSync("docker", args, { encoding: "utf8" }).split("\n").filter(Boolean);

beforeAll(async () => {
  ensureTestImages();
  const r = spawnSync(path.join(REPO_ROOT, "setup/images/base/build.sh"), [], { encoding: "utf8", timeout: 900_000 });
  if (r.status !== 0) throw new Error(`base image: ${r.stdout}${r.stderr}`);
  t = await migratedDatabase("updatekill");
  db = t.db;
  await db.domain.create({ data: { domain: DOMAIN, provider: "noop", isDashboardDomain: true } });
  mkdirSync(dataDir, { recursive: true });
}, 900_000);

afterAll(async () => {
  if (box) await killBox(box);
  await removeTestDockerObjects({ appIds, dataDir: tmpRoot, database: t });
}, 120_000);

describe("box killed with -9 in the middle of an update", () => {
  for (const marker of ["backing up the app before the update", "switching the app to version", "creating the container", "waiting for the app to answer"]) {
    it(`resumes and ends updated (killed at "${marker}")`, async () => {
      const id = randomUUID();
      appIds.push(id);
      const v1 = manifest("1.0.0");
      const v2 = manifest("2.0.0");
      await insertPendingApp(db, v1, { id, subdomain: `k${appIds.length}`, domain: DOMAIN });
      const install = await createTask(db, { type: "app.install", appId: id, args: { appId: id } });
      let b = startBox();
      await b.ready;
      expect((await finished(install.id)).state).toBe("succeeded");
      execFileSync("docker", ["exec", containerNameOf(id), "/bin/busybox", "sh", "-c", `echo kept-${id} > /app/data/keep.txt`]);
      await killBox(b.child);

      await db.app.update({ where: { id }, data: { installState: "pending_update" } });
      const task = await createTask(db, { type: "app.update", appId: id, args: { appId: id, manifest: v2, fromManifest: v1 } });
      b = startBox({ HEARTH_TEST_APP_STEP_DELAY_MS: "1000" });
      await b.ready;
      await waitFor(`"${marker}" in the task log`, () => readLog(task.id).includes(marker), 90_000);
      await killBox(b.child);
      expect((await getTask(db, task.id))!.state).toBe("running");

      b = startBox();
      await b.ready;
      const done = await finished(task.id);
      expect(done.state, `${done.errorCode}: ${done.errorMessage}\n${readLog(task.id)}`).toBe("succeeded");
      expect(done.attempts).toBe(2);
      await killBox(b.child);
      box = null;

      const app = await db.app.findUniqueOrThrow({ where: { id } });
      expect(app).toMatchObject({ version: "2.0.0", installState: "installed", health: "healthy", errorCode: null });
      expect(names(["ps", "-aq", "--filter", `label=hearth.app=${id}`])).toHaveLength(1);
      expect(execFileSync("docker", ["exec", containerNameOf(id), "/bin/busybox", "cat", "/app/data/keep.txt"], { encoding: "utf8" }).trim()).toBe(`kept-${id}`);
      expect(existsSync(path.join(dataDir, "backups", "apps", id, `pre-update-${task.id}`, BACKUP_COMPLETE_FILE))).toBe(true);
      console.log(`update-kill (${marker}): ${readLog(task.id).includes("reusing it") ? "reused the backup" : "made the backup again"}`);
    }, 240_000);
  }
});
