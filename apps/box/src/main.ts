import { randomUUID } from "node:crypto";
import { HEARTH_VERSION } from "@hearth/contracts";
import os from "node:os";
import path from "node:path";
import {
  addonsDeclaredByApps,
  appExists,
  createDb,
  createNamedLocks,
  dashboardDomainNames,
  ensureStoreIdentity,
  getAppAddon,
  getTask,
  migrate,
  openSecret,
  ownersOf,
  type Db,
  type NamedLocks,
} from "@hearth/db";
import { loadConfig, type BoxConfig } from "./config";
import { createLogger, type Logger } from "./logger";
import { dataPaths } from "./paths";
import { startBoxSocket, type BoxSocketServer } from "./socket/socket.server";
import { TaskRegistry } from "./tasks/registry";
import { taskLogPath } from "./tasks/task-log";
import { prismaTaskStore } from "./tasks/task-store";
import { TaskRunner } from "./tasks/tasks.service";
import { testTasks } from "./tasks/test-tasks";
import { streamAppLogs } from "./apps/app-logs";
import { closeAllTerminals, handleAppTerminal } from "./apps/app-terminal";
import { dataVolumeNameOf } from "./apps/container-spec";
import { createVolumeHelper } from "./docker/volume-helper";
import { FilesService } from "./files/files.service";
import { removeLeftoverFileHelpers } from "./files/leftovers";
import { handleFilesRequest } from "./files/files-socket";
import { appTasks } from "./apps/app-tasks";
import { backupTasks } from "./backups/backup-tasks";
import { BackupService } from "./backups/backups.service";
import { AppService, ownerOf } from "./apps/apps.service";
import { HealthMonitor } from "./apps/monitor";
import { Reconciler } from "./apps/reconciler";
import { PurgeSchedule } from "./apps/purge-schedule";
import { AutoUpdateSchedule, readCatalogManifests } from "./apps/auto-update-schedule";
import { ReleaseCheck } from "./release/release-check";
import { housekeepingTasks } from "./housekeeping/purge.task";
import { HousekeepingSchedule } from "./housekeeping/schedule";
import { addonSource, orphanTasks, volumeSource, type OrphanSource } from "./apps/orphans";
import { defaultCatalogDirs, prismaRegistryCredentials } from "./apps/images";
import { createDocker, OWNER_LABEL } from "./docker/docker";
import { createProxyService } from "./proxy/proxy.service";
import { LocalNginx } from "./proxy/nginx";
import { dbVhostSync, noopVhostSync } from "./proxy/vhost-sync";
import { CertificateManager } from "./domains/certificate-manager";
import { DomainService, domainTasks } from "./domains/domain.service";
import { taskOutcomeNotifier } from "./notifications/notices";
import { NotificationSweep } from "./notifications/schedule";
import { deliverNotifications } from "./notifications/deliver";
import { RenewalSchedule } from "./domains/renewal-schedule";
import { createServiceDockerExtras } from "./addons/service-docker";
import { ServiceManager } from "./addons/services";
import { servicesFor } from "./addons/infra";
import { AddonProvisioner } from "./addons/provisioner";
import { MysqlAddon } from "./addons/mysql";
import { PostgresqlAddon } from "./addons/postgresql";
import { RedisAddon } from "./addons/redis";
import { JOB_IMAGE, LocalStorageAddon } from "./addons/localstorage";
import { ensureRelayCert } from "./mail/relay-cert";
import { MailRelay } from "./mail/relay";
import { SettingOutbound } from "./mail/outbound-setting";
import { mailTasks, senderDomainOf } from "./mail/mail-test.task";
import { networkGateways } from "./mail/network";
import { mailAccountLookup, SendmailAddon } from "./mail/sendmail.addon";
import { APP_STORE_SPEC, MetricsService, SERVER_STORE_SPEC } from "./metrics/metrics.service";
import { MetricsStore } from "./metrics/ring-store";
import { liveMetricsSources } from "./metrics/sources";

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
  let purges: PurgeSchedule | null = null;
  let autoUpdates: AutoUpdateSchedule | null = null;
  let releases: ReleaseCheck | null = null;
  let housekeeping: HousekeepingSchedule | null = null;
  let notificationSweep: NotificationSweep | null = null;
  let locks: NamedLocks | null = null;
  let mailRelay: MailRelay | null = null;
  let metrics: MetricsService | null = null;
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
      // the runner first: its running tasks are released (resumed by the next start) before
      // anything slower could let the forced exit fire
      await runner?.stop();
      await renewals?.stop();
      await purges?.stop();
      await autoUpdates?.stop();
      await releases?.stop();
      await housekeeping?.stop();
      await notificationSweep?.stop();
      await reconciler?.stop();
      await monitor?.stop();
      await metrics?.stop();
      closeAllTerminals();
      await socket?.close();
      await mailRelay?.stop();
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
  // every network box makes gets a subnet of Hearth's own plan (docker/subnets.ts)
  const docker = createDocker(undefined, { plan: config.networkPlan });
  // nginx vhosts are derived from the database on every change (apps/box/src/proxy), each
  // name with the certificate the CertificateManager picks (apps/box/src/domains)
  const proxy = createProxyService(config.dataDir, {
    publicDir: config.publicDir,
    httpPort: config.httpPort,
    httpsPort: config.httpsPort,
    layout: config.nginxLayout,
    ...(config.nginxConf ? { nginx: new LocalNginx(path.dirname(config.nginxConf), config.nginxConf) } : {}),
  });
  if (config.nginxConf) log.warn({ conf: config.nginxConf }, "HEARTH_NGINX_CONF: vhosts go to an nginx started by hand, not the system nginx");
  locks = createNamedLocks(config.databaseUrl, 2);
  const certs = new CertificateManager({
    db,
    locks,
    certDir: dataPaths(config.dataDir).certStore,
    acmeChallengeDir: proxy.acmeChallengeDir,
    log,
  });
  const vhosts = config.proxy === "nginx" ? dbVhostSync(db, proxy, { tlsForSync: () => certs.tlsPicker() }) : noopVhostSync;
  if (config.proxy === "off") log.warn("HEARTH_PROXY=off: no nginx vhosts are written and no certificates are ordered");
  const domains = new DomainService({ db, secretKey: config.secretKey, certs, vhosts });
  // addons (apps/box/src/addons): with HEARTH_SERVICES=off (tests that spawn a box) only
  // localstorage is there and no service container is started
  // the store's identity (a random id kept in the database) labels every Docker object;
  // objects labelled with the URL hash of a pre-id install are recognised too (repos/store.ts)
  const store = await ensureStoreIdentity(db, { legacyOwner: ownerOf(config.databaseUrl) });
  const owner = store.id;
  log.info({ store: store.id, legacyOwners: store.legacyOwners.length }, "store identity");
  // MariaDB and PostgreSQL run only while some app (any state but uninstalled) declares mysql / postgresql
  const dbForServices = db;
  const services = new ServiceManager({
    docker,
    extras: createServiceDockerExtras(),
    dataDir: config.dataDir,
    owner,
    legacyOwners: store.legacyOwners,
    log,
    needed: async () => servicesFor(await addonsDeclaredByApps(dbForServices)),
  });
  const addonDeps = { docker, extras: createServiceDockerExtras(), services };
  // the sendmail relay (apps/box/src/mail): apps submit on the gateway of their own network;
  // mail goes out the way the admin set (settings/mail: by MX or a smarthost), read per message
  const outbound = new SettingOutbound({ db, secretKey: config.secretKey, heloName: os.hostname(), log });
  if (config.services === "on") {
    const dbm = db;
    const secretKey = config.secretKey;
    mailRelay = new MailRelay({
      port: Number(process.env.HEARTH_MAIL_RELAY_PORT ?? 2525),
      tls: await ensureRelayCert(dataPaths(config.dataDir).mail),
      outbound,
      lookup: mailAccountLookup(async (appId) => {
        const row = await getAppAddon(dbm, appId, "sendmail");
        return row?.credentialsEnc && secretKey ? (JSON.parse(openSecret(secretKey, row.credentialsEnc)) as Record<string, string>) : null;
      }),
      log,
    });
    await mailRelay.start();
  }
  const handlers =
    config.services === "on"
      ? [new MysqlAddon(addonDeps), new PostgresqlAddon(addonDeps), new RedisAddon(addonDeps), new LocalStorageAddon(addonDeps), new SendmailAddon({ relay: mailRelay!, gatewayOf: networkGateways() })]
      : [new LocalStorageAddon(addonDeps)];
  const addonOrphanSources = handlers.map(addonSource).filter((x): x is OrphanSource => x !== null);
  const addons = new AddonProvisioner({
    db,
    secretKey: config.secretKey,
    dataDir: config.dataDir,
    handlers,
    services,
    ...(config.services === "off" ? { unavailableReason: "HEARTH_SERVICES=off" } : {}),
  });
  const apps = new AppService({
    db,
    docker,
    vhosts,
    registries: prismaRegistryCredentials(db, config.secretKey?.toString("base64")),
    catalogDirs: [...defaultCatalogDirs(), ...config.extraCatalogDirs],
    owner,
    addons,
    appLogDir: dataPaths(config.dataDir).appLogs,
    secretKey: config.secretKey,
    stepDelayMs: Number(process.env.HEARTH_TEST_APP_STEP_DELAY_MS ?? 0) || 0,
    // without nginx there is nothing to answer HTTP-01 or serve a certificate
    ...(config.proxy === "nginx" ? { names: domains } : {}),
  });
  // a changed health rewrites the app's page (crashed, not responding, starting): pages.ts
  monitor = new HealthMonitor({ db, docker, log, onHealthChange: async () => void (await vhosts.syncVhosts()) });
  reconciler = new Reconciler({ db, docker, service: apps, vhosts, log, store, orphanSources: () => addonOrphanSources });
  const orphanSources = () => [volumeSource(docker, ownersOf(store)), ...addonOrphanSources];
  const backups = new BackupService({ db, secretKey: config.secretKey, paths: dataPaths(config.dataDir), addons, apps });
  const registry = new TaskRegistry([
    ...testTasks(),
    ...appTasks(apps),
    ...orphanTasks({ db, sources: orphanSources }),
    ...domainTasks(domains),
    ...mailTasks({ db, outbound }),
    ...housekeepingTasks({ db, dataDir: config.dataDir }),
    // backups (apps/box/src/backups): restic through shell.ts, app data through the addons' helper containers
    ...backupTasks(backups),
  ]);
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
    // a task that failed for good tells the admins; a later success of the same closes it
    // (and so does one failed as `interrupted` by a stop or restart, at release or recovery)
    onFinished: taskOutcomeNotifier(db),
  });
  await runner.recoverAtStartup();
  // plaintext a crashed backup or restore left (tars of /app/data, SQL dumps, restore markers):
  // removed unless their task is still to run (a resumed one needs its folder and marker)
  await backups.cleanStaging().then(
    (gone) => gone.length > 0 && log.info({ removed: gone }, "removed backup staging that finished or failed tasks left"),
    (e: unknown) => log.warn({ err: e }, "could not clean the backup staging folder"),
  );
  if (config.services === "on") {
    // in the background: a first start initialises the databases (up to a minute); apps
    // without addons keep working meanwhile and when it fails, and a provision waits for
    // (or retries) the service it needs through ServiceManager.ensure
    void services.start().catch((e: unknown) => log.error({ err: e }, "the addon services did not start; apps that need them cannot be provisioned until they do"));
  } else log.warn("HEARTH_SERVICES=off: no addon services; only the localstorage addon is available");

  const dbc = db;
  const r = runner;
  // graphs: a sample of every running app and of the server every 10 s into fixed-size ring files (apps/box/src/metrics)
  if (config.metrics === "on") {
    metrics = new MetricsService({
      store: new MetricsStore(dataPaths(config.dataDir).metrics, { app: APP_STORE_SPEC, server: SERVER_STORE_SPEC }),
      sources: liveMetricsSources(docker, ownersOf(store)),
      appExists: (id) => appExists(dbc, id),
      log,
      version: HEARTH_VERSION,
      dataDir: config.dataDir,
      startedAt,
      intervalMs: config.metricsIntervalMs,
    });
  } else log.warn("HEARTH_METRICS=off: no metrics are collected");
  const m = metrics;
  // helper containers of the file manager a crash left behind (none can be in use yet)
  const leftHelpers = await removeLeftoverFileHelpers(docker, owner, OWNER_LABEL).catch((e: unknown) => {
    log.warn({ error: e instanceof Error ? e.message : String(e) }, "cannot remove the file manager's leftover helper containers");
    return [];
  });
  if (leftHelpers.length) log.info({ containers: leftHelpers }, "removed the file manager's leftover helper containers");
  const files = new FilesService({
    helper: createVolumeHelper(),
    image: JOB_IMAGE,
    volumeOf: async (id) => ((await appExists(dbc, id)) ? dataVolumeNameOf(id) : null),
    labels: { [OWNER_LABEL]: owner },
  });
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
      ...(m
        ? {
            metrics: {
              app: async (appId, range) => ((await appExists(dbc, appId)) ? m.appMetrics(appId, range) : null),
              server: async (range) => m.serverMetrics(range),
            },
          }
        : {}),
      appLogs: (req, res, appId, url) => streamAppLogs({ docker, appExists: (id) => appExists(dbc, id), historyDir: dataPaths(config.dataDir).appLogs }, req, res, appId, url),
      appTerminal: (req, sock, head, appId, url) => handleAppTerminal({ docker, appExists: (id) => appExists(dbc, id), log }, req, sock, head, appId, url),
      appFiles: (req, res, appId, op, url) => handleFilesRequest(files, req, res, appId, op, url),
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
  purges = new PurgeSchedule({ db: dbc, wake: () => r.wake(), log });
  await purges.start();
  // automatic patch updates of the apps that asked for them, nightly (not at start: a window)
  autoUpdates = new AutoUpdateSchedule({ db: dbc, catalogDirs: [...defaultCatalogDirs(), ...config.extraCatalogDirs], wake: () => r.wake(), log });
  autoUpdates.start();
  // is a newer Hearth out (only with a configured source; never installs anything)
  if (config.releaseSource) {
    releases = new ReleaseCheck({ db: dbc, source: config.releaseSource, log });
    void releases.start();
  }
  // old events, finished tasks and their logs (Setting housekeeping.retention), daily
  housekeeping = new HousekeepingSchedule({ db: dbc, wake: () => r.wake(), log });
  await housekeeping.start();
  // notifications whose cause went away close; disk nearly full
  notificationSweep = new NotificationSweep({
    db: dbc,
    dataDir: config.dataDir,
    servedNames: () => domains.servedNames(),
    log,
    // "updates available": the same catalog folders the nightly automatic updates read
    // (an invalid manifest is warned about by the nightly's read; here only at debug, not every 5 minutes)
    catalog: () => readCatalogManifests([...defaultCatalogDirs(), ...config.extraCatalogDirs], { info: () => {}, warn: (o, m) => log.debug(o, m) }),
    // mail (through the admin's outbound setting) and webhook, once per opened group
    deliver: async (signal) => {
      await deliverNotifications({
        db: dbc,
        signal,
        secretKey: config.secretKey,
        outbound: () => outbound.resolve(),
        senderDomain: () => senderDomainOf(dbc, os.hostname()),
        dashboardUrl: async () => {
          const d = (await dashboardDomainNames(dbc))[0];
          return d ? `https://my.${d}` : "";
        },
        log,
      });
    },
  });
  notificationSweep.start();
  void monitor.start();
  metrics?.start();
  log.info({ leasedBy, socket: config.socketPath, taskTypes: registry.types() }, "box ready");
}

main().catch((e) => {
  // pino may not exist yet (e.g. config); stderr always does
  process.stderr.write(`box: failed to start: ${(e as Error)?.stack ?? String(e)}\n`);
  process.exit(1);
});
