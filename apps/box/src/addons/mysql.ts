import { stat } from "node:fs/promises";
import path from "node:path";
import { HearthError } from "@hearth/contracts";
import type { StepContext } from "../tasks/steps";
import { TaskError } from "../tasks/registry";
import { appIdOfDbName, assertName, cleanOutput, dbNameOf, need, randomPassword, readTail, sqlString, type AddonDeps } from "./common";
import type { AddonApp, AddonHandler, ProvisionResult } from "./handler";

/**
 * mysql: an own database `app_<id>` and user of the same name on the shared MariaDB, whose
 * grants cover only that database (with `multipleDatabases`, also `app_<id>_*`). MariaDB
 * joins the app's own network under the name `mariadb` (never a shared network: apps
 * cannot reach each other). All SQL runs inside the service container as root over its
 * unix socket, fed through stdin, so no password is ever in a process's argv.
 */
export const MYSQL_ALIAS = "mariadb";
export const MYSQL_DUMP_FILE = "mysqldump.sql";
const PORT = 3306;
const ROOT = ["mariadb", "--protocol=socket", "-uroot", "--default-character-set=utf8mb4", "-N", "-B"];

/** A database name in a GRANT: `_` and `%` are wildcards there, so the literal ones are escaped (`wildcard` is appended as is). */
const grantDb = (name: string, wildcard = "") => `\`${name.replace(/[_%]/g, (c) => `\\${c}`)}${wildcard}\``;
const ident = (name: string) => `\`${name}\``;

export function mysqlOptions(options: Record<string, unknown>): { multipleDatabases: boolean } {
  for (const k of Object.keys(options)) if (k !== "multipleDatabases") throw new TaskError(`the mysql addon has no option "${k}" (known: multipleDatabases)`, "invalid");
  const m = options.multipleDatabases ?? false;
  if (typeof m !== "boolean") throw new TaskError("the mysql addon's option multipleDatabases must be true or false", "invalid");
  return { multipleDatabases: m };
}

export class MysqlAddon implements AddonHandler {
  readonly name = "mysql" as const;
  constructor(private readonly d: AddonDeps) {}

  private get container() {
    return this.d.services.containerName("mariadb");
  }

  private async sql(sql: string, what: string): Promise<string> {
    const r = await this.d.extras.execWithInput(this.container, ROOT, { text: sql });
    // MariaDB's errors name objects, never echo an IDENTIFIED BY; still only the end is kept
    if (r.exitCode !== 0) throw new HearthError("external", `mysql: ${what} failed (exit ${r.exitCode}): ${cleanOutput(r.stderr)}`);
    return r.stdout;
  }

  async provision(app: AddonApp, options: Record<string, unknown>, previous: Record<string, string> | null, ctx: StepContext): Promise<ProvisionResult> {
    return this.d.services.use("mariadb", async () => {
      const opts = mysqlOptions(options);
      const database = assertName(previous?.database ?? dbNameOf(app.id), "mysql database");
      const username = assertName(previous?.username ?? database, "mysql user");
      const password = previous?.password || randomPassword();
      ctx.log(`mysql: database ${database}${opts.multipleDatabases ? ` (and ${database}_*)` : ""}, user ${username}`);
      const user = `${sqlString(username)}@'%'`;
      // grants are made anew each time, so turning multipleDatabases off takes the pattern away
      await this.sql(
        [
          `CREATE DATABASE IF NOT EXISTS ${ident(database)} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;`,
          `CREATE USER IF NOT EXISTS ${user} IDENTIFIED BY ${sqlString(password)};`,
          `ALTER USER ${user} IDENTIFIED BY ${sqlString(password)};`,
          `REVOKE ALL PRIVILEGES, GRANT OPTION FROM ${user};`,
          `GRANT ALL PRIVILEGES ON ${grantDb(database)}.* TO ${user};`,
          ...(opts.multipleDatabases ? [`GRANT ALL PRIVILEGES ON ${grantDb(`${database}_`, "%")}.* TO ${user};`] : []),
          "",
        ].join("\n"),
        "creating the database and user",
      );
      await this.d.extras.connectNetwork(app.network, this.container, [MYSQL_ALIAS]);
      const env: Record<string, string> = {
        HEARTH_MYSQL_URL: `mysql://${username}:${encodeURIComponent(password)}@${MYSQL_ALIAS}:${PORT}/${database}`,
        HEARTH_MYSQL_HOST: MYSQL_ALIAS,
        HEARTH_MYSQL_PORT: String(PORT),
        HEARTH_MYSQL_USERNAME: username,
        HEARTH_MYSQL_PASSWORD: password,
        HEARTH_MYSQL_DATABASE: database,
        ...(opts.multipleDatabases ? { HEARTH_MYSQL_DATABASE_PREFIX: `${database}_` } : {}),
      };
      return { env, credentials: { database, username, password, multipleDatabases: String(opts.multipleDatabases) } };
    });
  }

  /** The app's databases that exist: its own and, with multipleDatabases, `<db>_*`. */
  private async databases(database: string): Promise<string[]> {
    const out = await this.sql(
      `SELECT schema_name FROM information_schema.schemata WHERE schema_name = ${sqlString(database)} OR schema_name LIKE ${sqlString(`${database.replace(/_/g, "\\_")}\\_%`)} ORDER BY schema_name;\n`,
      "listing the app's databases",
    );
    return out
      .split("\n")
      .map((l) => l.trim())
      .filter(Boolean)
      .map((n) => assertName(n, "mysql database"));
  }

  async deprovision(app: AddonApp, credentials: Record<string, string> | null, ctx: StepContext): Promise<void> {
    return this.d.services.use("mariadb", async () => {
      const database = assertName(credentials?.database ?? dbNameOf(app.id), "mysql database");
      const username = assertName(credentials?.username ?? database, "mysql user");
      const dbs = await this.databases(database);
      ctx.log(`mysql: dropping ${dbs.length ? dbs.join(", ") : "no database"} and the user ${username}`);
      await this.sql([...dbs.map((n) => `DROP DATABASE IF EXISTS ${ident(n)};`), `DROP USER IF EXISTS ${sqlString(username)}@'%';`, ""].join("\n"), "dropping the database and user");
      await this.d.extras.disconnectNetwork(app.network, this.container);
    });
  }

  async detach(app: AddonApp, _credentials: Record<string, string> | null, ctx: StepContext): Promise<void> {
    ctx.log("mysql: the database is kept; MariaDB leaves the app's network");
    await this.d.extras.disconnectNetwork(app.network, this.container);
  }

  async appsWithData(): Promise<{ appId: string; name: string }[] | null> {
    // a service that is down, or another store's, tells nothing about this store's apps
    if (!(await this.d.services.ownsRunningService("mariadb"))) return null;
    const out = await this.sql("SELECT schema_name FROM information_schema.schemata WHERE schema_name REGEXP '^app_[0-9a-f]{32}$' ORDER BY schema_name;\n", "listing the apps' databases");
    return out
      .split("\n")
      .map((l) => l.trim())
      .flatMap((name) => {
        const appId = appIdOfDbName(name);
        return appId ? [{ appId, name }] : [];
      });
  }

  async backup(_app: AddonApp, credentials: Record<string, string>, dir: string, ctx: StepContext): Promise<void> {
    return this.d.services.use("mariadb", async () => {
      const c = need(credentials, ["database"], "mysql");
      const database = assertName(c.database, "mysql database");
      const dbs = await this.databases(database);
      const file = path.join(dir, MYSQL_DUMP_FILE);
      // one consistent snapshot of every database of the app (InnoDB), users/grants not included
      const r = await this.d.extras.execToFile(
        this.container,
        ["mariadb-dump", "--protocol=socket", "-uroot", "--single-transaction", "--routines", "--events", "--triggers", "--hex-blob", "--default-character-set=utf8mb4", "--databases", ...dbs],
        file,
      );
      if (r.exitCode !== 0) throw new HearthError("external", `mysql: dumping ${dbs.join(", ")} failed (exit ${r.exitCode}): ${cleanOutput(r.stderr)}`);
      const text = await readTail(file, 200);
      if (!text.includes("-- Dump completed")) throw new HearthError("external", "mysql: the dump is incomplete");
      ctx.log(`mysql: dumped ${dbs.join(", ")} (${(await stat(file)).size} bytes)`);
    });
  }

  async clear(_app: AddonApp, credentials: Record<string, string>, ctx: StepContext): Promise<void> {
    return this.d.services.use("mariadb", async () => {
      const c = need(credentials, ["database"], "mysql");
      const database = assertName(c.database, "mysql database");
      const dbs = await this.databases(database);
      ctx.log(`mysql: emptying ${database}`);
      await this.sql(
        [...dbs.map((n) => `DROP DATABASE IF EXISTS ${ident(n)};`), `CREATE DATABASE ${ident(database)} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;`, ""].join("\n"),
        "emptying the database",
      );
    });
  }

  async restore(app: AddonApp, credentials: Record<string, string>, dir: string, ctx: StepContext): Promise<void> {
    return this.d.services.use("mariadb", async () => {
      const file = path.join(dir, MYSQL_DUMP_FILE);
      if (!(await stat(file).catch(() => null))) throw new HearthError("not_found", `mysql: no ${MYSQL_DUMP_FILE} in ${dir}`);
      await this.clear(app, credentials, ctx);
      const r = await this.d.extras.execWithInput(this.container, ["mariadb", "--protocol=socket", "-uroot", "--default-character-set=utf8mb4"], { file });
      if (r.exitCode !== 0) throw new HearthError("external", `mysql: importing the dump failed (exit ${r.exitCode}): ${cleanOutput(r.stderr)}`);
      ctx.log("mysql: restored");
    });
  }
}
