import { createHash } from "node:crypto";
import { chmod, mkdir, open, readdir, readFile, rename, rm, rmdir, stat } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type Docker from "dockerode";
import { HearthError } from "@hearth/contracts";
import { MANAGED_LABEL, OWNER_LABEL, type ContainerState, type DockerApi } from "../docker/docker";
import type { Logger } from "../logger";
import { dataPaths } from "../paths";
import { INFRA, SHARED_SERVICES, type InfraSpec, type ServiceName, type SharedServiceName } from "./infra";
import type { ServiceDockerExtras } from "./service-docker";

/**
 * The addon services as Hearth-managed containers:
 *
 * - mariadb and postgresql: one container each (`<prefix><name>`), shared by every app, on
 *   the network `<prefix>services` under the DNS names `mariadb` / `postgresql` (apps are
 *   attached to that network by provisioning). `start()` ensures them in that order, each
 *   waited for with a readiness check run inside the container (mysqladmin ping /
 *   pg_isready, then a query as the admin) — never a fixed sleep.
 * - redis: one container per owner (an app), made by `ensureRedis()` on a network the
 *   caller names, with the password the caller gives (provisioning keeps it in AppAddon).
 *
 * On disk, under `<dataDir>/services/<name>/` (box's, 0700): `data-<version>/` (the data
 * folder, bind-mounted into the container) and upgrade dumps. The folder itself is mounted
 * read-only at /etc/hearth in the container: an import reads its dump there, so it never
 * passes through a command line. MariaDB and PostgreSQL have no administrator over the
 * network: box runs every admin statement inside the container over the local socket
 * (root by unix_socket, postgres by peer); apps get their own users. (A `root-password`
 * file left by an earlier version is removed.)
 * Per-app redis lives in `<dataDir>/services/redis/<ownerId>/` (`password`, `data/`).
 *
 * Upgrades: a container records the service version, the infra version and its data
 * folder in labels/mounts. When what it runs differs from `infra` (infra.ts, mirrored from
 * setup/images/services.env), `ensure()` upgrades it: dump the old one to
 * `upgrade-<ts>.sql`, stop it and rename it `<name>-previous`, start the new one — on a
 * new, empty data folder when the version (= data format) changed, importing the dump
 * there; on the same folder when only the infra changed (the dump is then a safety copy) —
 * and only after the new one is ready (and imported) remove the old one. Every phase is
 * recorded in `upgrade.json` before it starts, so a box that dies mid-way resumes where
 * it was; a new container that fails (not ready, import error) is rolled back to the old
 * one, which still has all its data, and the error says why.
 */

export const SERVICE_LABEL = "hearth.service";
/** In a per-app redis folder: the store (owner label) the data is of. */
export const REDIS_OWNER_FILE = "store";
export const SERVICE_VERSION_LABEL = "hearth.service.version";
export const INFRA_LABEL = "hearth.infra";
/** Whose redis instance this is (an app id, for provisioning). */
export const SERVICE_OWNER_LABEL = "hearth.service.owner";
/** The DNS name of a redis instance on its network (needed to recreate it on an upgrade). */
export const SERVICE_ALIAS_LABEL = "hearth.service.alias";
/** "job" on one-shot helper containers (emptying a data folder). */
export const SERVICE_ROLE_LABEL = "hearth.service.role";

export const MiB = 1024 * 1024;
export const DEFAULT_MEMORY: Record<SharedServiceName, number> = { mariadb: 768 * MiB, postgresql: 512 * MiB };
export const DEFAULT_REDIS_MEMORY = 256 * MiB;
const READY_TIMEOUT_MS = 180_000;
/** What a stopped database gets to shut down cleanly before it is killed. */
const STOP_TIMEOUT_S = 60;
const KEEP_DUMPS = 3;
const CONTROL_MOUNT = "/etc/hearth";

type ServiceLog = Pick<Logger, "info" | "warn" | "error">;

interface ServiceDef {
  /** Where the data folder is mounted (the image's start script prepares it). */
  dataTarget: string;
  port: number;
  /** The password file's name in the control folder (redis; the databases have no network admin). */
  passwordFile?: string;
  /** Succeeds once the server answers (may fail while it starts). */
  ready: string[];
  /** Must then succeed: the admin can run a query. */
  auth?: string[];
  dump?: string[];
  /** A complete dump ends with this (a truncated one does not). */
  dumpTrailer?: string;
  /** Imports the dump at this path inside the container. */
  importCmd?: (dumpInContainer: string) => string[];
  tmpSize: string;
  shmSize?: number;
}

export const SERVICE_DEFS: Record<ServiceName, ServiceDef> = {
  mariadb: {
    dataTarget: "/var/lib/mysql",
    port: 3306,
    // root@localhost is unix_socket-authenticated: docker exec runs as root, no password;
    // there is no root over the network (the image drops root@'%' at every start)
    ready: ["mysqladmin", "--protocol=socket", "--connect-timeout=5", "ping"],
    auth: ["mariadb", "--protocol=socket", "-uroot", "-N", "-e", "SELECT 1"],
    dump: [
      "mariadb-dump",
      "--protocol=socket",
      "-uroot",
      "--all-databases",
      "--single-transaction",
      "--routines",
      "--events",
      "--triggers",
      "--hex-blob",
      "--flush-privileges",
      "--default-character-set=utf8mb4",
    ],
    dumpTrailer: "-- Dump completed",
    // the grant tables come from the dump; mariadb-upgrade brings them to this version's format
    importCmd: (f) => [
      "bash",
      "-c",
      "set -euo pipefail; mariadb --protocol=socket -uroot --default-character-set=utf8mb4 <\"$1\"; mariadb-upgrade --protocol=socket -uroot --force --silent >/dev/null; mariadb --protocol=socket -uroot -e \"DROP USER IF EXISTS 'root'@'%', 'root'@'127.0.0.1', 'root'@'::1'\"",
      "import",
      f,
    ],
    tmpSize: "256m",
  },
  postgresql: {
    dataTarget: "/var/lib/postgresql",
    port: 5432,
    // the superuser postgres only over the socket (peer): pg_hba.conf rejects it over the network
    ready: ["pg_isready", "-q", "-h", "/run/postgresql", "-U", "postgres", "-d", "postgres"],
    auth: ["runuser", "-u", "postgres", "--", "psql", "-X", "-tAc", "SELECT 1", "postgres"],
    dump: ["runuser", "-u", "postgres", "--", "pg_dumpall", "--quote-all-identifiers"],
    dumpTrailer: "PostgreSQL database cluster dump complete",
    // the new cluster has its bootstrap role already: its CREATE ROLE is the one line that
    // would fail (its ALTER ROLE that follows still applies), so it is dropped and every
    // other error stops the import
    importCmd: (f) => [
      "bash",
      "-c",
      'set -euo pipefail; { sed \'/^CREATE ROLE "\\{0,1\\}postgres"\\{0,1\\};$/d\' "$1"; echo "ALTER ROLE postgres WITH PASSWORD NULL;"; } | runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -d postgres >/dev/null',
      "import",
      f,
    ],
    tmpSize: "64m",
    shmSize: 128 * MiB,
  },
  redis: {
    dataTarget: "/var/lib/redis",
    port: 6379,
    passwordFile: "password",
    ready: ["sh", "-c", 'REDISCLI_AUTH="$(cat "$HEARTH_PASSWORD_FILE")" redis-cli --no-auth-warning ping | grep -qx PONG'],
    tmpSize: "16m",
  },
};

export interface ServiceEndpoint {
  service: ServiceName;
  container: string;
  network: string;
  /** The DNS name on `network`. */
  host: string;
  port: number;
}

export type UpgradePhase = "dump" | "switch" | "cleanup";

interface UpgradeState {
  service: SharedServiceName;
  phase: UpgradePhase;
  from: { containerId: string; version: string; infra: string; dataPath: string; imageId: string };
  to: { version: string; infra: string; dataPath: string; image: string };
  /** File name in the service's folder. */
  dump: string;
  startedAt: string;
}

export interface ServiceManagerOptions {
  docker: DockerApi;
  extras: ServiceDockerExtras;
  dataDir: string;
  /** Prefix of every Docker object's name: "hearth-" (tests use one of their own). */
  prefix?: string;
  /** OWNER_LABEL value on every object (which Hearth store they belong to), as for apps. */
  owner?: string;
  /** Older owner labels that are this store's too (the URL hash before the store id; see packages/db repos/store.ts). */
  legacyOwners?: string[];
  /** What to run; default INFRA (infra.ts). */
  infra?: InfraSpec;
  memory?: Partial<Record<SharedServiceName, number>>;
  readyTimeoutMs?: number;
  log: ServiceLog;
  /**
   * Which shared services some app needs now (see addonsDeclaredByApps in packages/db and
   * serviceOfAddon). Given, the services run on demand: `start()` starts only those, and
   * `settle()` stops one that no app needs and no operation is using. Not given (tests
   * that drive the manager alone), every service runs from `start()` on and is never stopped.
   */
  needed?: () => Promise<ReadonlySet<SharedServiceName>>;
  /**
   * Test seam: called each time an upgrade enters a phase (after it is recorded on disk).
   * A throw leaves everything as a crash at that point would.
   */
  onUpgradePhase?: (service: SharedServiceName, phase: UpgradePhase, dumpFile: string) => void | Promise<void>;
}

export interface RedisSpec {
  /** Whose instance: [a-z0-9][a-z0-9-]*, at most 63 characters (an app id). */
  ownerId: string;
  /** requirepass; at least 16 characters (provisioning makes ≥ 128 random bits). */
  password: string;
  /** The network it joins (the app's); must exist. */
  network: string;
  /** Its DNS name on that network; default the container's name. */
  alias?: string;
  memoryLimit?: number;
  /** More labels (e.g. hearth.app); Hearth's own win. */
  labels?: Record<string, string>;
}

const OWNER_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const hasControl = (s: string) => /[\u0000-\u001f\u007f]/.test(s);

export interface ServiceSpecInput {
  service: ServiceName;
  containerName: string;
  image: string;
  version: string;
  infraVersion: string;
  /** Host folder with the password file (and dumps), mounted read-only at /etc/hearth. */
  controlDir: string;
  /** Host folder with the data. */
  dataPath: string;
  network: string;
  alias: string;
  memory: number;
  owner?: string;
  labels?: Record<string, string>;
  env?: string[];
}

/** What Docker is asked to create for a service: pure, unit-tested. */
export function serviceContainerSpec(i: ServiceSpecInput): Docker.ContainerCreateOptions {
  const def = SERVICE_DEFS[i.service];
  if (!Number.isSafeInteger(i.memory) || i.memory < 32 * MiB) throw new HearthError("invalid", `memory limit for ${i.service} must be at least 32 MiB`);
  for (const p of [i.controlDir, i.dataPath]) if (!path.isAbsolute(p)) throw new HearthError("invalid", `${p} is not an absolute path`);
  const labels: Record<string, string> = {
    ...(i.labels ?? {}),
    [MANAGED_LABEL]: "true",
    [SERVICE_LABEL]: i.service,
    [SERVICE_VERSION_LABEL]: i.version,
    [INFRA_LABEL]: i.infraVersion,
    ...(i.owner ? { [OWNER_LABEL]: i.owner } : {}),
  };
  return {
    name: i.containerName,
    Image: i.image,
    Hostname: i.service,
    Env: [...(def.passwordFile ? [`HEARTH_PASSWORD_FILE=${CONTROL_MOUNT}/${def.passwordFile}`] : []), ...(i.env ?? [])],
    Labels: labels,
    ExposedPorts: { [`${def.port}/tcp`]: {} },
    StopTimeout: STOP_TIMEOUT_S,
    HostConfig: {
      ReadonlyRootfs: true,
      Tmpfs: { "/run": "rw,nosuid,nodev,size=16m", "/tmp": `rw,nosuid,nodev,size=${def.tmpSize}` },
      Mounts: [
        { Type: "bind", Source: i.controlDir, Target: CONTROL_MOUNT, ReadOnly: true },
        { Type: "bind", Source: i.dataPath, Target: def.dataTarget, ReadOnly: false },
      ],
      SecurityOpt: ["no-new-privileges:true"],
      CapDrop: ["ALL"],
      // the start script runs as root to prepare the data folder and read the password
      // file (box's, 0600), then drops to the service's user; KILL lets docker-init pass
      // SIGTERM on to that user's process
      CapAdd: ["CHOWN", "SETUID", "SETGID", "DAC_OVERRIDE", "FOWNER", "KILL"],
      Memory: i.memory,
      MemorySwap: i.memory,
      PidsLimit: 1024,
      ...(def.shmSize ? { ShmSize: def.shmSize } : {}),
      RestartPolicy: { Name: "unless-stopped", MaximumRetryCount: 0 },
      NetworkMode: i.network,
      LogConfig: { Type: "json-file", Config: { "max-size": "10m", "max-file": "3" } },
      Init: true,
    },
    NetworkingConfig: { EndpointsConfig: { [i.network]: { Aliases: [i.alias] } } },
  };
}

/** The host folder mounted as the service's data, or null. */
export function dataMountOf(c: ContainerState, service: ServiceName): string | null {
  const m = (c.raw.Mounts ?? []).find((x) => x.Destination === SERVICE_DEFS[service].dataTarget);
  return m?.Source ?? null;
}

/** Why a container is not what is wanted (empty: it is). */
export function outdatedReasons(c: ContainerState, want: { version: string; infraVersion: string; imageId: string; dataPath: string }, service: ServiceName): string[] {
  const out: string[] = [];
  if (c.labels[SERVICE_VERSION_LABEL] !== want.version) out.push(`version ${c.labels[SERVICE_VERSION_LABEL] ?? "?"} → ${want.version}`);
  if (c.labels[INFRA_LABEL] !== want.infraVersion) out.push(`infra ${c.labels[INFRA_LABEL] ?? "?"} → ${want.infraVersion}`);
  if (c.raw.Image !== want.imageId) out.push("image rebuilt");
  const data = dataMountOf(c, service);
  if (data !== want.dataPath) out.push(`data folder ${data ?? "(none)"} → ${want.dataPath}`);
  return out;
}

/** The networks a container is on besides `except`, each with its own aliases (not Docker's short-id one). */
export function otherNetworksOf(c: ContainerState, except: string): { network: string; aliases: string[] }[] {
  const nets = (c.raw.NetworkSettings?.Networks ?? {}) as Record<string, { Aliases?: string[] | null }>;
  return Object.entries(nets)
    .filter(([n]) => n !== except)
    .map(([network, ep]) => ({ network, aliases: (ep.Aliases ?? []).filter((a) => !c.id.startsWith(a)) }));
}

async function writeFileAtomic(file: string, data: string): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  const fh = await open(tmp, "w", 0o600);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
}

const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(String(c)));
  return Buffer.concat(chunks).toString("utf8");
}

async function readTail(file: string, bytes: number): Promise<string> {
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

export class ServiceManager {
  readonly prefix: string;
  readonly network: string;
  readonly servicesDir: string;
  private readonly infra: InfraSpec;
  private readonly readyTimeoutMs: number;
  private readonly queue = new Map<string, Promise<unknown>>();
  /** Operations running on a shared service right now (use()): it is not stopped under them. */
  private readonly leases: Record<SharedServiceName, number> = { mariadb: 0, postgresql: 0 };

  constructor(private readonly o: ServiceManagerOptions) {
    this.prefix = o.prefix ?? "hearth-";
    if (!/^[a-z0-9][a-z0-9_.-]*$/.test(this.prefix)) throw new HearthError("invalid", `bad object name prefix "${this.prefix}"`);
    this.network = `${this.prefix}services`;
    this.servicesDir = dataPaths(o.dataDir).services;
    this.infra = o.infra ?? INFRA;
    this.readyTimeoutMs = o.readyTimeoutMs ?? READY_TIMEOUT_MS;
  }

  containerName(service: ServiceName, ownerId?: string): string {
    return service === "redis" ? `${this.prefix}redis-${ownerId}` : `${this.prefix}${service}`;
  }
  controlDir(service: SharedServiceName): string {
    return path.join(this.servicesDir, service);
  }
  dataPath(service: SharedServiceName, version: string): string {
    return path.join(this.controlDir(service), `data-${version}`);
  }
  endpoint(service: SharedServiceName): ServiceEndpoint {
    return { service, container: this.containerName(service), network: this.network, host: service, port: SERVICE_DEFS[service].port };
  }
  /** Labels that mark an object as this store's (for provisioning's job containers). */
  ownerLabels(): Record<string, string> {
    return this.labelsBase();
  }
  /** The image a service runs (provisioning's job containers use it too). */
  imageOf(service: ServiceName): string {
    return this.infra.services[service].image;
  }
  /**
   * At box start: the shared services in order, each ready before the next; then redis
   * instances an infra change left behind. On demand (`needed` given), only the services
   * some app needs are started (and one with an unfinished upgrade, so it ends as its
   * record says); the others are stopped if they run (their data stays).
   */
  async start(): Promise<ServiceEndpoint[]> {
    const t0 = Date.now();
    const out: ServiceEndpoint[] = [];
    const needed = this.o.needed ? await this.o.needed() : null;
    for (const s of SHARED_SERVICES) {
      if (!needed || needed.has(s) || (await this.readState(s))) out.push(await this.ensure(s));
    }
    if (needed) await this.settleAll();
    await this.refreshRedis();
    this.o.log.info({ services: out.map((e) => e.container), ms: Date.now() - t0 }, "addon services ready");
    return out;
  }

  /**
   * Runs `fn` with the service up: started (and waited for) first, and not stopped by
   * settle() while fn runs. Afterwards the service is stopped if no app needs it any more
   * (e.g. the last user's database was just dropped). Every addon operation on a shared
   * service goes through here (provision, deprovision, backup, restore, clear, purge).
   */
  async use<T>(service: SharedServiceName, fn: () => Promise<T>): Promise<T> {
    this.leases[service]++;
    try {
      await this.ensure(service);
      return await fn();
    } finally {
      this.leases[service]--;
      if (this.o.needed) void this.settle(service).catch((e: unknown) => this.o.log.error({ addon: service, err: e }, "stopping the unused service failed"));
    }
  }

  /**
   * Stops the service when no app needs it and no operation uses it (its container and
   * data stay; the next use() starts it again). One change at a time per service, so a stop
   * never races a start. No-op without `needed`, while an upgrade is unfinished, and for a
   * container that is not this store's.
   */
  settle(service: SharedServiceName): Promise<void> {
    const needed = this.o.needed;
    if (!needed) return Promise.resolve();
    return this.serial(service, async () => {
      if (this.leases[service] > 0) return;
      if ((await needed()).has(service)) return;
      if (await this.readState(service)) return;
      // only this store's own container is stopped (another store's is none of its business)
      if (!(await this.ownsRunningService(service))) return;
      if (this.leases[service] > 0) return;
      this.o.log.info({ addon: service }, "stopping the service: no app needs it (its data stays)");
      await this.o.docker.stopContainer(this.containerName(service), STOP_TIMEOUT_S);
    });
  }

  /** settle() for every shared service (after an uninstall, at start). */
  async settleAll(): Promise<void> {
    for (const s of SHARED_SERVICES) await this.settle(s);
  }

  /** Makes the service run (creating or upgrading its container) and waits until it is ready. Idempotent. */
  ensure(service: SharedServiceName): Promise<ServiceEndpoint> {
    return this.serial(service, async () => {
      // an upgrade leaves the service as its target says; a second round checks that is
      // (still) what is wanted, e.g. after a box that died mid-upgrade got a newer infra
      for (let round = 0; round < 3; round++) {
        if (await this.ensureOnce(service)) return this.endpoint(service);
      }
      throw new HearthError("internal", `${service}: still not up to date after an upgrade`);
    });
  }

  // ---- shared services -------------------------------------------------------------------

  private want(service: SharedServiceName) {
    const s = this.infra.services[service];
    return { version: s.version, infraVersion: this.infra.infraVersion, image: s.image, dataPath: this.dataPath(service, s.version) };
  }

  /** This store's owner label, or one of its legacy ones. */
  private isOwnLabel(label: string | undefined): boolean {
    return (label ?? "") === (this.o.owner ?? "") || (!!label && (this.o.legacyOwners ?? []).includes(label));
  }

  private labelsBase(): Record<string, string> {
    return this.o.owner ? { [OWNER_LABEL]: this.o.owner } : {};
  }

  /** True when the service is up to date and ready; false after an upgrade step (look again). */
  private async ensureOnce(service: SharedServiceName): Promise<boolean> {
    const want = this.want(service);
    const image = await this.o.docker.inspectImage(want.image);
    if (!image) throw new HearthError("bad_state", `the image ${want.image} is missing: build it with setup/images/build-all.sh`);
    await this.ensureNetwork();
    await mkdir(this.controlDir(service), { recursive: true, mode: 0o700 });
    await chmod(this.controlDir(service), 0o700);
    // the network admin password of earlier versions opens nothing any more (the images drop
    // root@'%' and postgres's password): not kept lying around
    await rm(path.join(this.controlDir(service), "root-password"), { force: true });

    const state = await this.readState(service);
    if (state) {
      await this.runUpgrade(service, state, image.id);
      return false;
    }

    const name = this.containerName(service);
    const cur = await this.o.docker.inspectContainer(name);
    if (cur) this.assertOurs(cur, service);
    if (!cur) {
      const previous = await this.o.docker.inspectContainer(`${name}-previous`);
      if (previous) this.o.log.warn({ addon: service, container: previous.name }, "a previous container of this service is left from an earlier upgrade; leaving it alone");
      // data of another version without its container (removed by hand) cannot be
      // upgraded from: say so rather than silently starting empty next to it
      const others = (await readdir(this.controlDir(service))).filter((f) => f.startsWith("data-") && f !== path.basename(want.dataPath));
      if (others.length) this.o.log.warn({ addon: service, folders: others }, "data folders of other versions exist without a container; they are not imported");
      await mkdir(want.dataPath, { recursive: true, mode: 0o700 });
      this.o.log.info({ addon: service, version: want.version, infra: want.infraVersion }, "creating the service's container");
      await this.createService(service, name, want);
      await this.o.docker.startContainer(name);
      await this.waitReady(service, name);
      return true;
    }

    const reasons = outdatedReasons(cur, { ...want, imageId: image.id }, service);
    if (reasons.length === 0) {
      if (!cur.running) {
        this.o.log.info({ addon: service }, "starting the service");
        await this.o.docker.startContainer(cur.id);
      }
      await this.waitReady(service, cur.id);
      return true;
    }

    const dataPath = dataMountOf(cur, service);
    if (!dataPath) throw new HearthError("bad_state", `the container ${name} has no data folder mounted at ${SERVICE_DEFS[service].dataTarget}`);
    const upgrade: UpgradeState = {
      service,
      phase: "dump",
      from: {
        containerId: cur.id,
        version: cur.labels[SERVICE_VERSION_LABEL] ?? "?",
        infra: cur.labels[INFRA_LABEL] ?? "?",
        dataPath,
        imageId: cur.raw.Image,
      },
      to: { version: want.version, infra: want.infraVersion, dataPath: want.dataPath, image: want.image },
      dump: `upgrade-${new Date().toISOString().replace(/[:.]/g, "-")}.sql`,
      startedAt: new Date().toISOString(),
    };
    this.o.log.info({ addon: service, reasons }, "upgrading the service");
    await this.writeState(upgrade);
    await this.o.onUpgradePhase?.(service, "dump", path.join(this.controlDir(service), upgrade.dump));
    await this.runUpgrade(service, upgrade, image.id);
    return false;
  }

  /** True when the shared service's container exists, runs and is this store's (orphan detection looks only then). */
  async ownsRunningService(service: SharedServiceName): Promise<boolean> {
    const c = await this.o.docker.inspectContainer(this.containerName(service));
    return !!c && c.running && c.labels[MANAGED_LABEL] === "true" && c.labels[SERVICE_LABEL] === service && this.isOwnLabel(c.labels[OWNER_LABEL]);
  }

  private assertOurs(c: ContainerState, service: ServiceName): void {
    if (c.labels[MANAGED_LABEL] !== "true") throw new HearthError("conflict", `a container named ${c.name} exists that Hearth did not create; remove or rename it`);
    if (c.labels[SERVICE_LABEL] !== service) throw new HearthError("conflict", `the container ${c.name} is not Hearth's ${service} service`);
    // another Hearth store on this engine (e.g. a test's box next to an installed one) must
    // never take over, let alone "upgrade" into its own data dir, this store's service
    if (!this.isOwnLabel(c.labels[OWNER_LABEL])) {
      throw new HearthError("conflict", `the container ${c.name} belongs to another Hearth installation (owner ${c.labels[OWNER_LABEL] ?? "none"}); use another object name prefix`);
    }
  }

  private async createService(service: SharedServiceName, name: string, want: ReturnType<ServiceManager["want"]>): Promise<string> {
    return this.o.docker.createContainer(
      serviceContainerSpec({
        service,
        containerName: name,
        image: want.image,
        version: want.version,
        infraVersion: want.infraVersion,
        controlDir: this.controlDir(service),
        dataPath: want.dataPath,
        network: this.network,
        alias: service,
        memory: this.o.memory?.[service] ?? DEFAULT_MEMORY[service],
        owner: this.o.owner,
      }),
    );
  }

  private async runUpgrade(service: SharedServiceName, state: UpgradeState, newImageId: string): Promise<void> {
    const dir = this.controlDir(service);
    const dumpFile = path.join(dir, state.dump);
    const enter = async (phase: UpgradePhase) => {
      state.phase = phase;
      await this.writeState(state);
      await this.o.onUpgradePhase?.(service, phase, dumpFile);
    };
    const fromTo = `${state.from.version} (infra ${state.from.infra}) → ${state.to.version} (infra ${state.to.infra})`;

    if (state.phase === "dump") {
      // nothing has changed yet: aim at what is wanted now (the infra may have moved on
      // since a crash in this phase)
      const w = this.want(service);
      state.to = { version: w.version, infra: w.infraVersion, dataPath: w.dataPath, image: w.image };
      const old = await this.o.docker.inspectContainer(state.from.containerId);
      if (!old) {
        throw new HearthError("bad_state", `upgrading ${service}: its container disappeared before it was dumped; its data is still in ${state.from.dataPath} (see ${path.join(dir, "upgrade.json")})`);
      }
      if (outdatedReasons(old, { version: w.version, infraVersion: w.infraVersion, imageId: newImageId, dataPath: w.dataPath }, service).length === 0) {
        // what runs is what is wanted again (the infra went back): nothing to do
        await rm(path.join(dir, "upgrade.json"), { force: true });
        return;
      }
      if (!old.running) await this.o.docker.startContainer(old.id);
      await this.waitReady(service, old.id);
      const t = Date.now();
      await this.dump(service, old.id, dumpFile);
      const { size } = await stat(dumpFile);
      this.o.log.info({ addon: service, dump: dumpFile, bytes: size, ms: Date.now() - t }, "service dumped for the upgrade");
      await enter("switch");
    }

    if (state.phase === "switch") {
      try {
        await this.switchOver(service, state, dumpFile);
      } catch (err) {
        await this.rollBack(service, state, err, fromTo);
      }
      await enter("cleanup");
    }

    if (state.phase === "cleanup") {
      const old = await this.o.docker.inspectContainer(state.from.containerId);
      if (old) {
        this.assertOurs(old, service);
        await this.o.docker.removeContainer(old.id);
      }
      if (state.from.dataPath !== state.to.dataPath) {
        // only a folder of ours is emptied (one elsewhere, e.g. from before the data dir
        // moved, is left for the admin)
        if (this.isInside(state.from.dataPath, dir)) await this.wipeDataDir(service, state.from.dataPath, state.to.image);
        else this.o.log.warn({ addon: service, folder: state.from.dataPath }, "the old data folder is outside Hearth's services folder; left in place");
      }
      if (state.from.imageId !== newImageId) await this.o.extras.removeDanglingImage(state.from.imageId);
      await rm(path.join(dir, "upgrade.json"), { force: true });
      await this.pruneDumps(service);
      this.o.log.info({ addon: service, from: state.from.version, to: state.to.version, infra: state.to.infra }, "service upgraded");
    }
  }

  /** Old container stopped and set aside, new one made, ready and (on a new data folder) loaded with the dump. */
  private async switchOver(service: SharedServiceName, state: UpgradeState, dumpFile: string): Promise<void> {
    const name = this.containerName(service);
    const previous = `${name}-previous`;
    const old = await this.o.docker.inspectContainer(state.from.containerId);
    // networks the old container was attached to besides the services network (apps'
    // networks, by provisioning) are carried over with their aliases
    const extraNetworks = old ? otherNetworksOf(old, this.network) : [];
    if (old) {
      await this.o.docker.stopContainer(old.id, STOP_TIMEOUT_S);
      if (old.name !== previous) {
        // a leftover `-previous` of an upgrade that finished long ago would block the name
        const stale = await this.o.docker.inspectContainer(previous);
        if (stale && stale.id !== old.id) {
          this.assertOurs(stale, service);
          await this.o.docker.removeContainer(stale.id);
        }
        await this.o.extras.renameContainer(old.id, previous);
      }
    }
    // a new container from an attempt that died half-way is made again from scratch
    const half = await this.o.docker.inspectContainer(name);
    if (half && half.id !== state.from.containerId) {
      this.assertOurs(half, service);
      await this.o.docker.removeContainer(half.id);
    }
    const major = state.from.dataPath !== state.to.dataPath;
    if (major) {
      // the new folder holds nothing but what such an attempt left
      await this.wipeDataDir(service, state.to.dataPath, state.to.image);
      await mkdir(state.to.dataPath, { recursive: true, mode: 0o700 });
    }
    const want = { version: state.to.version, infraVersion: state.to.infra, image: state.to.image, dataPath: state.to.dataPath };
    const id = await this.createService(service, name, want);
    for (const n of extraNetworks) {
      if (await this.o.docker.inspectNetwork(n.network)) await this.o.extras.connectNetwork(n.network, id, n.aliases);
    }
    await this.o.docker.startContainer(id);
    await this.waitReady(service, id);
    if (major) {
      const t = Date.now();
      const r = await this.o.docker.exec(id, SERVICE_DEFS[service].importCmd!(`${CONTROL_MOUNT}/${path.basename(dumpFile)}`));
      if (r.exitCode !== 0) {
        throw new HearthError("external", `importing the dump into ${service} ${state.to.version} failed (exit ${r.exitCode}): ${r.output.trim().slice(-2000)}`);
      }
      this.o.log.info({ addon: service, ms: Date.now() - t }, "dump imported into the new version");
      await this.waitReady(service, id);
    }
  }

  /** The new container failed: back to the old one (whose data was not touched on a new folder). Then rethrows. */
  private async rollBack(service: SharedServiceName, state: UpgradeState, err: unknown, fromTo: string): Promise<never> {
    const name = this.containerName(service);
    const why = err instanceof Error ? err.message : String(err);
    this.o.log.error({ addon: service, err }, "the upgraded service failed; going back to the previous container");
    try {
      const cur = await this.o.docker.inspectContainer(name);
      if (cur && cur.id !== state.from.containerId) {
        this.assertOurs(cur, service);
        await this.o.docker.removeContainer(cur.id);
      }
      if (state.from.dataPath !== state.to.dataPath) await this.wipeDataDir(service, state.to.dataPath, state.to.image);
      const old = await this.o.docker.inspectContainer(state.from.containerId);
      if (!old) throw new Error("the previous container is gone");
      if (old.name !== name) await this.o.extras.renameContainer(old.id, name);
      await this.o.docker.startContainer(old.id);
      await this.waitReady(service, old.id);
    } catch (rollbackErr) {
      // upgrade.json stays: the next start tries the upgrade again from the dump
      throw new HearthError("external", `upgrading ${service} ${fromTo} failed: ${why}; going back to the previous container failed too: ${(rollbackErr as Error).message}`, { cause: err });
    }
    await rm(path.join(this.controlDir(service), "upgrade.json"), { force: true });
    throw new HearthError(
      "external",
      `upgrading ${service} ${fromTo} failed: ${why}; the previous container runs again with its data (dump kept in ${path.join(this.controlDir(service), state.dump)})`,
      { cause: err },
    );
  }

  private async dump(service: SharedServiceName, container: string, file: string): Promise<void> {
    const def = SERVICE_DEFS[service];
    const r = await this.o.extras.execToFile(container, def.dump!, file);
    if (r.exitCode !== 0) throw new HearthError("external", `dumping ${service} failed (exit ${r.exitCode}): ${r.stderr.trim().slice(-2000)}`);
    if (!(await readTail(file, 4096)).includes(def.dumpTrailer!)) {
      await rm(file, { force: true });
      throw new HearthError("external", `dumping ${service} produced an incomplete dump (no "${def.dumpTrailer}" at its end)`);
    }
  }

  private async pruneDumps(service: SharedServiceName): Promise<void> {
    const dir = this.controlDir(service);
    const dumps = (await readdir(dir)).filter((f) => /^upgrade-.*\.sql$/.test(f)).sort();
    for (const f of dumps.slice(0, Math.max(0, dumps.length - KEEP_DUMPS))) await rm(path.join(dir, f), { force: true });
  }

  private async readState(service: SharedServiceName): Promise<UpgradeState | null> {
    let text: string;
    try {
      text = await readFile(path.join(this.controlDir(service), "upgrade.json"), "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw e;
    }
    const s = JSON.parse(text) as UpgradeState;
    if (s.service !== service || !["dump", "switch", "cleanup"].includes(s.phase) || !s.from?.containerId || !s.to?.dataPath || !/^upgrade-[\w.-]+\.sql$/.test(s.dump)) {
      throw new HearthError("bad_state", `${path.join(this.controlDir(service), "upgrade.json")} is not a valid upgrade record`);
    }
    this.assertInside(s.to.dataPath, this.controlDir(service));
    return s;
  }

  private async writeState(s: UpgradeState): Promise<void> {
    await writeFileAtomic(path.join(this.controlDir(s.service), "upgrade.json"), `${JSON.stringify(s, null, 2)}\n`);
  }

  // ---- per-app redis ------------------------------------------------------------------------

  redisDir(ownerId: string): string {
    return path.join(this.servicesDir, "redis", ownerId);
  }

  /**
   * One redis container for `ownerId` on `spec.network`, with `spec.password`: created when
   * missing, recreated (same data) when its image/infra is outdated or its settings differ,
   * restarted when the password changed, then waited for. Idempotent.
   */
  async ensureRedis(spec: RedisSpec): Promise<ServiceEndpoint> {
    if (!OWNER_ID.test(spec.ownerId)) throw new HearthError("invalid", "a redis owner id is 1-63 lowercase letters, digits and '-'");
    if (spec.password.length < 16 || hasControl(spec.password)) throw new HearthError("invalid", "a redis password has at least 16 characters and no control characters");
    const memory = spec.memoryLimit ?? DEFAULT_REDIS_MEMORY;
    if (!Number.isSafeInteger(memory) || memory < 32 * MiB) throw new HearthError("invalid", "a redis memory limit is at least 32 MiB");
    return this.serial(`redis:${spec.ownerId}`, async () => {
      const want = this.infra.services.redis;
      const image = await this.o.docker.inspectImage(want.image);
      if (!image) throw new HearthError("bad_state", `the image ${want.image} is missing: build it with setup/images/build-all.sh`);
      if (!(await this.o.docker.inspectNetwork(spec.network))) throw new HearthError("not_found", `no network ${spec.network} for the redis of ${spec.ownerId}`);
      const dir = this.redisDir(spec.ownerId);
      await mkdir(path.join(dir, "data"), { recursive: true, mode: 0o700 });
      // which store the data is of (redisOwners lists only this store's)
      if (this.o.owner && !(await stat(path.join(dir, REDIS_OWNER_FILE)).catch(() => null))) await writeFileAtomic(path.join(dir, REDIS_OWNER_FILE), `${this.o.owner}\n`);
      const changed = await this.writePasswordIfChanged(path.join(dir, SERVICE_DEFS.redis.passwordFile!), spec.password);

      const name = this.containerName("redis", spec.ownerId);
      const alias = spec.alias ?? name;
      let cur = await this.o.docker.inspectContainer(name);
      if (cur) {
        this.assertOurs(cur, "redis");
        const reasons = outdatedReasons(cur, { version: want.version, infraVersion: this.infra.infraVersion, imageId: image.id, dataPath: path.join(dir, "data") }, "redis");
        if (cur.raw.HostConfig.NetworkMode !== spec.network) reasons.push("network");
        if (cur.raw.HostConfig.Memory !== memory) reasons.push("memory limit");
        if (cur.labels[SERVICE_ALIAS_LABEL] !== alias) reasons.push("alias");
        if (reasons.length) {
          this.o.log.info({ addon: "redis", ownerId: spec.ownerId, reasons }, "recreating the redis container (its data stays)");
          // a clean stop first (a forced remove would SIGKILL it): redis saves on the way out
          await this.o.docker.stopContainer(cur.id, STOP_TIMEOUT_S);
          await this.o.docker.removeContainer(cur.id);
          cur = null;
        }
      }
      if (!cur) {
        await this.createRedis(spec.ownerId, spec.network, alias, memory, spec.labels ?? {});
        await this.o.docker.startContainer(name);
      } else if (!cur.running) {
        await this.o.docker.startContainer(cur.id);
      } else if (changed) {
        await this.o.docker.restartContainer(cur.id, STOP_TIMEOUT_S);
      }
      await this.waitReady("redis", name);
      return { service: "redis", container: name, network: spec.network, host: alias, port: SERVICE_DEFS.redis.port };
    });
  }

  /** Stops and removes the redis container of `ownerId`, keeping its data and password (uninstall). Idempotent. */
  async removeRedisContainer(ownerId: string): Promise<void> {
    if (!OWNER_ID.test(ownerId)) throw new HearthError("invalid", "a redis owner id is 1-63 lowercase letters, digits and '-'");
    return this.serial(`redis:${ownerId}`, async () => {
      const cur = await this.o.docker.inspectContainer(this.containerName("redis", ownerId));
      if (!cur) return;
      this.assertOurs(cur, "redis");
      // a clean stop writes the final snapshot
      await this.o.docker.stopContainer(cur.id, STOP_TIMEOUT_S);
      await this.o.docker.removeContainer(cur.id);
    });
  }

  /**
   * The owners (app ids) that have redis data of this store in this box's data folder: the
   * folder's `store` file names this store (or, from before the file existed, there is a
   * legacy owner: the folder is a pre-id install's).
   */
  async redisOwners(): Promise<string[]> {
    const entries = await readdir(path.join(this.servicesDir, "redis"), { withFileTypes: true }).catch((e: NodeJS.ErrnoException) => {
      if (e.code === "ENOENT") return [];
      throw e;
    });
    const out: string[] = [];
    for (const e of entries) {
      if (!e.isDirectory() || !OWNER_ID.test(e.name)) continue;
      const mark = (await readFile(path.join(this.servicesDir, "redis", e.name, REDIS_OWNER_FILE), "utf8").catch(() => null))?.trim();
      const ours = mark ? this.isOwnLabel(mark) : (this.o.legacyOwners ?? []).length > 0;
      if (ours) out.push(e.name);
    }
    return out.sort();
  }

  /** Removes the redis of `ownerId`: its container, data and password. Idempotent. */
  async removeRedis(ownerId: string): Promise<void> {
    if (!OWNER_ID.test(ownerId)) throw new HearthError("invalid", "a redis owner id is 1-63 lowercase letters, digits and '-'");
    return this.serial(`redis:${ownerId}`, async () => {
      const name = this.containerName("redis", ownerId);
      const cur = await this.o.docker.inspectContainer(name);
      if (cur) {
        this.assertOurs(cur, "redis");
        await this.o.docker.removeContainer(cur.id);
      }
      const dir = this.redisDir(ownerId);
      await this.wipeDataDir("redis", path.join(dir, "data"), this.infra.services.redis.image);
      await rm(dir, { recursive: true, force: true });
    });
  }

  /** Recreates the redis containers whose image or infra is outdated, keeping their data, settings and run state. */
  private async refreshRedis(): Promise<void> {
    const want = this.infra.services.redis;
    const mine = (await this.o.docker.listContainers({ [SERVICE_LABEL]: "redis" })).filter(
      (c) => this.isOwnLabel(c.labels[OWNER_LABEL]) && c.name.startsWith(`${this.prefix}redis-`) && c.labels[SERVICE_OWNER_LABEL],
    );
    if (mine.length === 0) return;
    const image = await this.o.docker.inspectImage(want.image);
    if (!image) throw new HearthError("bad_state", `the image ${want.image} is missing: build it with setup/images/build-all.sh`);
    for (const summary of mine) {
      const ownerId = summary.labels[SERVICE_OWNER_LABEL]!;
      await this.serial(`redis:${ownerId}`, async () => {
        const c = await this.o.docker.inspectContainer(summary.id);
        if (!c) return;
        const dataPath = path.join(this.redisDir(ownerId), "data");
        const reasons = outdatedReasons(c, { version: want.version, infraVersion: this.infra.infraVersion, imageId: image.id, dataPath }, "redis");
        if (reasons.length === 0) return;
        this.o.log.info({ addon: "redis", ownerId, reasons }, "upgrading the redis container (its data stays)");
        const extra = Object.fromEntries(Object.entries(c.labels).filter(([k]) => !k.startsWith("hearth.service") && k !== INFRA_LABEL && k !== MANAGED_LABEL && k !== OWNER_LABEL));
        const wasRunning = c.running;
        // a clean stop writes the final RDB snapshot before the container goes
        await this.o.docker.stopContainer(c.id, STOP_TIMEOUT_S);
        await this.o.docker.removeContainer(c.id);
        await this.createRedis(ownerId, c.raw.HostConfig.NetworkMode ?? this.network, c.labels[SERVICE_ALIAS_LABEL] ?? c.name, c.raw.HostConfig.Memory ?? DEFAULT_REDIS_MEMORY, extra);
        if (wasRunning) {
          await this.o.docker.startContainer(c.name);
          await this.waitReady("redis", c.name);
        }
      });
    }
  }

  private async createRedis(ownerId: string, network: string, alias: string, memory: number, labels: Record<string, string>): Promise<string> {
    const want = this.infra.services.redis;
    const dir = this.redisDir(ownerId);
    return this.o.docker.createContainer(
      serviceContainerSpec({
        service: "redis",
        containerName: this.containerName("redis", ownerId),
        image: want.image,
        version: want.version,
        infraVersion: this.infra.infraVersion,
        controlDir: dir,
        dataPath: path.join(dir, "data"),
        network,
        alias,
        memory,
        owner: this.o.owner,
        labels: { ...labels, [SERVICE_OWNER_LABEL]: ownerId, [SERVICE_ALIAS_LABEL]: alias },
        // the dataset stays below the container's limit: writes fail, nothing is OOM-killed
        env: [`HEARTH_REDIS_MAXMEMORY=${Math.floor(memory * 0.8)}`],
      }),
    );
  }

  // ---- shared helpers ---------------------------------------------------------------------

  private async ensureNetwork(): Promise<void> {
    const n = await this.o.docker.inspectNetwork(this.network);
    if (n) {
      if (n.labels[MANAGED_LABEL] !== "true") throw new HearthError("conflict", `a network named ${this.network} exists that Hearth did not create`);
      if (!this.isOwnLabel(n.labels[OWNER_LABEL])) throw new HearthError("conflict", `the network ${this.network} belongs to another Hearth installation; use another object name prefix`);
      return;
    }
    try {
      await this.o.docker.createNetwork(this.network, { [MANAGED_LABEL]: "true", [SERVICE_LABEL]: "network", ...this.labelsBase() });
    } catch (e) {
      if (!(await this.o.docker.inspectNetwork(this.network))) throw e; // made meanwhile: fine
    }
  }

  /** Writes a caller's password (0600) unless the file has it already; true when it changed. */
  private async writePasswordIfChanged(p: string, password: string): Promise<boolean> {
    const digest = (s: string) => createHash("sha256").update(s).digest("hex");
    const have = await readFile(p, "utf8").catch(() => null);
    if (have !== null && digest(have) === digest(password)) return false;
    await writeFileAtomic(p, password);
    return true;
  }

  /**
   * Polls the readiness check inside the container, followed by a query as the admin,
   * until both pass. Fails early, with the end of the container's log, when the container
   * stops or restarts; otherwise after readyTimeoutMs, saying what the last check answered.
   */
  private async waitReady(service: ServiceName, container: string): Promise<void> {
    const def = SERVICE_DEFS[service];
    const t0 = Date.now();
    const first = await this.o.docker.inspectContainer(container);
    if (!first) throw new HearthError("bad_state", `${service}: the container ${container} is gone`);
    const restarts = first.raw.RestartCount ?? 0;
    let last = "";
    for (;;) {
      const c = await this.o.docker.inspectContainer(container);
      if (!c) throw new HearthError("bad_state", `${service}: the container ${container} is gone`);
      if ((!c.running && c.status !== "created") || c.status === "restarting" || (c.raw.RestartCount ?? 0) > restarts) {
        throw new HearthError(
          "external",
          `${service} (${c.name}) stopped while starting (${c.status}, exit ${c.exitCode}${c.oomKilled ? ", out of memory" : ""}); its log ends with:\n${await this.logTail(c.id)}`,
        );
      }
      if (c.running) {
        const run = (cmd: string[]) => this.o.docker.exec(c.id, cmd).catch((e: Error) => ({ exitCode: -1, output: e.message }));
        const r = await run(def.ready);
        // both in the same round: a server that answers and then goes away (a start
        // script's temporary one) does not count
        const a = r.exitCode === 0 && def.auth ? await run(def.auth) : r;
        if (a.exitCode === 0) break;
        last = r.exitCode === 0 ? `${service} answers but its admin cannot run a query yet: ${a.output.trim()}` : r.output.trim();
      }
      if (Date.now() - t0 > this.readyTimeoutMs) {
        throw new HearthError(
          "external",
          `${service} (${c.name}) was not ready within ${Math.round(this.readyTimeoutMs / 1000)}s${last ? ` (last check: ${last.slice(-300)})` : ""}; its log ends with:\n${await this.logTail(c.id)}`,
        );
      }
      await sleep(300);
    }
    this.o.log.info({ addon: service, container, ms: Date.now() - t0 }, "service ready");
  }

  private async logTail(container: string): Promise<string> {
    try {
      return (await readAll(await this.o.docker.logs(container, { tail: 25 }))).trimEnd();
    } catch (e) {
      return `(no log: ${(e as Error).message})`;
    }
  }

  /** Empties and removes a data folder below the services folder (its files belong to the service's user, so a root job container deletes them). */
  private async wipeDataDir(service: ServiceName, dir: string, image: string): Promise<void> {
    this.assertInside(dir, this.servicesDir);
    if (!(await exists(dir))) return;
    const job = `${this.prefix}${service}-wipe`;
    await this.o.docker.removeContainer(job); // left by a crash
    const r = await this.o.extras.runJob(
      {
        name: job,
        Image: image,
        Cmd: ["find", "/wipe", "-mindepth", "1", "-delete"],
        User: "0",
        Labels: { [MANAGED_LABEL]: "true", [SERVICE_LABEL]: service, [SERVICE_ROLE_LABEL]: "job", ...this.labelsBase() },
        HostConfig: {
          Mounts: [{ Type: "bind", Source: dir, Target: "/wipe", ReadOnly: false }],
          NetworkMode: "none",
          ReadonlyRootfs: true,
          CapDrop: ["ALL"],
          CapAdd: ["DAC_OVERRIDE", "FOWNER"],
          SecurityOpt: ["no-new-privileges:true"],
          Memory: 64 * MiB,
        },
      },
      300_000,
    );
    if (r.exitCode !== 0) throw new HearthError("external", `emptying ${dir} failed (exit ${r.exitCode}): ${r.output.trim().slice(-500)}`);
    // rmdir, not a recursive rm: the box user may not list the folder (it is the service user's)
    await rmdir(dir).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== "ENOENT") throw e;
    });
  }

  private isInside(p: string, dir: string): boolean {
    const rel = path.relative(dir, path.resolve(p));
    return !!rel && !rel.startsWith("..") && !path.isAbsolute(rel);
  }
  private assertInside(p: string, dir: string): void {
    if (!this.isInside(p, dir)) throw new HearthError("internal", `${p} is not inside ${dir}`);
  }

  /** Runs fn after every earlier call with the same key (one change at a time per service). */
  private serial<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.queue.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => {});
    this.queue.set(key, tail);
    void tail.then(() => {
      if (this.queue.get(key) === tail) this.queue.delete(key);
    });
    return next;
  }
}
