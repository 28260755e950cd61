import { orphanDeleteTaskArgs } from "@hearth/contracts";
import { getOrphan, knownAppIds, removeOrphanRow, resetOrphan, type Db, type OrphanKind } from "@hearth/db";
import { APP_LABEL, MANAGED_LABEL, OWNER_LABEL, type DockerApi } from "../docker/docker";
import { defineTask, TaskError, type TaskDefinition } from "../tasks/registry";
import type { AddonHandler } from "../addons/handler";
import type { StepContext } from "../tasks/steps";
import { networkNameOf } from "./container-spec";

/**
 * Orphans: what box finds of this store that belongs to no app. Two rules:
 *  - data (volumes, addon databases, Redis data) is never deleted by box on its own: the
 *    reconciler reports it (Orphan rows, event `orphan.found`, a notification) and only an
 *    admin's delete (an `orphan.delete` task) removes it;
 *  - containers and networks (no data) may be collected, but only when `mayCollect` says so.
 */

export interface CollectContext {
  /** App rows now (uninstalled apps with kept data do not count) */
  appCount: number;
  oldestAppCreatedAt: Date | null;
  /** when this store's identity was made */
  storeCreatedAt: Date;
}

/**
 * The pause rule for containers and networks without an app: box removes one only when the
 * App table is not empty and the object is younger than both the oldest App row and the
 * store's identity. An object made before them was made by a store this database does not
 * remember (a restored older dump, a fresh database at the same URL): leave it alone. An
 * object whose creation time is unknown is left alone too.
 */
export function mayCollect(createdAt: Date | null | undefined, c: CollectContext): { ok: true } | { ok: false; reason: string } {
  if (c.appCount === 0 || !c.oldestAppCreatedAt) return { ok: false, reason: "the App table is empty" };
  if (!createdAt) return { ok: false, reason: "its creation time is unknown" };
  if (createdAt.getTime() < c.oldestAppCreatedAt.getTime()) return { ok: false, reason: "it is older than the oldest app" };
  if (createdAt.getTime() < c.storeCreatedAt.getTime()) return { ok: false, reason: "it is older than the store's identity" };
  return { ok: true };
}

/** Data of one kind that apps own, found by app id; removed only through `remove` by the orphan.delete task. */
export interface OrphanSource {
  kind: OrphanKind;
  /** What exists now; null when it cannot be listed now (then nothing of this kind is concluded). */
  list(): Promise<{ appId: string; name: string }[] | null>;
  remove(o: { appId: string; name: string }, ctx: StepContext): Promise<void>;
}

/** The apps' /app/data volumes labelled with one of `owners` (this store's labels). */
export function volumeSource(docker: DockerApi, owners: readonly string[]): OrphanSource {
  return {
    kind: "volume",
    async list() {
      const out: { appId: string; name: string }[] = [];
      for (const owner of owners) {
        for (const v of await docker.listVolumes({ [OWNER_LABEL]: owner })) {
          const appId = v.labels[APP_LABEL];
          if (appId) out.push({ appId, name: v.name });
        }
      }
      return out;
    },
    async remove(o, ctx) {
      const v = await docker.inspectVolume(o.name);
      if (!v) return ctx.log(`the volume ${o.name} is already gone`);
      if (v.labels[MANAGED_LABEL] !== "true" || v.labels[APP_LABEL] !== o.appId || !owners.includes(v.labels[OWNER_LABEL] ?? "")) {
        throw new TaskError(`the volume ${o.name} is not this store's volume of app ${o.appId}; not deleting it`, "conflict");
      }
      ctx.log(`deleting the volume ${o.name}`);
      await docker.removeVolume(o.name);
    },
  };
}

/** An addon's data (database, Redis instance) as an orphan source, through its handler. */
export function addonSource(h: AddonHandler): OrphanSource | null {
  if (!h.appsWithData || (h.name !== "mysql" && h.name !== "postgresql" && h.name !== "redis")) return null;
  const kind: OrphanKind = h.name;
  return {
    kind,
    list: () => h.appsWithData!(),
    async remove(o, ctx) {
      ctx.log(`deleting the ${kind} data ${o.name} of the app ${o.appId}`);
      // credentials null: the handler removes what dbNameOf/ownerId name (the same names it made)
      await h.deprovision({ id: o.appId, fqdn: "", domain: "", subdomain: "", network: networkNameOf(o.appId) }, null, ctx);
    },
  };
}

/**
 * orphan.delete {orphanId}: queued by admin after the admin typed the orphan's name. Checks
 * again that no App or UninstalledApp row claims it (an app restored meanwhile keeps it),
 * deletes it, then drops the row. A failed delete puts the row back to `found`.
 */
export function orphanTasks(d: { db: Db; sources: () => readonly OrphanSource[] }): TaskDefinition[] {
  return [
    defineTask({
      type: "orphan.delete",
      resumable: true,
      args: orphanDeleteTaskArgs,
      run: async (ctx) => {
        const o = await getOrphan(d.db, ctx.args.orphanId);
        if (!o) {
          ctx.log("the orphan is gone already");
          return { deleted: false };
        }
        try {
          const { ids } = await knownAppIds(d.db);
          if (ids.has(o.appId)) {
            await removeOrphanRow(d.db, o.id);
            throw new TaskError(`${o.name} belongs to an app again (${o.appId}); it is not an orphan and was not deleted`, "bad_state");
          }
          const src = d.sources().find((s) => s.kind === o.kind);
          if (!src) throw new TaskError(`this box cannot delete ${o.kind} data now (the addon is not available)`, "bad_state");
          await ctx.progress(20, `deleting ${o.name}`);
          await src.remove({ appId: o.appId, name: o.name }, ctx);
          await removeOrphanRow(d.db, o.id);
          await ctx.progress(100, `deleted ${o.name}`);
          return { deleted: true, kind: o.kind, name: o.name };
        } catch (e) {
          if (!ctx.signal.aborted) await resetOrphan(d.db, o.id);
          throw e;
        }
      },
    }),
  ] as TaskDefinition[];
}
