import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { z } from "zod";
import { databaseUrl, DEFAULT_BOX_SOCKET, logLevel, parseEnv } from "@hearth/contracts";
import { type NetworkPlan, networkPlanFrom } from "./docker/subnets";
import { groupIdOf } from "./lib/os-group";
import { DEFAULT_DATA_DIR, dataPaths } from "./paths";

/**
 * box's configuration: process wiring only, read from the environment once at start
 * (what admins change live lives in the Setting table). `loadConfig` throws an Error whose
 * message names each bad variable; main prints it and exits 1.
 */
export interface BoxConfig {
  databaseUrl: string;
  dataDir: string;
  socketPath: string;
  /** Group that may connect to the socket (the socket is chgrp'ed to it), or null. */
  socketGroup: { name: string; gid: number } | null;
  boxId: string;
  logLevel: z.infer<typeof logLevel>;
  migrationsDir: string;
  taskPollMs: number;
  taskLeaseMs: number;
  /** How many tasks this box runs at once. */
  taskConcurrency: number;
  /** What nginx's workers read (the 502 page, ACME tokens); default <dataDir>/public. */
  publicDir: string;
  /** "nginx": render vhosts and reload the system nginx through the sudo helper; "off": no vhosts (tests of other parts). */
  proxy: "nginx" | "off";
  /**
   * null (production): the system nginx through the root helper. Else an nginx started by
   * hand (development, benchmarks): `nginx -p <dir of conf> -c <conf> -t`, then `-s reload`;
   * its http context must include `<dataDir>/nginx/sites/*.conf`.
   */
  nginxConf: string | null;
  /**
   * "flat" (default): one file of maps and a constant number of servers (proxy/vhost.ts
   * renderFlatVhosts; box's README, "nginx's cost per vhost"), so a reload does not grow with
   * the apps; its nginx's workers must be able to read the certificates (the root helper sees
   * to that for the system nginx). "per-vhost" (HEARTH_NGINX_LAYOUT=vhost): a file and servers
   * per name, the layout before; kept selectable for comparison (bench/vhost-sync.ts).
   */
  nginxLayout: "per-vhost" | "flat";
  /** The ports the vhosts listen on (80/443 but for an nginx of one's own). */
  httpPort: number;
  httpsPort: number;
  /** "on": run the addon services (MariaDB, PostgreSQL, Redis containers) and provision them; "off": only localstorage (tests that spawn a box). */
  services: "on" | "off";
  /** Opens secrets sealed at rest (registry passwords); null when not configured. */
  secretKey: Buffer | null;
  /** Hearth's address plan for the Docker networks it makes (HEARTH_NETWORK_POOL, HEARTH_NETWORK_SIZE; docker/subnets.ts). */
  networkPlan: NetworkPlan;
  /** More catalog directories after the built-in one (HEARTH_CATALOG_DIRS, ":"-separated, as admin reads it). */
  extraCatalogDirs: string[];
  /** Where a newer Hearth is announced (HEARTH_RELEASE_SOURCE: http(s) URL or absolute file path), or null: not checked. */
  releaseSource: string | null;
  /** The metrics collector (HEARTH_METRICS, default on; off: no sampling, the metrics endpoints answer 502). */
  metrics: "on" | "off";
  /** How often it samples (HEARTH_METRICS_INTERVAL_MS, default 10000; tests use less; the store keeps 10 s rows either way). */
  metricsIntervalMs: number;
}

export { DEFAULT_DATA_DIR };
export const DEFAULT_SOCKET_GROUP = "hearth";
export const TASK_CONCURRENCY = 4;

/** An empty variable counts as unset, so `FOO= box` falls back to the default. */
const unsetIfEmpty = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === "" ? undefined : v), schema);

const absolutePath = z.string().refine((p) => path.isAbsolute(p), "must be an absolute path");
// sun_path is 108 bytes on Linux, including the terminating NUL
const socketPath = absolutePath.refine((p) => Buffer.byteLength(p) <= 107, "is too long for a unix socket path (max 107 bytes)");
const millis = (min: number, def: number) => z.coerce.number().int().min(min).max(3_600_000).default(def);

export const boxEnvSchema = z.object({
  HEARTH_DATABASE_URL: databaseUrl,
  HEARTH_DATA_DIR: unsetIfEmpty(absolutePath.default(DEFAULT_DATA_DIR)),
  HEARTH_BOX_SOCKET: unsetIfEmpty(socketPath.default(DEFAULT_BOX_SOCKET)),
  // unset: "hearth" if that group exists; set but empty: no chgrp at all
  HEARTH_SOCKET_GROUP: z
    .string()
    .regex(/^([a-z_][a-z0-9_-]*\$?|\d+)?$/i, "must be a group name or gid")
    .optional(),
  // goes into Task.leasedBy as `${boxId}/${uuid}` (VARCHAR 128), so no '/' and at most 64 chars
  HEARTH_BOX_ID: unsetIfEmpty(
    z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "must be 1-64 letters, digits, '.', '_' or '-'")
      .optional(),
  ),
  HEARTH_LOG_LEVEL: unsetIfEmpty(logLevel),
  HEARTH_MIGRATIONS_DIR: unsetIfEmpty(absolutePath.optional()),
  HEARTH_TASK_POLL_MS: unsetIfEmpty(millis(50, 5_000)),
  HEARTH_TASK_LEASE_MS: unsetIfEmpty(millis(1_000, 30_000)),
  HEARTH_PUBLIC_DIR: unsetIfEmpty(absolutePath.optional()),
  HEARTH_PROXY: unsetIfEmpty(z.enum(["nginx", "off"]).default("nginx")),
  HEARTH_NGINX_CONF: unsetIfEmpty(absolutePath.optional()),
  HEARTH_NGINX_LAYOUT: unsetIfEmpty(
    z
      .enum(["flat", "vhost", "per-vhost"])
      .default("flat")
      .transform((v) => (v === "flat" ? "flat" : "per-vhost")),
  ),
  HEARTH_HTTP_PORT: unsetIfEmpty(z.coerce.number().int().min(1).max(65535).default(80)),
  HEARTH_HTTPS_PORT: unsetIfEmpty(z.coerce.number().int().min(1).max(65535).default(443)),
  HEARTH_SERVICES: unsetIfEmpty(z.enum(["on", "off"]).default("on")),
  HEARTH_SECRET_KEY: unsetIfEmpty(
    z
      .string()
      .refine((v) => Buffer.from(v, "base64").length === 32, "must be 32 bytes, base64-encoded")
      .optional(),
  ),
  // checked by networkPlanFrom (docker/subnets.ts): a private IPv4 range and a prefix length
  HEARTH_METRICS: unsetIfEmpty(z.enum(["on", "off"]).default("on")),
  HEARTH_METRICS_INTERVAL_MS: unsetIfEmpty(millis(1_000, 10_000)),
  HEARTH_NETWORK_POOL: unsetIfEmpty(z.string().optional()),
  HEARTH_NETWORK_SIZE: unsetIfEmpty(z.string().optional()),
  HEARTH_CATALOG_DIRS: unsetIfEmpty(z.string().optional()),
  HEARTH_RELEASE_SOURCE: unsetIfEmpty(
    z
      .string()
      .refine((v) => /^https?:\/\/\S+$/i.test(v) || v.startsWith("/"), "must be an http(s) URL or an absolute file path")
      .optional(),
  ),
});

/**
 * The repo's prisma/migrations, found by walking up from this code's directory: that is
 * apps/box/src when run from source (tsx) and apps/box/dist when run as the esbuild bundle.
 */
export function defaultMigrationsDir(fromDir: string = import.meta.dirname): string {
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, "prisma", "migrations");
    if (existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) break;
  }
  return path.resolve(fromDir, "../../../prisma/migrations");
}

/** A hostname as a valid box id (hostnames are already close: letters, digits, '-', '.'). */
function boxIdFromHostname(hostname: string): string {
  const id = hostname
    .replace(/[^A-Za-z0-9._-]/g, "-")
    .replace(/^[^A-Za-z0-9]+/, "")
    .slice(0, 64);
  return id || "box";
}

export interface LoadConfigOptions {
  groupFile?: string;
  hostname?: string;
  moduleDir?: string;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, opts: LoadConfigOptions = {}): BoxConfig {
  const e = parseEnv(boxEnvSchema, env);
  const problems: string[] = [];

  let socketGroup: BoxConfig["socketGroup"] = null;
  if (e.HEARTH_SOCKET_GROUP === undefined) {
    const gid = groupIdOf(DEFAULT_SOCKET_GROUP, opts.groupFile);
    if (gid !== null) socketGroup = { name: DEFAULT_SOCKET_GROUP, gid };
  } else if (e.HEARTH_SOCKET_GROUP !== "") {
    const name = e.HEARTH_SOCKET_GROUP;
    const gid = /^\d+$/.test(name) ? Number(name) : groupIdOf(name, opts.groupFile);
    if (gid === null) problems.push(`  HEARTH_SOCKET_GROUP: no group named "${name}"`);
    else socketGroup = { name, gid };
  }

  const migrationsDir = e.HEARTH_MIGRATIONS_DIR ?? defaultMigrationsDir(opts.moduleDir);
  if (!existsSync(migrationsDir)) {
    problems.push(`  HEARTH_MIGRATIONS_DIR: ${migrationsDir} does not exist${e.HEARTH_MIGRATIONS_DIR ? "" : " (default; set the variable)"}`);
  }
  let networkPlan: NetworkPlan | null = null;
  try {
    networkPlan = networkPlanFrom(e.HEARTH_NETWORK_POOL, e.HEARTH_NETWORK_SIZE);
  } catch (err) {
    problems.push(`  ${(err as Error).message}`);
  }
  if (problems.length > 0 || !networkPlan) throw new Error(`invalid configuration:\n${problems.join("\n")}`);

  return {
    databaseUrl: e.HEARTH_DATABASE_URL,
    dataDir: e.HEARTH_DATA_DIR,
    socketPath: e.HEARTH_BOX_SOCKET,
    socketGroup,
    boxId: e.HEARTH_BOX_ID ?? boxIdFromHostname(opts.hostname ?? os.hostname()),
    logLevel: e.HEARTH_LOG_LEVEL,
    migrationsDir,
    taskPollMs: e.HEARTH_TASK_POLL_MS,
    taskLeaseMs: e.HEARTH_TASK_LEASE_MS,
    taskConcurrency: TASK_CONCURRENCY,
    publicDir: e.HEARTH_PUBLIC_DIR ?? dataPaths(e.HEARTH_DATA_DIR).public,
    proxy: e.HEARTH_PROXY,
    nginxConf: e.HEARTH_NGINX_CONF ?? null,
    nginxLayout: e.HEARTH_NGINX_LAYOUT,
    httpPort: e.HEARTH_HTTP_PORT,
    httpsPort: e.HEARTH_HTTPS_PORT,
    services: e.HEARTH_SERVICES,
    secretKey: e.HEARTH_SECRET_KEY ? Buffer.from(e.HEARTH_SECRET_KEY, "base64") : null,
    networkPlan,
    extraCatalogDirs: (e.HEARTH_CATALOG_DIRS ?? "")
      .split(":")
      .map((d) => d.trim())
      .filter(Boolean),
    releaseSource: e.HEARTH_RELEASE_SOURCE ?? null,
    metrics: e.HEARTH_METRICS,
    metricsIntervalMs: e.HEARTH_METRICS_INTERVAL_MS,
  };
}
