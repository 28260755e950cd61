import { createHash, randomBytes } from "node:crypto";
import { open } from "node:fs/promises";
import { HearthError } from "@hearth/contracts";
import type { DockerApi } from "../docker/docker";
import type { ServiceDockerExtras } from "./service-docker";
import type { ServiceManager } from "./services";

/** What the addon handlers share: the engine, the extras and the addon services. */
export interface AddonDeps {
  docker: DockerApi;
  extras: ServiceDockerExtras;
  services: ServiceManager;
}

/** 192 random bits, URL-safe (it goes into HEARTH_*_URL as is). */
export const randomPassword = () => randomBytes(24).toString("base64url");

/**
 * The database/user/role name of an app: `app_` + its id without dashes (a UUID: 32 hex
 * digits, so 36 characters, under MySQL's 64 and PostgreSQL's 63); any other id is hashed
 * to the same shape. Stored in the credentials, so a later change of this rule never
 * renames what exists.
 */
export function dbNameOf(appId: string): string {
  const hex = appId.toLowerCase().replace(/-/g, "");
  return `app_${/^[0-9a-f]{32}$/.test(hex) ? hex : createHash("sha256").update(appId).digest("hex").slice(0, 32)}`;
}

/** A SQL string literal with ' and \ escaped (MariaDB's default sql_mode and PostgreSQL's E'' both accept this form). */
export const sqlString = (s: string) => `'${s.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;

/** Names we make are [a-z0-9_] only; anything else in stored credentials is refused, never quoted around. */
export function assertName(name: string | undefined, what: string): string {
  if (!name || !/^[a-z][a-z0-9_]{0,62}$/.test(name)) throw new HearthError("bad_state", `the stored ${what} "${name ?? ""}" is not a name Hearth makes`);
  return name;
}

/** The stored credentials must hold these keys (a row from an older version may not). */
export function need(credentials: Record<string, string> | null, keys: string[], addon: string): Record<string, string> {
  if (!credentials) throw new HearthError("bad_state", `the ${addon} addon has no stored credentials`);
  for (const k of keys) if (!credentials[k]) throw new HearthError("bad_state", `the ${addon} addon's stored credentials lack ${k}`);
  return credentials;
}

export function cleanOutput(s: string): string {
  return s.trim().slice(-1500);
}

/** A PostgreSQL string literal (standard_conforming_strings: only ' is doubled). */
export const pgString = (s: string) => `'${s.replace(/'/g, "''")}'`;

export async function readTail(file: string, bytes: number): Promise<string> {
  const fh = await open(file, "r");
  try {
    const { size } = await fh.stat();
    const len = Math.min(bytes, size);
    const buf = Buffer.alloc(len);
    await fh.read(buf, 0, len, size - len);
    return buf.toString("utf8");
  } finally {
    await fh.close();
  }
}

/** The app id a database name of dbNameOf came from, when the id was a UUID (else null: the name is a hash). */
export function appIdOfDbName(name: string): string | null {
  const m = /^app_([0-9a-f]{32})$/.exec(name);
  if (!m) return null;
  const h = m[1]!;
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
