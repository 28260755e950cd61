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
  /**
   * Runs `fn` holding the lock `name`, or every lock of a list (taken on one connection in
   * sorted order, so two callers naming the same locks cannot deadlock).
   */
  run<T>(name: string | readonly string[], opts: { waitSeconds?: number }, fn: () => Promise<T>): Promise<T>;
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
      const names = [...new Set((typeof name === "string" ? [name] : name).map(lockNameOf))].sort();
      const waitSeconds = opts.waitSeconds ?? 10;
      const conn = await pool.getConnection();
      const held: string[] = [];
      try {
        for (const lockName of names) {
          const [row] = await conn.query("SELECT GET_LOCK(?, ?) AS ok", [lockName, waitSeconds]);
          if (Number(row?.ok) !== 1) throw new Error(`could not take the lock ${lockName} within ${waitSeconds}s`);
          held.push(lockName);
        }
        return await fn();
      } finally {
        try {
          for (const lockName of held.reverse()) await conn.query("SELECT RELEASE_LOCK(?)", [lockName]);
        } finally {
          await conn.release();
        }
      }
    },
    end: () => pool.end(),
  };
}
