import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTask, getTask, listNotifications, type Db } from "@hearth/db";
import { taskOutcomeNotifier } from "../../apps/box/src/notifications/notices";
import { TaskRegistry } from "../../apps/box/src/tasks/registry";
import { prismaTaskStore } from "../../apps/box/src/tasks/task-store";
import { TaskRunner } from "../../apps/box/src/tasks/tasks.service";
import { migratedDatabase, type TestDatabase } from "../helpers/db";

/**
 * A task failed by a box restart (`interrupted`: its process died while it ran, and it cannot
 * resume) tells the admins like any failed task, through the runner's onFinished hook as box
 * wires it (taskOutcomeNotifier), on the real MariaDB.
 */
let t: TestDatabase & { db: Db };
let tmp = "";
const log = { info() {}, warn() {}, error() {}, debug() {} } as never;

beforeAll(async () => {
  t = await migratedDatabase("notifyinterrupted");
  tmp = mkdtempSync(path.join(os.tmpdir(), "hearth-notify-interrupted-"));
});
afterAll(async () => {
  await t?.drop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe("interrupted tasks", () => {
  it("a task left running by box's dead previous process fails as interrupted at start and raises a task-failed notification", async () => {
    const boxId = `test-${randomUUID().slice(0, 8)}`;
    const task = await createTask(t.db, { type: "box.update" });
    // the previous process of this box claimed it and died
    await t.db.task.update({ where: { id: task.id }, data: { state: "running", attempts: 1, leasedBy: `${boxId}/dead`, leaseExpiresAt: new Date(Date.now() + 600_000), startedAt: new Date() } });
    const runner = new TaskRunner({
      store: prismaTaskStore(t.db),
      // box.update is not resumable here (no definition): it fails as interrupted
      registry: new TaskRegistry([]),
      boxId,
      leasedBy: `${boxId}/${randomUUID()}`,
      dataDir: tmp,
      pollMs: 60_000,
      leaseMs: 30_000,
      concurrency: 1,
      log,
      onFinished: taskOutcomeNotifier(t.db),
    });
    const recovered = await runner.recoverAtStartup();
    expect(recovered).toEqual([expect.objectContaining({ id: task.id, action: "fail", appId: null })]);
    expect(await getTask(t.db, task.id)).toMatchObject({ state: "failed", errorCode: "interrupted" });
    const failed = (await listNotifications(t.db, { state: "open" })).filter((n) => n.kind === "task_failed");
    expect(failed).toHaveLength(1);
    expect(failed[0]!.items.map((i) => i.subject)).toEqual(["box:box.update"]);
    expect(failed[0]!.items[0]!.details).toContain("box restarted while the task was running");
    await runner.stop();
  });
});
