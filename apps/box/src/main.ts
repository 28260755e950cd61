import { randomUUID } from "node:crypto";
import { HEARTH_VERSION } from "@hearth/contracts";
import path from "node:path";
import { createDb, createNamedLocks, getTask, migrate, type Db, type NamedLocks } from "@hearth/db";
import { loadConfig, type BoxConfig } from "./config";
import { createLogger, type Logger } from "./logger";
import { startBoxSocket, type BoxSocketServer } from "./socket/socket.server";
import { TaskRegistry } from "./tasks/registry";
import { taskLogPath } from "./tasks/task-log";
import { prismaTaskStore } from "./tasks/task-store";
import { TaskRunner } from "./tasks/tasks.service";
import { testTasks } from "./tasks/test-tasks";
import { streamAppLogs } from "./apps/app-logs";
import { appTasks } from "./apps/app-tasks";
import { AppService, noopVhostSync, ownerOf } from "./apps/apps.service";
import { HealthMonitor } from "./apps/monitor";
import { Reconciler } from "./apps/reconciler";
import { defaultCatalogDirs, prismaRegistryCredentials } from "./apps/images";
import { createDocker } from "./docker/docker";
import { createProxyService } from "./proxy/proxy.service";
import { dbVhostSync } from "./proxy/vhost-sync";
import { CertificateManager } from "./domains/certificate-manager";
import { DomainService, domainTasks } from "./domains/domain.service";
import { RenewalSchedule } from "./domains/renewal-schedule";

/**
 * box: the daemon that changes the machine. Start order: config → logger → migrations →
 * recover what a previous process of this box left running → task runner + socket →
 * "box ready". SIGTERM/SIGINT: stop claiming, give running tasks back, close, exit 0.
 */

function readConfig(): BoxConfig {
  try {
    return loadConfig(process.env);
  } catch (e) {
    process.stderr.write(`box: ${(e as Error).message}\n`);
    process.exit(1);
  }
}

async function main(): Promise<void> {
  const startedAt = Date.now();
  const config = readConfig();
  const log: Logger = createLogger(config.logLevel, config.boxId);
  // this process's name on task leases; a restart gets a new one (see recoverTasks)
  const leasedBy = `${config.boxId}/${randomUUID()}`;

  let db: Db | null = null;
  let socket: BoxSocketServer | null = null;
  let runner: TaskRunner | null = null;
  let monitor: HealthMonitor | null = null;
  let reconciler: Reconciler | null = null;
  let renewals: RenewalSchedule | null = null;
  let locks: NamedLocks | null = null;
  let shuttingDown = false;

  const shutdown = async (signal: string) => {
    if (shuttingDown) {
      log.warn({ signal }, "second signal; exiting now");
      process.exit(1);
    }
    shuttingDown = true;
    log.info({ signal }, "box stopping");
    // below systemd's TimeoutStopSec=30, so box exits on its own terms
    const force = setTimeout(() => {
      log.error("shutdown took too long; exiting");
      process.exit(1);
    }, 25_000);
    force.unref();
    try {
      await renewals?.stop();
      await reconciler?.stop();
      await monitor?.stop();
      await runner?.stop();
      await socket?.close();
      await db?.$disconnect();
      await locks?.end();
      log.info("box stopped");
      process.exit(0);
    } catch (e) {
      log.error({ err: e }, "shutdown failed");
      process.exit(1);
    }
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("unhandledRejection", (e) => {
    log.fatal({ err: e }, "unhandled promise rejection");
    process.exit(1);
  });

  log.info({ version: HEARTH_VERSION, dataDir: config.dataDir, socket: config.socketPath }, "box starting");
  const migrated = await migrate(config.databaseUrl, {
    migrationsDir: config.migrationsDir,
    log: (msg) => log.info(msg),
  });
  log.info({ applied: migrated.applied.length, alreadyApplied: migrated.alreadyApplied.length }, "database migrated");

  db = createDb(config.databaseUrl, { connectionLimit: 10 });
  const docker = createDocker();
  // nginx vhosts are derived from the database on every change (apps/box/src/proxy), each
  // name with the certificate the CertificateManager picks (apps/box/src/domains)
  const proxy = createProxyService(config.dataDir, { publicDir: config.publicDir });
  locks = createNamedLocks(config.databaseUrl, 2);
  const certs = new CertificateManager({
    db,
    locks,
    certDir: path.join(config.dataDir, "certs", "store"),
    acmeChallengeDir: proxy.acmeChallengeDir,
    log,
  });
  const vhosts =
    config.proxy === "nginx" ? dbVhostSync(db, proxy, { tls: (d, fqdn) => certs.tlsFor(d, fqdn) }) : noopVhostSync;
  if (config.proxy === "off") log.warn("HEARTH_PROXY=off: no nginx vhosts are written and no certificates are ordered");
  const domains = new DomainService({ db, secretKey: config.secretKey, certs, vhosts });
  const apps = new AppService({
    db,
    docker,
    vhosts,
    registries: prismaRegistryCredentials(db, config.secretKey?.toString("base64")),
    catalogDirs: defaultCatalogDirs(),
    owner: ownerOf(config.databaseUrl),
    stepDelayMs: Number(process.env.HEARTH_TEST_APP_STEP_DELAY_MS ?? 0) || 0,
    // without nginx there is nothing to answer HTTP-01 or serve a certificate
    ...(config.proxy === "nginx" ? { names: domains } : {}),
  });
  monitor = new HealthMonitor({ db, docker, log });
  reconciler = new Reconciler({ db, docker, service: apps, vhosts, log });
  const registry = new TaskRegistry([...testTasks(), ...appTasks(apps), ...domainTasks(domains)]);
  runner = new TaskRunner({
    store: prismaTaskStore(db),
    registry,
    boxId: config.boxId,
    leasedBy,
    dataDir: config.dataDir,
    pollMs: config.taskPollMs,
    leaseMs: config.taskLeaseMs,
    concurrency: config.taskConcurrency,
    log,
  });
  await runner.recoverAtStartup();

  const dbc = db;
  const r = runner;
  socket = await startBoxSocket(
    { socketPath: config.socketPath, gid: config.socketGroup?.gid ?? null },
    {
      boxId: config.boxId,
      version: HEARTH_VERSION,
      startedAt,
      runningTasks: () => r.runningCount,
      wake: () => r.wake(),
      getTask: async (id) => {
        const t = await getTask(dbc, id);
        return t && { state: t.state, percent: t.percent, message: t.message, errorCode: t.errorCode, errorMessage: t.errorMessage };
      },
      logPath: (id) => taskLogPath(config.dataDir, id),
      appLogs: (req, res, appId, url) =>
        streamAppLogs({ docker, appExists: async (id) => (await dbc.app.count({ where: { id } })) > 0 }, req, res, appId, url),
      log,
    },
  );
  if (shuttingDown) return; // a signal came during startup; shutdown() takes it from here
  runner.start();
  if (config.proxy === "nginx") {
    renewals = new RenewalSchedule({ db: dbc, boxId: config.boxId, wake: () => r.wake(), log });
    await renewals.start();
  }
  // after recovery, so tasks taken back count as active and their apps are left alone
  reconciler.start();
  void monitor.start();
  log.info({ leasedBy, socket: config.socketPath, taskTypes: registry.types() }, "box ready");
}

main().catch((e) => {
  // pino may not exist yet (e.g. config); stderr always does
  process.stderr.write(`box: failed to start: ${(e as Error)?.stack ?? String(e)}\n`);
  process.exit(1);
});
