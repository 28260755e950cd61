import { z } from "zod";
import { canonicalImageRef } from "./images";

/**
 * HearthManifest.json: what a package says about itself. Strict: unknown fields are refused
 * with a message naming them (zod's unrecognized_keys issue). `manifestJsonSchema()` is the
 * same schema as JSON Schema for packagers.
 */
export const MANIFEST_VERSION = 1;
export const DEFAULT_MEMORY_LIMIT = 256 * 1024 * 1024;
export const MIN_MEMORY_LIMIT = 32 * 1024 * 1024;
export const MAX_MEMORY_LIMIT = 64 * 1024 * 1024 * 1024;

// semver 2.0.0 (https://semver.org, the official regex)
const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;
/** At most 64 characters: App.version is VarChar(64) (see limits.test.ts). */
export const semver = z.string().max(64).regex(SEMVER, "must be a semantic version like 1.2.3");

/** Reverse-domain id: org.example.app — lowercase labels, at least two dots' worth. */
export const manifestId = z
  .string()
  .min(3)
  .max(128)
  .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/, "must be a reverse-domain id like org.example.app");

/** A Docker image reference: [registry[:port]/]name[:tag][@digest]. */
export const dockerImageRef = z
  .string()
  .max(255)
  .regex(
    /^(?:(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*(?::[0-9]+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/,
    "must be a Docker image reference like registry.example.com/team/app:1.0",
  );

export const port = z.number().int().min(1).max(65535);
export const envName = z
  .string()
  .max(64)
  .regex(/^[A-Z][A-Z0-9_]{0,63}$/, "must be an UPPER_CASE environment variable name");

export const ADDON_NAMES = ["localstorage", "mysql", "postgresql", "redis", "sendmail", "ldap", "oidc", "proxyauth"] as const;
export type AddonName = (typeof ADDON_NAMES)[number];

const addonOptions = z.record(z.string(), z.unknown());

export const tcpPortSpec = z.strictObject({
  title: z.string().min(1).max(64),
  description: z.string().max(512).default(""),
  containerPort: port,
  defaultValue: port,
});

export const healthCheckPath = z
  .string()
  .max(512)
  .regex(/^\/[\x21-\x7e]*$/, "must be an absolute path like /health, without spaces");

/**
 * The app's first admin account, when it has one: Hearth generates the password, passes it
 * to the container in `passwordEnv` (and the username in `usernameEnv`, when given), keeps it
 * sealed and shows it on the app page until the admin marks it as changed. The app reads the
 * variable on its first start only; it must not print it.
 */
export const firstAdminSpec = z
  .strictObject({
    username: z
      .string()
      .min(1)
      .max(64)
      .regex(/^[\x21-\x7e]+$/, "must be printable ASCII without spaces")
      .default("admin"),
    usernameEnv: envName.optional(),
    passwordEnv: envName,
  })
  .refine((f) => f.usernameEnv !== f.passwordEnv, { message: "usernameEnv and passwordEnv must differ", path: ["usernameEnv"] })
  .refine((f) => !f.passwordEnv.startsWith("HEARTH_") && !f.usernameEnv?.startsWith("HEARTH_"), { message: "HEARTH_* variables are Hearth's own", path: ["passwordEnv"] });
export type FirstAdminSpec = z.infer<typeof firstAdminSpec>;

export const hearthManifest = z.strictObject({
  manifestVersion: z.literal(MANIFEST_VERSION, { error: `must be ${MANIFEST_VERSION}` }),
  id: manifestId,
  title: z.string().min(1).max(64),
  version: semver,
  upstreamVersion: z.string().max(64).default(""),
  tagline: z.string().max(160).default(""),
  description: z.string().max(20_000).default(""),
  icon: z.string().max(2048).default(""),
  author: z.string().max(128).default(""),
  website: z.union([z.url({ protocol: /^https?$/ }), z.literal("")]).default(""),
  tags: z
    .array(z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, "tags are lowercase words"))
    .max(16)
    .default([]),
  // a legacy bare hearth/<name> (stored by installs before localhost/hearth/) reads as Hearth's local image
  dockerImage: dockerImageRef.overwrite(canonicalImageRef),
  httpPort: port,
  healthCheckPath: healthCheckPath,
  memoryLimit: z.number().int().min(MIN_MEMORY_LIMIT).max(MAX_MEMORY_LIMIT).default(DEFAULT_MEMORY_LIMIT),
  addons: z.partialRecord(z.enum(ADDON_NAMES, { error: (i) => `unknown addon ${JSON.stringify(i.input)}; known: ${ADDON_NAMES.join(", ")}` }), addonOptions).default({}),
  tcpPorts: z
    .record(envName, tcpPortSpec, {
      error: (iss) => (iss.code === "invalid_key" ? "tcpPorts keys must be UPPER_CASE environment variable names" : undefined),
    })
    .default({}),
  optionalSso: z.boolean().default(false),
  postInstallMessage: z.string().max(20_000).default(""),
  /** what changed in this version (plain text or Markdown, shown as plain text before an update) */
  changelog: z.string().max(20_000).default(""),
  firstAdmin: firstAdminSpec.optional(),
  minHearthVersion: semver.optional(),
});
export type HearthManifest = z.infer<typeof hearthManifest>;
export type HearthManifestInput = z.input<typeof hearthManifest>;

/** The manifest schema as JSON Schema (draft 2020-12), for packagers and editors. */
export function manifestJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(hearthManifest, { io: "input", target: "draft-2020-12" }) as Record<string, unknown>;
}

/** Whether a semver version is a pre-release (1.2.0-rc.1). */
export function isPrerelease(v: string): boolean {
  const m = SEMVER.exec(v);
  if (!m) throw new Error(`not a semantic version: ${v}`);
  return m[4] !== undefined;
}

/** A version, or a manifest's version with the Hearth it needs. */
export type VersionRef = string | { version: string; minHearthVersion?: string | undefined };

/** Whether the manifest needs a newer Hearth than `runningHearth` (its minHearthVersion). */
export function needsNewerHearth(m: { minHearthVersion?: string | undefined }, runningHearth: string): boolean {
  const min = m.minHearthVersion;
  if (!min) return false;
  try {
    return compareSemver(min, runningHearth) > 0;
  } catch {
    return true;
  }
}

/**
 * The newest of `versions` that is newer than `installed` and not a pre-release (pre-releases
 * are never offered as updates; a pasted manifest can still install one), or null. Versions
 * that are not semantic versions are skipped. With `runningHearth`, versions given with a
 * minHearthVersion above it are skipped too (the update would be refused).
 */
export function newerVersion(installed: string, versions: readonly VersionRef[], runningHearth?: string): string | null {
  let best: string | null = null;
  for (const ref of versions) {
    const v = typeof ref === "string" ? ref : ref.version;
    try {
      if (isPrerelease(v) || compareSemver(v, installed) <= 0) continue;
      if (runningHearth !== undefined && typeof ref !== "string" && needsNewerHearth(ref, runningHearth)) continue;
      if (best === null || compareSemver(v, best) > 0) best = v;
    } catch {}
  }
  return best;
}

/**
 * The newest of `versions` that is a newer patch of `installed` (same major.minor, not a
 * pre-release): what an automatic update may install. Null when none.
 */
export function newerPatchVersion(installed: string, versions: readonly VersionRef[], runningHearth?: string): string | null {
  const m = SEMVER.exec(installed);
  if (!m) return null;
  const prefix = `${m[1]}.${m[2]}.`;
  return newerVersion(
    installed,
    versions.filter((v) => (typeof v === "string" ? v : v.version).startsWith(prefix)),
    runningHearth,
  );
}

/** Compares two semver versions (precedence per semver 2.0.0, build metadata ignored). */
export function compareSemver(a: string, b: string): number {
  const pa = SEMVER.exec(a);
  const pb = SEMVER.exec(b);
  if (!pa || !pb) throw new Error(`not a semantic version: ${!pa ? a : b}`);
  for (let i = 1; i <= 3; i++) {
    const d = Number(pa[i]) - Number(pb[i]);
    if (d !== 0) return Math.sign(d);
  }
  const ra = pa[4];
  const rb = pb[4];
  if (ra === undefined || rb === undefined) return ra === rb ? 0 : ra === undefined ? 1 : -1;
  const xa = ra.split(".");
  const xb = rb.split(".");
  for (let i = 0; i < Math.max(xa.length, xb.length); i++) {
    const ia = xa[i];
    const ib = xb[i];
    if (ia === undefined) return -1;
    if (ib === undefined) return 1;
    const na = /^\d+$/.test(ia);
    const nb = /^\d+$/.test(ib);
    if (na && nb) {
      const d = Number(ia) - Number(ib);
      if (d !== 0) return Math.sign(d);
    } else if (na !== nb) return na ? -1 : 1;
    else if (ia !== ib) return ia < ib ? -1 : 1;
  }
  return 0;
}
