import path from "node:path";

/**
 * Every path Hearth uses on the machine, and who owns it. box builds no path of its own
 * elsewhere: a feature folder asks this module (`dataPaths(config.dataDir)` for what lives
 * under the data folder, the constants for the fixed system paths).
 *
 * Owner: who may write it. `root`: only root (code, configuration root reads, the sudo
 * helpers). `hearth`: box's user (its data, its logs, its socket). `hearth-admin`: admin's
 * own user, for what only admin writes. The rule that keeps root safe: root never reads as
 * code or configuration a path that a non-root owner can write.
 *
 * setup/lib/common.sh defines the same system paths for the installer; keep both in step.
 */
export type PathOwner = "root" | "hearth" | "hearth-admin";

export interface HearthPath {
  readonly path: string;
  readonly owner: PathOwner;
  readonly what: string;
}

const p = (path: string, owner: PathOwner, what: string): HearthPath => ({ path, owner, what });

export const HEARTH_HOME = "/opt/hearth";
export const DEFAULT_DATA_DIR = "/var/lib/hearth";
/** The root-owned scripts that /etc/sudoers.d/hearth lets box's user run as root. */
export const SUDO_HELPER_DIR = `${HEARTH_HOME}/app/setup/sudo`;
/** Where the root helper install-vhosts.sh installs the vhost set and its certificates: root's, included by the system nginx. */
export const ROOT_VHOST_DIR = "/etc/nginx/hearth";
export const DEFAULT_DOCKER_SOCKET = "/var/run/docker.sock";
/** The kernel's IPv4 routes of the main table (what the network plan avoids when `ip` cannot be run). */
export const PROC_NET_ROUTE = "/proc/net/route";
/** The kernel's process and system counters (the metrics collector reads /proc/stat, meminfo, diskstats, net/dev …). */
export const PROC_ROOT = "/proc";
/** The cgroup filesystem: each container's CPU, memory and I/O counters (v1 or v2, cgroupfs or systemd driver). */
export const CGROUP_ROOT = "/sys/fs/cgroup";
/** The host's network interfaces (an app bridge's byte counters, when box may not read the container's /proc). */
export const SYS_CLASS_NET = "/sys/class/net";

/** The fixed system paths (the installer's; box reads some and writes none of the root ones). */
export const SYSTEM_PATHS = {
  runtime: p(`${HEARTH_HOME}/runtime`, "root", "the pinned Node.js runtime and npm"),
  app: p(`${HEARTH_HOME}/app`, "root", "the code and its builds"),
  state: p(`${HEARTH_HOME}/state`, "root", "the installer's build hashes"),
  sudoHelpers: p(SUDO_HELPER_DIR, "root", "the root helpers box may run through sudo -n"),
  sudoers: p("/etc/sudoers.d/hearth", "root", "the helper whitelist"),
  etc: p("/etc/hearth", "root", "process wiring (0755)"),
  envFile: p("/etc/hearth/hearth.env", "root", "box's process wiring and the database password (root:hearth 0640)"),
  adminEnvFile: p("/etc/hearth/admin.env", "root", "admin's process wiring and the proxy secret (root:hearth-admin 0640)"),
  dashboardTls: p("/etc/hearth/tls", "root", "the dashboard's self-signed certificate"),
  nginxDashboardSite: p("/etc/nginx/sites-available/hearth-dashboard", "root", "the dashboard vhost"),
  nginxConf: p("/etc/nginx/conf.d/hearth.conf", "root", "includes root's vhost folder (never box's)"),
  nginxVhosts: p(ROOT_VHOST_DIR, "root", "the vhost set and certificates install-vhosts.sh installed (live -> the current set)"),
  data: p(DEFAULT_DATA_DIR, "hearth", "box's data (the default of HEARTH_DATA_DIR)"),
  public: p("/var/lib/hearth-public", "hearth", "what nginx's workers serve (HEARTH_PUBLIC_DIR as installed): the starting page, ACME tokens"),
  logs: p("/var/log/hearth", "root", "logs of box, admin and dockerd without systemd, and the installer's (root 0750: the supervisor, root, opens them)"),
  run: p("/run/hearth", "hearth", "box.sock (hearth:hearth-sock)"),
  supervise: p("/run/hearth-supervise", "root", "the supervisor's pid files (root 0700)"),
  dockerSocket: p(DEFAULT_DOCKER_SOCKET, "root", "the Docker engine (group docker; only box's process has it)"),
} as const satisfies Record<string, HearthPath>;

/** What lives under box's data folder (`HEARTH_DATA_DIR`, default /var/lib/hearth); all owned by `hearth`. */
export function dataPaths(dataDir: string) {
  const j = (...parts: string[]) => path.join(dataDir, ...parts);
  return {
    root: dataDir,
    /** One log file per task: `<taskId>.log`. */
    taskLogs: j("logs", "tasks"),
    /** Rendered vhosts (`sites/`) and nginx's state for them. */
    nginx: j("nginx"),
    /** What nginx's workers read: the 502 page, ACME HTTP-01 tokens (HEARTH_PUBLIC_DIR overrides it). */
    public: j("public"),
    /** Each domain's self-signed fallback certificate. */
    fallbackCerts: j("certs", "fallback"),
    /** ACME and custom certificates, one generation folder per name. */
    certStore: j("certs", "store"),
    /** The addon services' passwords, data folders and dumps. */
    services: j("services"),
    /** The mail relay's STARTTLS certificate. */
    mail: j("mail"),
    /** One app's log history (what its earlier containers printed; apps/log-history.ts); deleted with the app's data. */
    appLogs: (appId: string) => j("logs", "apps", appId),
    /** The metrics store: one fixed-size ring file per app and one for the server (metrics/ring-store.ts). */
    metrics: j("metrics"),
    /** Backups of one app (pre-update, addon teardown). */
    appBackups: (appId: string) => j("backups", "apps", appId),
    /** What one backup or restore task gathers before restic reads it / restic writes before the app gets it (0700, removed after). */
    backupStaging: (name: string) => j("backups", "staging", name),
    /** restic's cache (index and tree blobs of the site's repository; rebuilt from the site when lost). */
    resticCache: j("backups", "restic-cache"),
  };
}

export type DataPaths = ReturnType<typeof dataPaths>;
