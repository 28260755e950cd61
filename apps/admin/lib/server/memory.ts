import os from "node:os";
import { assertMemoryLimit, serverMemoryLimits, type ServerLimitsResponse } from "@hearth/contracts";

/**
 * The server's physical memory as admin sees it (admin and box run on the same machine, so
 * os.totalmem() is the number box checks against too; admin may not read box's /proc).
 */
export function serverMemoryBytes(): number {
  return os.totalmem();
}

/** 400 invalid (detail code memory_limit_too_high, the maximum in MiB in the message) for a limit above what this server can give. */
export function checkMemoryLimit(limitBytes: number | undefined): void {
  if (limitBytes !== undefined) assertMemoryLimit(limitBytes, serverMemoryBytes());
}

export function serverLimits(): ServerLimitsResponse {
  return { memory: serverMemoryLimits(serverMemoryBytes()) };
}
