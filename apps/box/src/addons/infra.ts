/**
 * The addon services' pinned versions: the same data as setup/images/services.env (the one
 * place they are pinned; the image builds read that file, box reads this). infra.test.ts
 * fails when the two disagree, so a bump is made in both in the same commit.
 *
 * - A service's version is the major series its image installs; the image is
 *   localhost/hearth/<service>:<version>. A change is a major upgrade: dump, new data folder, import.
 * - INFRA_VERSION changes whenever the images or their configuration change in a way the
 *   running containers must pick up: the containers are recreated on their data.
 */
export const INFRA_VERSION = "2";
export const SERVICE_VERSIONS = {
  mariadb: "10.11",
  postgresql: "15",
  redis: "7.0",
} as const;

export type ServiceName = keyof typeof SERVICE_VERSIONS;
/** The services one container serves every app from; redis is one container per app. */
export type SharedServiceName = "mariadb" | "postgresql";
export const SHARED_SERVICES: readonly SharedServiceName[] = ["mariadb", "postgresql"];
/** The shared service each addon runs on (the other addons need none). */
export const ADDON_SERVICES: Readonly<Record<string, SharedServiceName>> = { mysql: "mariadb", postgresql: "postgresql" };
/** The shared services the given addon names need. */
export function servicesFor(addons: Iterable<string>): Set<SharedServiceName> {
  const out = new Set<SharedServiceName>();
  for (const a of addons) if (Object.hasOwn(ADDON_SERVICES, a)) out.add(ADDON_SERVICES[a]!);
  return out;
}

export const serviceImageOf = (name: ServiceName, version: string) => `localhost/hearth/${name}:${version}`;

/** What box runs: normally INFRA below; tests pass an older one to exercise upgrades. */
export interface InfraSpec {
  infraVersion: string;
  services: Record<ServiceName, { version: string; image: string }>;
}

export const INFRA: InfraSpec = {
  infraVersion: INFRA_VERSION,
  services: {
    mariadb: { version: SERVICE_VERSIONS.mariadb, image: serviceImageOf("mariadb", SERVICE_VERSIONS.mariadb) },
    postgresql: { version: SERVICE_VERSIONS.postgresql, image: serviceImageOf("postgresql", SERVICE_VERSIONS.postgresql) },
    redis: { version: SERVICE_VERSIONS.redis, image: serviceImageOf("redis", SERVICE_VERSIONS.redis) },
  },
};

/** setup/images/services.env's KEY=VALUE lines (comments and blank lines skipped). */
export function parseServicesEnv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [i, raw] of text.split("\n").entries()) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const m = /^([A-Z][A-Z0-9_]*)=([A-Za-z0-9._-]+)$/.exec(line);
    if (!m) throw new Error(`services.env line ${i + 1}: not KEY=VALUE: ${line}`);
    out[m[1]!] = m[2]!;
  }
  return out;
}
