import { PrismaMariaDb } from "@prisma/adapter-mariadb";
import { PrismaClient } from "./generated/client.ts";

export { PrismaClient, Prisma } from "./generated/client.ts";
export type * from "./generated/client.ts";

export type Db = PrismaClient;

/** Turns HEARTH_DATABASE_URL (mysql:// or mariadb://) into mariadb pool settings. */
export function poolConfigOf(url: string, extra: { connectionLimit?: number } = {}) {
  const u = new URL(url.replace(/^mysql:/, "mariadb:"));
  const socketPath = u.searchParams.get("socket") ?? undefined;
  return {
    host: socketPath ? undefined : u.hostname || "127.0.0.1",
    port: u.port ? Number(u.port) : 3306,
    socketPath,
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    database: decodeURIComponent(u.pathname.replace(/^\//, "")),
    connectionLimit: extra.connectionLimit ?? Number(u.searchParams.get("connection_limit") ?? 5),
    // DATETIME columns hold UTC; never let the server's zone shift them
    timezone: "Z",
    bigIntAsNumber: false,
  };
}

/** The one way both processes get a Prisma client. */
export function createDb(url: string, opts: { connectionLimit?: number } = {}): Db {
  const adapter = new PrismaMariaDb(poolConfigOf(url, opts));
  return new PrismaClient({ adapter });
}
