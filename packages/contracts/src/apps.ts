import { z } from "zod";
import { domainName, subdomain } from "./domains";
import { HearthError } from "./errors";
import { compareSemver, hearthManifest, needsNewerHearth, port, semver, type HearthManifest } from "./manifest";

export const INSTALL_STATES = [
  "pending_install",
  "pending_configure",
  "pending_uninstall",
  "pending_start",
  "pending_stop",
  "pending_restart",
  "pending_update",
  "pending_restore",
  "installed",
  "error",
] as const;
export type InstallState = (typeof INSTALL_STATES)[number];
export const RUN_STATES = ["running", "stopped"] as const;
export type RunState = (typeof RUN_STATES)[number];
export const HEALTH_STATES = ["healthy", "unhealthy", "starting", "dead"] as const;
export type HealthState = (typeof HEALTH_STATES)[number];

/** Task types that operate on one app, and the install state each puts the app in. */
export const APP_TASK_TYPES = {
  "app.install": "pending_install",
  "app.configure": "pending_configure",
  "app.uninstall": "pending_uninstall",
  "app.start": "pending_start",
  "app.stop": "pending_stop",
  "app.restart": "pending_restart",
  "app.update": "pending_update",
  "app.restore": "pending_restore",
} as const satisfies Record<string, InstallState>;
export type AppTaskType = keyof typeof APP_TASK_TYPES;

export const envVars = z
  .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, "invalid environment variable name"), z.string().max(8192))
  .refine((env) => Object.keys(env).every((k) => !k.startsWith("HEARTH_")), "HEARTH_* variables are Hearth's own")
  .refine((env) => Object.keys(env).length <= 200, "at most 200 variables");

/**
 * Host ports an app may never publish: the well-known services of a server (ssh, smtp, dns,
 * http, https, databases, redis) and Hearth's own (admin's 3000, the sendmail relay's 2525).
 * A port below 1024 is refused as well. Whether another process already listens on a port
 * is checked by box, with a real bind, when it creates the container (apps/box/src/apps/ports.ts).
 */
export const RESERVED_HOST_PORTS: readonly number[] = [22, 25, 53, 80, 443, 2525, 3000, 3306, 5432, 6379];

/** A host port an admin may publish an app's TCP port on. */
export const hostPort = port
  .min(1024, "host ports below 1024 are reserved")
  .refine((p) => !RESERVED_HOST_PORTS.includes(p), { error: (i) => `host port ${String(i.input)} is reserved for the server or Hearth (${RESERVED_HOST_PORTS.join(", ")})` });

/** ENV name from the manifest's tcpPorts → host port (null = not published). */
export const portBindings = z.record(z.string().max(64), hostPort.nullable());

/** An extra name of an app: an alias (served like the primary) or a redirect (301 to the primary URL). */
export const appExtraName = z.strictObject({ subdomain, domain: domainName });
export type AppExtraName = z.infer<typeof appExtraName>;
const extraNames = z.array(appExtraName).max(20, "at most 20 names");

const appPlacement = {
  subdomain,
  domain: domainName,
  aliases: extraNames.optional(),
  redirects: extraNames.optional(),
  /** With an API DNS provider: replace an existing record for the app's name that points elsewhere. */
  overwriteDns: z.boolean().optional(),
  memoryLimit: z
    .number()
    .int()
    .min(32 * 1024 * 1024)
    .max(64 * 1024 * 1024 * 1024)
    .optional(),
  env: envVars.optional(),
  portBindings: portBindings.optional(),
};

export const installFromStoreRequest = z.strictObject({ storeId: z.string().min(1).max(128), version: z.string().max(64).optional(), ...appPlacement });
export const installFromManifestRequest = z.strictObject({ manifest: hearthManifest, ...appPlacement });
/** Either branch; admin picks the branch by the presence of `manifest` so issues name the real fields. */
export const installAppRequest = z.union([installFromStoreRequest, installFromManifestRequest]);
export type InstallAppRequest = z.infer<typeof installAppRequest>;

export const configureAppRequest = z
  .strictObject({
    subdomain: subdomain.optional(),
    domain: domainName.optional(),
    aliases: extraNames.optional(),
    redirects: extraNames.optional(),
    overwriteDns: z.boolean().optional(),
    memoryLimit: z
      .number()
      .int()
      .min(32 * 1024 * 1024)
      .max(64 * 1024 * 1024 * 1024)
      .optional(),
    env: envVars.optional(),
    portBindings: portBindings.optional(),
  })
  // `{ overwriteDns: true }` alone is a retry: the app is deployed again as it is, taking
  // over the DNS records another party made (after a failed install or configure)
  .refine((r) => Object.keys(r).length > 0, "nothing to change");
export type ConfigureAppRequest = z.infer<typeof configureAppRequest>;

/**
 * POST /api/v1/apps/:id/update: to `manifest` (same id) or, without it, to the version GET
 * /apps/:id offers (`updateAvailable.version`: the catalog's newest stable version above the
 * installed one that this Hearth can run). `version` is the version the admin confirmed: when
 * the target is another one by now (the catalog changed), 409 `conflict` and nothing is
 * queued; without it (`{}`), the offered version is taken. A version that is not newer needs
 * `force`; `{force: true}` without a manifest and with no newer version deploys the catalog's
 * newest stable version again (a redeploy or a downgrade).
 */
export const updateAppRequest = z.strictObject({
  manifest: hearthManifest.optional(),
  version: semver.optional(),
  force: z.boolean().optional(),
  overwriteDns: z.boolean().optional(),
});
export type UpdateAppRequest = z.infer<typeof updateAppRequest>;

/** PUT /api/v1/apps/:id/auto-update: automatic patch updates on or off. */
export const autoUpdateRequest = z.strictObject({ autoUpdate: z.boolean() });
export type AutoUpdateRequest = z.infer<typeof autoUpdateRequest>;

export type AddonChanges = {
  added: string[];
  removed: string[];
  kept: string[];
};

/** Which addons an update adds, removes (backed up, then deleted) and keeps. */
export function addonChanges(from: Pick<HearthManifest, "addons">, to: Pick<HearthManifest, "addons">): AddonChanges {
  const a = Object.keys(from.addons).sort();
  const b = Object.keys(to.addons).sort();
  return { added: b.filter((n) => !a.includes(n)), removed: a.filter((n) => !b.includes(n)), kept: b.filter((n) => a.includes(n)) };
}

/**
 * Why `from` may not be updated to `to`, or null when it may: another manifest id is
 * `invalid`; a version that is not newer is `bad_state` unless forced.
 */
export function updateRefusal(from: Pick<HearthManifest, "id" | "version">, to: Pick<HearthManifest, "id" | "version">, force = false): { code: "invalid" | "bad_state"; message: string } | null {
  if (from.id !== to.id) return { code: "invalid", message: `The manifest is for ${to.id}, not for this app (${from.id})` };
  const c = compareSemver(to.version, from.version);
  if (c > 0 || force) return null;
  return {
    code: "bad_state",
    message:
      c === 0
        ? `The app is already at version ${from.version}; send force: true to deploy it again`
        : `Version ${to.version} is older than the installed ${from.version}; send force: true to downgrade`,
  };
}

/** Throws 400 `invalid` when the manifest needs a newer Hearth than `runningHearth`. */
export function checkMinHearthVersion(m: Pick<HearthManifest, "minHearthVersion">, runningHearth: string): void {
  if (needsNewerHearth(m, runningHearth)) {
    throw new HearthError("invalid", `This app needs Hearth ${m.minHearthVersion} or newer (this is ${runningHearth})`, {
      details: [{ path: ["manifest", "minHearthVersion"], code: "custom", message: `needs Hearth ${m.minHearthVersion}` }],
    });
  }
}

/**
 * Throws 400 `invalid` when `to` drops a TCP port the app publishes (it must be unpublished
 * first, under Configure). Used by the manual update and by the nightly automatic one.
 */
export function checkPublishedPortsKept(published: readonly { envName: string }[], to: Pick<HearthManifest, "version" | "tcpPorts">): void {
  const dropped = published.filter((p) => !to.tcpPorts[p.envName]).map((p) => p.envName);
  if (dropped.length > 0) {
    throw new HearthError("invalid", `Version ${to.version} has no TCP port ${dropped.join(", ")}; unpublish it first (Configure)`, {
      details: [{ path: ["manifest", "tcpPorts"], code: "custom", message: `missing ${dropped.join(", ")}` }],
    });
  }
}

export const addRegistryRequest = z.strictObject({
  server: z
    .string()
    .trim()
    .min(1)
    .max(255)
    .regex(/^[a-zA-Z0-9.-]+(:\d{1,5})?$/, "must be a registry host like registry.example.com or host:5000")
    .refine((s) => {
      const m = /:(\d+)$/.exec(s);
      return !m || (Number(m[1]) >= 1 && Number(m[1]) <= 65535);
    }, "the port must be 1–65535"),
  username: z.string().min(1).max(255),
  password: z.string().min(1).max(4096),
});
export const registryView = z.object({ id: z.string(), server: z.string(), username: z.string(), createdAt: z.string() });
export type RegistryView = z.infer<typeof registryView>;

export const appView = z.object({
  id: z.string(),
  manifestId: z.string(),
  title: z.string(),
  version: z.string(),
  icon: z.string().nullable(),
  subdomain: z.string(),
  domain: z.string(),
  fqdn: z.string(),
  url: z.string(),
  aliases: z.array(z.object({ subdomain: z.string(), domain: z.string(), fqdn: z.string() })),
  redirects: z.array(z.object({ subdomain: z.string(), domain: z.string(), fqdn: z.string() })),
  installState: z.enum(INSTALL_STATES),
  runState: z.enum(RUN_STATES),
  health: z.enum(HEALTH_STATES).nullable(),
  memoryLimit: z.number(),
  env: z.record(z.string(), z.string()),
  portBindings: z.record(z.string(), z.number().nullable()),
  /** the manifest's TCP ports (what portBindings may bind) */
  tcpPorts: z.record(z.string(), z.object({ title: z.string(), description: z.string(), containerPort: z.number(), defaultValue: z.number() })),
  taskId: z.string().nullable(),
  error: z.object({ code: z.string(), message: z.string(), taskId: z.string().nullable() }).nullable(),
  /** the catalog's newest stable version above the installed one (store apps only; null when none; pre-releases are never offered) */
  updateAvailable: z
    .object({
      version: z.string(),
      addons: z.object({ added: z.array(z.string()), removed: z.array(z.string()), kept: z.array(z.string()) }),
      /** the changelog of each version the update brings (newest first; versions without one are left out); only in GET /apps/:id, absent in the list */
      changelog: z.array(z.object({ version: z.string(), text: z.string() })).optional(),
    })
    .nullable()
    .optional(),
  /** the manifest's addons */
  addons: z.array(z.string()).optional(),
  /** box installs newer patch versions (same major.minor) of the catalog in its nightly window */
  autoUpdate: z.boolean().optional(),
  postInstallMessage: z.string(),
  /**
   * the app's first admin account (manifest firstAdmin; absent in lists): `kept` while Hearth
   * keeps the generated password (GET /api/v1/apps/:id/credentials reveals it), false once the
   * admin marked it as changed
   */
  firstAdmin: z.object({ username: z.string(), kept: z.boolean() }).nullable().optional(),
  /** installed from the catalog (has a store id), so automatic updates apply; absent in lists */
  fromCatalog: z.boolean().optional(),
  createdAt: z.string(),
});
export type AppView = z.infer<typeof appView>;

/** GET /api/v1/apps/:id/credentials: the first admin account as Hearth generated it. */
export const appCredentialsView = z.object({ username: z.string(), password: z.string() });
export type AppCredentialsView = z.infer<typeof appCredentialsView>;

// ---- catalog ("app store") --------------------------------------------------------------

export const appstoreQuery = z.strictObject({
  search: z.string().max(128).optional(),
  tag: z.string().max(32).optional(),
});

export const appstoreGetQuery = z.strictObject({ version: z.string().max(64).optional() });

/** One catalog app (its newest version's manifest); `versions` newest first. */
export const catalogAppView = z.object({
  id: z.string(),
  title: z.string(),
  tagline: z.string(),
  description: z.string(),
  version: z.string(),
  versions: z.array(z.string()),
  upstreamVersion: z.string(),
  author: z.string(),
  website: z.string(),
  tags: z.array(z.string()),
  iconUrl: z.string().nullable(),
  memoryLimit: z.number(),
  addons: z.array(z.string()),
  tcpPorts: z.record(z.string(), z.object({ title: z.string(), description: z.string(), containerPort: z.number(), defaultValue: z.number() })),
  postInstallMessage: z.string(),
});
export type CatalogAppView = z.infer<typeof catalogAppView>;

/** A log line's cursor: Docker's timestamp of the line (RFC 3339, 9-digit fraction, UTC). */
export const APP_LOG_CURSOR_PATTERN = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/;
/** The longest search text (?q=) of the app log. */
export const APP_LOG_SEARCH_MAX = 200;

/**
 * GET /api/v1/apps/:id/logs (and box's GET /apps/:id/logs, which takes the same query):
 * `lines` (default 100) of the app's log, newest last; `before` a cursor (a line's `ts`) for
 * the page before it; `q` a plain case-insensitive substring; `health=1` keeps box's own
 * health-check requests (hidden by default); `follow=1` then streams new lines (not with
 * `before`); `format=text` is the whole kept log as text/plain instead of events.
 */
export const appLogsQuery = z
  .strictObject({
    follow: z.enum(["0", "1", "true", "false"]).optional(),
    lines: z.coerce.number().int().min(0).max(10_000).optional(),
    before: z.string().regex(APP_LOG_CURSOR_PATTERN, "before must be a log line's cursor (its ts, e.g. 2026-12-03T18:50:00.123456789Z)").optional(),
    q: z.string().min(1).max(APP_LOG_SEARCH_MAX, `q is at most ${APP_LOG_SEARCH_MAX} characters`).optional(),
    health: z.enum(["0", "1"]).optional(),
    format: z.enum(["events", "text"]).optional(),
  })
  .refine((v) => !(v.before !== undefined && (v.follow === "1" || v.follow === "true")), { message: "follow cannot be combined with before (a page of older lines does not grow)", path: ["follow"] });
export type AppLogsQuery = z.infer<typeof appLogsQuery>;

export const installAppResponse = z.object({ id: z.string(), taskId: z.string() });
export const appTaskResponse = z.object({ taskId: z.string() });

/** Args of every app.* task: box reads everything else from the App row (and its AppPort rows). */
export const appTaskArgs = z.object({ appId: z.string(), overwriteDns: z.boolean().optional() });
export type AppTaskArgs = z.infer<typeof appTaskArgs>;

/** app.update: the target manifest and the one it updates from (box rolls back to it after a crash or failure). */
export const appUpdateTaskArgs = appTaskArgs.extend({ manifest: hearthManifest, fromManifest: hearthManifest });
export type AppUpdateTaskArgs = z.infer<typeof appUpdateTaskArgs>;

/** The states in which an app is busy: a task for it is pending or running. */
export function isPendingInstallState(s: InstallState): boolean {
  return s.startsWith("pending_");
}

/** https://<sub>.<domain>/ or https://<domain>/ when the subdomain is empty. */
export function appFqdn(subdomain: string, domain: string): string {
  return subdomain ? `${subdomain}.${domain}` : domain;
}
