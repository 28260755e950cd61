import { stat } from "node:fs/promises";
import path from "node:path";
import { HearthError } from "@hearth/contracts";
import { MANAGED_LABEL } from "../docker/docker";
import type { StepContext } from "../tasks/steps";
import { dataVolumeNameOf } from "../apps/container-spec";
import { TaskError } from "../tasks/registry";
import { cleanOutput, type AddonDeps } from "./common";
import type { AddonApp, AddonHandler, ProvisionResult } from "./handler";
import { MiB, SERVICE_ROLE_LABEL } from "./services";

/**
 * localstorage: the app's /app/data volume, which AppService makes for every app (and
 * removes on uninstall) — so provisioning gives no variables and teardown leaves the
 * volume to AppService (a running container still mounts it). Backup/restore/clear work on
 * the volume from a throw-away root container (the files belong to the app's users), with
 * numeric owners and modes kept.
 */
export const LOCALSTORAGE_FILE = "data.tar";
/** Any Hearth-built Debian image has tar; the base is there whenever the service images are. */
export const JOB_IMAGE = "localhost/hearth/base:bookworm";

export class LocalStorageAddon implements AddonHandler {
  readonly name = "localstorage" as const;
  constructor(private readonly d: AddonDeps) {}

  async provision(_app: AddonApp, options: Record<string, unknown>, _previous: Record<string, string> | null, _ctx: StepContext): Promise<ProvisionResult> {
    for (const k of Object.keys(options)) throw new TaskError(`the localstorage addon has no option "${k}"`, "invalid");
    return { env: {}, credentials: {} };
  }

  async deprovision(): Promise<void> {
    // the volume is the app's (AppService removes it with the app)
  }

  private async job(app: AddonApp, what: string, script: string, dir: string | null, readOnlyData: boolean): Promise<void> {
    const volume = dataVolumeNameOf(app.id);
    if (!(await this.d.docker.inspectVolume(volume))) throw new HearthError("not_found", `localstorage: the app has no volume ${volume}`);
    if (!(await this.d.docker.inspectImage(JOB_IMAGE))) throw new HearthError("bad_state", `the image ${JOB_IMAGE} is missing: build it with setup/images/build-all.sh`);
    const name = `${this.d.services.prefix}localstorage-${app.id}`;
    await this.d.docker.removeContainer(name); // left by a crash
    const r = await this.d.extras.runJob(
      {
        name,
        Image: JOB_IMAGE,
        Cmd: ["sh", "-c", `set -e; ${script}`],
        User: "0",
        Env: [`OWNER=${process.getuid?.() ?? 0}:${process.getgid?.() ?? 0}`],
        Labels: { [MANAGED_LABEL]: "true", [SERVICE_ROLE_LABEL]: "job", ...this.d.services.ownerLabels() },
        HostConfig: {
          Mounts: [
            { Type: "volume", Source: volume, Target: "/data", ReadOnly: readOnlyData },
            ...(dir ? [{ Type: "bind" as const, Source: path.resolve(dir), Target: "/backup", ReadOnly: !readOnlyData }] : []),
          ],
          NetworkMode: "none",
          ReadonlyRootfs: true,
          CapDrop: ["ALL"],
          CapAdd: ["CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID"],
          SecurityOpt: ["no-new-privileges:true"],
          Memory: 128 * MiB,
        },
      },
      3_600_000,
    );
    if (r.exitCode !== 0) throw new HearthError("external", `localstorage: ${what} failed (exit ${r.exitCode}): ${cleanOutput(r.output)}`);
  }

  async backup(app: AddonApp, _credentials: Record<string, string>, dir: string, ctx: StepContext): Promise<void> {
    // written as root into box's folder, then handed to box's user
    await this.job(
      app,
      "archiving /app/data",
      `tar --numeric-owner -C /data -cf /backup/${LOCALSTORAGE_FILE}.partial . && mv /backup/${LOCALSTORAGE_FILE}.partial /backup/${LOCALSTORAGE_FILE} && chown "$OWNER" /backup/${LOCALSTORAGE_FILE} && chmod 0600 /backup/${LOCALSTORAGE_FILE}`,
      dir,
      true,
    );
    ctx.log(`localstorage: /app/data archived (${(await stat(path.join(dir, LOCALSTORAGE_FILE))).size} bytes)`);
  }

  async clear(app: AddonApp, _credentials: Record<string, string>, ctx: StepContext): Promise<void> {
    await this.job(app, "emptying /app/data", "find /data -mindepth 1 -delete", null, false);
    ctx.log("localstorage: /app/data emptied");
  }

  async restore(app: AddonApp, _credentials: Record<string, string>, dir: string, ctx: StepContext): Promise<void> {
    if (!(await stat(path.join(dir, LOCALSTORAGE_FILE)).catch(() => null))) throw new HearthError("not_found", `localstorage: no ${LOCALSTORAGE_FILE} in ${dir}`);
    await this.job(app, "restoring /app/data", `find /data -mindepth 1 -delete; tar --numeric-owner -C /data -xpf /backup/${LOCALSTORAGE_FILE}`, dir, false);
    ctx.log("localstorage: /app/data restored");
  }
}
