import { spawnSync } from "node:child_process";
import type { Db } from "@hearth/db";
import type { AddonDeps } from "../../apps/box/src/addons/common";
import type { AddonHandler } from "../../apps/box/src/addons/handler";
import { AddonProvisioner } from "../../apps/box/src/addons/provisioner";
import { createServiceDockerExtras, type ServiceDockerExtras } from "../../apps/box/src/addons/service-docker";
import { ServiceManager, type ServiceManagerOptions } from "../../apps/box/src/addons/services";
import { AppService, noopVhostSync } from "../../apps/box/src/apps/apps.service";
import { prismaRegistryCredentials } from "../../apps/box/src/apps/images";
import { createDocker, type DockerApi } from "../../apps/box/src/docker/docker";
import type { Logger } from "../../apps/box/src/logger";
import { migratedDatabase, REPO_ROOT, type TestDatabase } from "./db";

/** Builds Hearth's own images from setup/images/<name>/build.sh (a no-op when they are current), in order. */
export function buildServiceImages(names: readonly string[]): void {
  for (const name of names) {
    const script = `setup/images/${name}/build.sh`;
    const r = spawnSync(`${REPO_ROOT}/${script}`, [], { encoding: "utf8", timeout: 900_000 });
    if (r.status !== 0) throw new Error(`${script} failed (${r.status ?? r.signal}):\n${r.stdout}${r.stderr}`);
  }
}

/** Builds one app of the built-in catalog (packages/catalog/build.sh <app>); returns the build's last line and how long it took. */
export function buildCatalogImage(app: string): { ms: number; last: string } {
  const t0 = Date.now();
  const r = spawnSync(`${REPO_ROOT}/packages/catalog/build.sh`, [app], { encoding: "utf8", timeout: 900_000 });
  if (r.status !== 0) throw new Error(`packages/catalog/build.sh ${app} failed (${r.status ?? r.signal}):\n${r.stdout}${r.stderr}`);
  return { ms: Date.now() - t0, last: r.stdout.trim().split("\n").pop() ?? "" };
}

/** An AppService as box wires it, minus nginx (noopVhostSync) and with the test's owner label and health wait. */
export function testAppService(o: {
  db: Db;
  docker: DockerApi;
  owner: string;
  addons?: AddonProvisioner;
  healthTimeoutMs: number;
  healthIntervalMs: number;
  catalogDirs?: readonly string[];
  /** Where removed containers' output is kept (paths.ts `dataPaths().appLogs`). */
  appLogDir?: (appId: string) => string;
}): AppService {
  return new AppService({
    db: o.db,
    docker: o.docker,
    vhosts: noopVhostSync,
    registries: prismaRegistryCredentials(o.db, undefined),
    catalogDirs: o.catalogDirs ?? [],
    owner: o.owner,
    healthTimeoutMs: o.healthTimeoutMs,
    healthIntervalMs: o.healthIntervalMs,
    ...(o.addons ? { addons: o.addons } : {}),
    ...(o.appLogDir ? { appLogDir: o.appLogDir } : {}),
  });
}

export interface AddonTestStackOptions {
  /** Prefix of the test database's name. */
  dbName: string;
  /** This run's owner label and the prefix of its services' names (both unique to the run). */
  owner: string;
  prefix: string;
  dataDir: string;
  log: Logger;
  secretKey: Buffer;
  /** A domain row (noop DNS, the dashboard's) for the apps' names. */
  domain: string;
  /** The addon handlers, on the stack's services (and its database, for those that read rows). */
  handlers: (deps: AddonDeps, db: Db) => AddonHandler[] | Promise<AddonHandler[]>;
  /** The services' own options of the test (e.g. `needed` for services on demand). */
  services?: Partial<Pick<ServiceManagerOptions, "needed" | "readyTimeoutMs">>;
  /** Start every service before the test (default); false leaves it to the test. */
  startServices?: boolean;
  /** Give the provisioner the services, so an uninstall stops those no app needs (services on demand). */
  settleServices?: boolean;
  /** An AppService on the stack, with this health wait. */
  apps: { healthTimeoutMs: number; healthIntervalMs: number };
  /** The test's own engine client and extras when it uses them outside the stack too (default: new ones). */
  docker?: DockerApi;
  extras?: ServiceDockerExtras;
}

export interface AddonTestStack {
  t: TestDatabase & { db: Db };
  db: Db;
  docker: DockerApi;
  extras: ServiceDockerExtras;
  services: ServiceManager;
  prov: AddonProvisioner;
  apps: AppService;
  /** How long the services' first start took (0 when not started). */
  startMs: number;
}

/**
 * What the addon and catalog integration tests run on: a migrated test database with a
 * domain, the shared addon services under this run's prefix and owner (ServiceManager), an
 * AddonProvisioner with the test's handlers and an AppService on top. The images must be
 * built first (buildServiceImages); removeTestDockerObjects({ owner, dataDir, … }) undoes it.
 */
export async function addonTestStack(o: AddonTestStackOptions): Promise<AddonTestStack> {
  const docker = o.docker ?? createDocker();
  const extras = o.extras ?? createServiceDockerExtras();
  const t = await migratedDatabase(o.dbName);
  const db = t.db;
  await db.domain.create({ data: { domain: o.domain, provider: "noop", isDashboardDomain: true } });
  const services = new ServiceManager({ docker, extras, dataDir: o.dataDir, prefix: o.prefix, owner: o.owner, log: o.log, readyTimeoutMs: 120_000, ...o.services });
  let startMs = 0;
  if (o.startServices !== false) {
    const t0 = Date.now();
    await services.start();
    startMs = Date.now() - t0;
  }
  const handlers = await o.handlers({ docker, extras, services }, db);
  const prov = new AddonProvisioner({ db, secretKey: o.secretKey, dataDir: o.dataDir, handlers, ...(o.settleServices ? { services } : {}) });
  const apps = testAppService({ db, docker, owner: o.owner, addons: prov, ...o.apps });
  return { t, db, docker, extras, services, prov, apps, startMs };
}
