import { stat } from "node:fs/promises";
import path from "node:path";
import { HearthError } from "@hearth/contracts";
import { MANAGED_LABEL } from "../docker/docker";
import type { StepContext } from "../tasks/steps";
import { TaskError } from "../tasks/registry";
import { cleanOutput, need, randomPassword, type AddonDeps } from "./common";
import type { AddonApp, AddonHandler, ProvisionResult } from "./handler";
import { MiB, SERVICE_LABEL, SERVICE_ROLE_LABEL } from "./services";

/**
 * redis: one Redis container per app (ServiceManager.ensureRedis), only on the app's own
 * network under the name `redis`, with a random password: another app's network has no
 * route to it at all. Backup = an RDB snapshot (SAVE, then dump.rdb copied out through an
 * exec); restore = stop, put dump.rdb in place of the data (the image's start script turns
 * it into the append-only file), start.
 */
export const REDIS_ALIAS = "redis";
export const REDIS_DUMP_FILE = "dump.rdb";
const PORT = 6379;
/** redis-cli with the password from the mounted file, through the environment, never argv. */
const cli = (...args: string[]) => ["sh", "-c", 'REDISCLI_AUTH="$(cat "$HEARTH_PASSWORD_FILE")" exec redis-cli --no-auth-warning "$@"', "redis-cli", ...args];

export function redisOptions(options: Record<string, unknown>): void {
  for (const k of Object.keys(options)) throw new TaskError(`the redis addon has no option "${k}"`, "invalid");
}

export class RedisAddon implements AddonHandler {
  readonly name = "redis" as const;
  constructor(private readonly d: AddonDeps) {}

  private ensure(app: AddonApp, password: string) {
    return this.d.services.ensureRedis({ ownerId: app.id, password, network: app.network, alias: REDIS_ALIAS });
  }

  async provision(app: AddonApp, options: Record<string, unknown>, previous: Record<string, string> | null, ctx: StepContext): Promise<ProvisionResult> {
    redisOptions(options);
    const password = previous?.password || randomPassword();
    ctx.log(`redis: its own instance ${this.d.services.containerName("redis", app.id)}`);
    const ep = await this.ensure(app, password);
    return {
      env: {
        HEARTH_REDIS_URL: `redis://default:${encodeURIComponent(password)}@${ep.host}:${PORT}`,
        HEARTH_REDIS_HOST: ep.host,
        HEARTH_REDIS_PORT: String(PORT),
        HEARTH_REDIS_PASSWORD: password,
      },
      credentials: { password },
    };
  }

  async deprovision(app: AddonApp, _credentials: Record<string, string> | null, ctx: StepContext): Promise<void> {
    ctx.log("redis: removing the instance and its data");
    await this.d.services.removeRedis(app.id);
  }

  async detach(app: AddonApp, _credentials: Record<string, string> | null, ctx: StepContext): Promise<void> {
    ctx.log("redis: the data is kept; the instance stops and leaves the app's network");
    await this.d.services.removeRedisContainer(app.id);
  }

  async appsWithData(): Promise<{ appId: string; name: string }[] | null> {
    return (await this.d.services.redisOwners()).map((appId) => ({ appId, name: this.d.services.containerName("redis", appId) }));
  }

  private async run(container: string, args: string[], what: string): Promise<string> {
    const r = await this.d.docker.exec(container, cli(...args));
    const out = r.output.trim();
    if (r.exitCode !== 0 || /^(ERR|WRONGPASS|NOAUTH)/m.test(out)) throw new HearthError("external", `redis: ${what} failed (exit ${r.exitCode}): ${cleanOutput(out)}`);
    return out;
  }

  async backup(app: AddonApp, credentials: Record<string, string>, dir: string, ctx: StepContext): Promise<void> {
    const c = need(credentials, ["password"], "redis");
    const ep = await this.ensure(app, c.password!);
    // a foreground snapshot: small per-app datasets, and the file is complete when it answers
    await this.run(ep.container, ["SAVE"], "saving a snapshot");
    const file = path.join(dir, REDIS_DUMP_FILE);
    const r = await this.d.extras.execToFile(ep.container, ["cat", "/var/lib/redis/dump.rdb"], file);
    if (r.exitCode !== 0) throw new HearthError("external", `redis: copying the snapshot failed (exit ${r.exitCode}): ${cleanOutput(r.stderr)}`);
    ctx.log(`redis: snapshot saved (${(await stat(file)).size} bytes)`);
  }

  async clear(app: AddonApp, credentials: Record<string, string>, ctx: StepContext): Promise<void> {
    const c = need(credentials, ["password"], "redis");
    const ep = await this.ensure(app, c.password!);
    await this.run(ep.container, ["FLUSHALL"], "emptying");
    ctx.log("redis: emptied");
  }

  async restore(app: AddonApp, credentials: Record<string, string>, dir: string, ctx: StepContext): Promise<void> {
    const c = need(credentials, ["password"], "redis");
    const file = path.join(dir, REDIS_DUMP_FILE);
    if (!(await stat(file).catch(() => null))) throw new HearthError("not_found", `redis: no ${REDIS_DUMP_FILE} in ${dir}`);
    const name = this.d.services.containerName("redis", app.id);
    await this.ensure(app, c.password!); // exists, with this app's settings
    await this.d.docker.stopContainer(name, 60);
    // the data folder belongs to the redis user: a root job swaps the files
    const job = `${name}-restore`;
    await this.d.docker.removeContainer(job); // left by a crash
    const r = await this.d.extras.runJob(
      {
        name: job,
        Image: this.d.services.imageOf("redis"),
        Cmd: ["sh", "-c", "set -e; rm -rf /data/appendonlydir /data/dump.rdb /data/temp-*; cp /backup/dump.rdb /data/dump.rdb; chown redis:redis /data/dump.rdb; chmod 0600 /data/dump.rdb"],
        User: "0",
        Labels: { [MANAGED_LABEL]: "true", [SERVICE_LABEL]: "redis", [SERVICE_ROLE_LABEL]: "job", ...this.d.services.ownerLabels() },
        HostConfig: {
          Mounts: [
            { Type: "bind", Source: path.join(this.d.services.redisDir(app.id), "data"), Target: "/data", ReadOnly: false },
            { Type: "bind", Source: path.resolve(dir), Target: "/backup", ReadOnly: true },
          ],
          NetworkMode: "none",
          ReadonlyRootfs: true,
          CapDrop: ["ALL"],
          CapAdd: ["CHOWN", "DAC_OVERRIDE", "FOWNER"],
          SecurityOpt: ["no-new-privileges:true"],
          Memory: 64 * MiB,
        },
      },
      300_000,
    );
    if (r.exitCode !== 0) throw new HearthError("external", `redis: putting the snapshot in place failed (exit ${r.exitCode}): ${cleanOutput(r.output)}`);
    // starts the stopped container and waits until it answers (after loading the snapshot)
    await this.ensure(app, c.password!);
    ctx.log("redis: restored");
  }
}
