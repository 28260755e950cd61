import { stat } from "node:fs/promises";
import path from "node:path";
import { HearthError } from "@hearth/contracts";
import type { StepContext } from "../tasks/steps";
import { TaskError } from "../tasks/registry";
import { appIdOfDbName, assertName, cleanOutput, dbNameOf, need, pgString, randomPassword, type AddonDeps } from "./common";
import type { AddonApp, AddonHandler, ProvisionResult } from "./handler";

/**
 * postgresql: an own role (LOGIN, no superuser/createdb/createrole/replication/bypassrls)
 * and a database it owns on the shared PostgreSQL. CONNECT on that database is revoked from
 * PUBLIC, so no other app's role can even connect to it (pg_hba lets every role try every
 * database with its password; the database's ACL is what says no). Allow-listed extensions
 * are created by the admin (postgres) in the app's database. PostgreSQL joins the app's own
 * network under the name `postgresql`. SQL goes in through psql's stdin as the postgres OS
 * user over the socket (peer auth), so passwords never reach argv.
 */
export const PG_ALIAS = "postgresql";
export const PG_DUMP_FILE = "pgdump.dump";
const PORT = 5432;
/** Trusted contrib extensions an app may ask for (all ship with Debian's postgresql-15). */
export const PG_EXTENSIONS = ["btree_gin", "btree_gist", "citext", "cube", "fuzzystrmatch", "hstore", "intarray", "ltree", "pg_trgm", "pgcrypto", "tablefunc", "unaccent", "uuid-ossp"] as const;
const PSQL = ["runuser", "-u", "postgres", "--", "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", "postgres"];

const ident = (n: string) => `"${n}"`;

export function postgresqlOptions(options: Record<string, unknown>): { extensions: string[] } {
  for (const k of Object.keys(options)) if (k !== "extensions") throw new TaskError(`the postgresql addon has no option "${k}" (known: extensions)`, "invalid");
  const ext = options.extensions ?? [];
  if (!Array.isArray(ext) || !ext.every((e) => typeof e === "string")) throw new TaskError("the postgresql addon's option extensions must be a list of names", "invalid");
  const bad = ext.filter((e) => !(PG_EXTENSIONS as readonly string[]).includes(e));
  if (bad.length) throw new TaskError(`postgresql extensions not allowed: ${bad.join(", ")} (allowed: ${PG_EXTENSIONS.join(", ")})`, "invalid");
  return { extensions: [...new Set(ext as string[])].sort() };
}

export class PostgresqlAddon implements AddonHandler {
  readonly name = "postgresql" as const;
  constructor(private readonly d: AddonDeps) {}

  private get container() {
    return this.d.services.containerName("postgresql");
  }

  private async sql(sql: string, what: string): Promise<string> {
    const r = await this.d.extras.execWithInput(this.container, PSQL, { text: sql });
    if (r.exitCode !== 0) throw new HearthError("external", `postgresql: ${what} failed (exit ${r.exitCode}): ${cleanOutput(r.stderr)}`);
    return r.stdout;
  }

  /** Role, database owned by it, CONNECT for it alone, extensions: every statement idempotent. */
  private setupSql(database: string, role: string, password: string | null, extensions: string[]): string {
    const lit = (s: string) => pgString(s);
    return [
      `SELECT 'CREATE ROLE ${ident(role)}' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ${lit(role)})\\gexec`,
      `ALTER ROLE ${ident(role)} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT${password ? ` PASSWORD ${lit(password)}` : ""};`,
      `SELECT 'CREATE DATABASE ${ident(database)} OWNER ${ident(role)}' WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = ${lit(database)})\\gexec`,
      `ALTER DATABASE ${ident(database)} OWNER TO ${ident(role)};`,
      `REVOKE ALL ON DATABASE ${ident(database)} FROM PUBLIC;`,
      // the maintenance databases are not for apps either (the admin is a superuser)
      "REVOKE CONNECT ON DATABASE postgres FROM PUBLIC;",
      "REVOKE CONNECT ON DATABASE template1 FROM PUBLIC;",
      `\\connect ${ident(database)}`,
      ...extensions.map((e) => `CREATE EXTENSION IF NOT EXISTS ${ident(e)};`),
      "",
    ].join("\n");
  }

  async provision(app: AddonApp, options: Record<string, unknown>, previous: Record<string, string> | null, ctx: StepContext): Promise<ProvisionResult> {
    return this.d.services.use("postgresql", async () => {
      const { extensions } = postgresqlOptions(options);
      const database = assertName(previous?.database ?? dbNameOf(app.id), "postgresql database");
      const username = assertName(previous?.username ?? database, "postgresql role");
      const password = previous?.password || randomPassword();
      ctx.log(`postgresql: database ${database}, role ${username}${extensions.length ? `, extensions ${extensions.join(", ")}` : ""}`);
      await this.sql(this.setupSql(database, username, password, extensions), "creating the database and role");
      await this.d.extras.connectNetwork(app.network, this.container, [PG_ALIAS]);
      return {
        env: {
          HEARTH_POSTGRESQL_URL: `postgres://${username}:${encodeURIComponent(password)}@${PG_ALIAS}:${PORT}/${database}`,
          HEARTH_POSTGRESQL_HOST: PG_ALIAS,
          HEARTH_POSTGRESQL_PORT: String(PORT),
          HEARTH_POSTGRESQL_USERNAME: username,
          HEARTH_POSTGRESQL_PASSWORD: password,
          HEARTH_POSTGRESQL_DATABASE: database,
        },
        credentials: { database, username, password, extensions: extensions.join(",") },
      };
    });
  }

  async deprovision(app: AddonApp, credentials: Record<string, string> | null, ctx: StepContext): Promise<void> {
    return this.d.services.use("postgresql", async () => {
      const database = assertName(credentials?.database ?? dbNameOf(app.id), "postgresql database");
      const username = assertName(credentials?.username ?? database, "postgresql role");
      ctx.log(`postgresql: dropping the database ${database} and the role ${username}`);
      await this.sql(`DROP DATABASE IF EXISTS ${ident(database)} WITH (FORCE);\nDROP ROLE IF EXISTS ${ident(username)};\n`, "dropping the database and role");
      await this.d.extras.disconnectNetwork(app.network, this.container);
    });
  }

  async detach(app: AddonApp, _credentials: Record<string, string> | null, ctx: StepContext): Promise<void> {
    ctx.log("postgresql: the database is kept; PostgreSQL leaves the app's network");
    await this.d.extras.disconnectNetwork(app.network, this.container);
  }

  async appsWithData(): Promise<{ appId: string; name: string }[] | null> {
    // a service that is down, or another store's, tells nothing about this store's apps
    if (!(await this.d.services.ownsRunningService("postgresql"))) return null;
    const r = await this.d.extras.execWithInput(this.container, [...PSQL, "-t", "-A"], { text: "SELECT datname FROM pg_database WHERE datname ~ '^app_[0-9a-f]{32}$' ORDER BY datname;\n" });
    if (r.exitCode !== 0) throw new HearthError("external", `postgresql: listing the apps' databases failed (exit ${r.exitCode}): ${cleanOutput(r.stderr)}`);
    return r.stdout
      .split("\n")
      .map((l) => l.trim())
      .flatMap((name) => {
        const appId = appIdOfDbName(name);
        return appId ? [{ appId, name }] : [];
      });
  }

  async backup(_app: AddonApp, credentials: Record<string, string>, dir: string, ctx: StepContext): Promise<void> {
    return this.d.services.use("postgresql", async () => {
      const c = need(credentials, ["database"], "postgresql");
      const database = assertName(c.database, "postgresql database");
      const file = path.join(dir, PG_DUMP_FILE);
      const r = await this.d.extras.execToFile(this.container, ["runuser", "-u", "postgres", "--", "pg_dump", "-Fc", "-d", database], file);
      if (r.exitCode !== 0) throw new HearthError("external", `postgresql: dumping ${database} failed (exit ${r.exitCode}): ${cleanOutput(r.stderr)}`);
      ctx.log(`postgresql: dumped ${database} (${(await stat(file)).size} bytes)`);
    });
  }

  /** Drops and remakes the database (same owner, ACL and extensions): nothing of the old content stays. */
  async clear(_app: AddonApp, credentials: Record<string, string>, ctx: StepContext): Promise<void> {
    return this.d.services.use("postgresql", async () => {
      const c = need(credentials, ["database", "username"], "postgresql");
      const database = assertName(c.database, "postgresql database");
      const username = assertName(c.username, "postgresql role");
      const extensions = (c.extensions ?? "").split(",").filter(Boolean);
      ctx.log(`postgresql: emptying ${database}`);
      await this.sql(`DROP DATABASE IF EXISTS ${ident(database)} WITH (FORCE);\n${this.setupSql(database, username, null, extensions)}`, "emptying the database");
    });
  }

  async restore(app: AddonApp, credentials: Record<string, string>, dir: string, ctx: StepContext): Promise<void> {
    return this.d.services.use("postgresql", async () => {
      const file = path.join(dir, PG_DUMP_FILE);
      if (!(await stat(file).catch(() => null))) throw new HearthError("not_found", `postgresql: no ${PG_DUMP_FILE} in ${dir}`);
      await this.clear(app, credentials, ctx);
      const database = assertName(credentials.database, "postgresql database");
      // into the freshly made, empty database: --clean has nothing to drop there; owners and
      // grants come from the dump (the role keeps its name across a backup of the same app)
      const r = await this.d.extras.execWithInput(this.container, ["runuser", "-u", "postgres", "--", "pg_restore", "--exit-on-error", "--single-transaction", "-d", database], { file });
      if (r.exitCode !== 0) throw new HearthError("external", `postgresql: restoring ${database} failed (exit ${r.exitCode}): ${cleanOutput(r.stderr)}`);
      ctx.log("postgresql: restored");
    });
  }
}
