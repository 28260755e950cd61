import { createHash } from "node:crypto";
import mariadb from "mariadb";
import { poolConfigOf } from "./client";

/**
 * MySQL named locks (GET_LOCK) for work that must not run twice at once across requests and
 * processes, e.g. the login throttle's check → verify → record. A lock lives on a
 * connection, so the locks have a small pool of their own: holding one never takes a
 * connection away from the Prisma pool that `fn` itself queries through.
 */
export interface NamedLocks {
  run<T>(name: string, opts: { waitSeconds?: number }, fn: () => Promise<T>): Promise<T>;
  end(): Promise<void>;
}

/** MySQL allows 64 characters; longer names are shortened with a hash. */
export function lockNameOf(name: string): string {
  return name.length <= 64 ? name : `${name.slice(0, 20)}:${createHash("sha256").update(name).digest("hex").slice(0, 40)}`;
}

export function createNamedLocks(databaseUrl: string, size = 8): NamedLocks {
  const pool = mariadb.createPool({ ...poolConfigOf(databaseUrl, { connectionLimit: size }), acquireTimeout: 20_000 });
  return {
    async run(name, opts, fn) {
      const lockName = lockNameOf(name);
      const waitSeconds = opts.waitSeconds ?? 10;
      const conn = await pool.getConnection();
      try {
        const [row] = await conn.query("SELECT GET_LOCK(?, ?) AS ok", [lockName, waitSeconds]);
        if (Number(row?.ok) !== 1) throw new Error(`could not take the lock ${lockName} within ${waitSeconds}s`);
        try {
          return await fn();
        } finally {
          await conn.query("SELECT RELEASE_LOCK(?)", [lockName]);
        }
      } finally {
        await conn.release();
      }
    },
    end: () => pool.end(),
  };
}
