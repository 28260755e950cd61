import { z } from "zod";
import { HearthError } from "./errors";
import { MIN_MEMORY_LIMIT } from "./manifest";

/**
 * How much memory an app may be given on this server. An app's memory limit may not be more
 * than the server's physical memory less what Hearth keeps for itself and the system (box,
 * admin, MariaDB/PostgreSQL/Redis services, nginx, the kernel): the larger of 512 MiB and
 * 10 % of the memory. A limit is a ceiling, not a reservation, so the limits of all apps
 * together may be more than the memory (they rarely all use their ceiling); one app alone
 * asking for more than the server has can never be met and is refused.
 *
 * The total is passed in (os.totalmem() on the server): this module has no Node APIs, so
 * the dashboard uses it too. admin checks at install and configure; box checks again before
 * it creates the container (apps/box/README.md).
 */
export const MIB = 1024 * 1024;
export const MEMORY_RESERVE_MIN = 512 * MIB;
export const MEMORY_RESERVE_FRACTION = 0.1;

/** What Hearth keeps of `totalBytes` for itself and the system, in whole MiB. */
export function hearthMemoryReserve(totalBytes: number): number {
  return Math.max(MEMORY_RESERVE_MIN, Math.ceil((totalBytes * MEMORY_RESERVE_FRACTION) / MIB) * MIB);
}

/** The largest memory limit an app may have on a server with `totalBytes`, in whole MiB (never below the minimum limit). */
export function maxAppMemoryLimit(totalBytes: number): number {
  const free = Math.floor((totalBytes - hearthMemoryReserve(totalBytes)) / MIB) * MIB;
  return Math.max(MIN_MEMORY_LIMIT, free);
}

/** GET /api/v1/server/limits: what the dashboard's forms show. */
export const serverLimitsResponse = z.object({
  memory: z.object({ totalBytes: z.number(), reservedBytes: z.number(), minLimitBytes: z.number(), maxLimitBytes: z.number() }),
});
export type ServerLimitsResponse = z.infer<typeof serverLimitsResponse>;

export function serverMemoryLimits(totalBytes: number): ServerLimitsResponse["memory"] {
  return { totalBytes, reservedBytes: hearthMemoryReserve(totalBytes), minLimitBytes: MIN_MEMORY_LIMIT, maxLimitBytes: maxAppMemoryLimit(totalBytes) };
}

/** The detail code of a memory limit above what the server can give (error code `invalid`). */
export const MEMORY_LIMIT_TOO_HIGH = "memory_limit_too_high";

const mib = (bytes: number) => `${Math.floor(bytes / MIB)} MiB`;

/** The message for a limit above the maximum: says the maximum in MiB and why. */
export function memoryLimitTooHighMessage(limitBytes: number, totalBytes: number): string {
  return `A memory limit of ${mib(limitBytes)} is more than this server can give: at most ${mib(maxAppMemoryLimit(totalBytes))} (${mib(totalBytes)} of memory, ${mib(hearthMemoryReserve(totalBytes))} kept for Hearth and the system)`;
}

/**
 * Throws 400 `invalid` (details: one issue at `memoryLimit` with the code
 * memory_limit_too_high and the maximum in bytes) when `limitBytes` is more than an app may
 * have on a server with `totalBytes`.
 */
export function assertMemoryLimit(limitBytes: number, totalBytes: number): void {
  const max = maxAppMemoryLimit(totalBytes);
  if (limitBytes <= max) return;
  const message = memoryLimitTooHighMessage(limitBytes, totalBytes);
  throw new HearthError("invalid", message, { details: [{ path: ["memoryLimit"], code: MEMORY_LIMIT_TOO_HIGH, message, maximum: max }] });
}
