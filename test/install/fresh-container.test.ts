import { execFileSync, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * setup/install.sh on a brand-new machine: a system container made from Hearth's own
 * debootstrap base image (setup/images/base/build.sh), with nothing of this host in it but a
 * clean copy of the checkout (the files git tracks or would track: no node_modules, no
 * builds, no .git) — no database password, build, certificate or image "kept" from an
 * earlier run. Two machines:
 *
 *  - systemd: the base plus Debian's systemd, booted with systemd as PID 1, so install.sh
 *    takes its systemd path: the hardened units run for real under systemctl, a box killed
 *    with -9 is restarted by systemd (Restart=), and `systemd-analyze security` is measured
 *    and printed for both units.
 *  - no-systemd: the bare base with `sleep infinity` as PID 1: the supervisor path.
 *
 * Each runs Docker inside (install.sh installs docker.io and builds the base, service and
 * catalog images in it: Docker-in-Docker, its storage on a volume of its own), reaches
 * Debian's apt and the npm registry, and publishes its port 443 on 127.0.0.1 of this host:
 * the dashboard's /api/v1/status must answer there, verified against the certificate the
 * install made. How long each install takes is printed and written to
 * test-results/fresh-container-times.json.
 *
 * What the container gets from this host besides the checkout: the extra CA certificates
 * of /usr/local/share/ca-certificates (a network whose egress proxy re-signs TLS needs them
 * on every machine in it; without any there, nothing is copied), handed to npm and Node as
 * NODE_EXTRA_CA_CERTS / npm_config_cafile for the install.
 *
 * Privileges: the container stands for a whole machine, so it gets what one has: every
 * capability this host's Docker can grant (--privileged where the engine's own bounding set
 * is complete; else --cap-add ALL minus the capabilities the engine lacks, e.g.
 * CAP_SYS_RESOURCE in a sandboxed engine, which makes --privileged fail with "unable to
 * apply caps"), no seccomp/AppArmor profile, writable /proc/sys, and on cgroup v1 the host's
 * cgroup tree (systemd and the inner dockerd keep to the container's own /docker/<id>
 * subtree and their own /docker/<inner id>).
 *
 * Time, measured on a shared 2-core machine (load 10-20): a full install with every image
 * built took 990-1540 s (the base, service and catalog images 694-865 s of it; npm ci
 * about 2 min, next build 2-4 min); without the image builds 151-443 s. Two full installs
 * would not fit CI's 45 minutes, so by default only the systemd machine builds the images;
 * the other installs with HEARTH_SKIP_IMAGE_BUILDS=1 (install.sh says so in its output)
 * and checks that its Docker engine answers instead.
 *
 * HEARTH_FRESH_VARIANTS (comma-separated, default "systemd,no-systemd") picks the machines;
 * HEARTH_FRESH_IMAGES_IN (default "systemd"; "systemd,no-systemd" for both) the machines
 * whose install builds the images.
 */

const REPO_ROOT = path.resolve(import.meta.dirname, "../..");
const RESULTS = path.join(REPO_ROOT, "test-results");
const RUN = randomBytes(3).toString("hex");
const LABEL = `hearth.test=fresh-container-${RUN}`;
const BASE_IMAGES = ["localhost/hearth/base:bookworm", "hearth/base:bookworm"];
const VARIANTS = (process.env.HEARTH_FRESH_VARIANTS ?? "systemd,no-systemd")
  .split(",")
  .map((v) => v.trim())
  .filter(Boolean);
const IMAGES_IN = (process.env.HEARTH_FRESH_IMAGES_IN ?? "systemd").split(",").map((v) => v.trim());
const HOST_CAS = "/usr/local/share/ca-certificates";
const times: Record<string, number> = {};

function docker(args: string[], opts: { input?: string | Buffer; timeout?: number } = {}): string {
  const r = spawnSync("docker", args, { input: opts.input, encoding: "utf8", timeout: opts.timeout ?? 600_000, maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`docker ${args.join(" ")} failed (${r.status ?? r.signal}): ${r.stderr}${r.stdout}`);
  return r.stdout.trim();
}
function dockerOk(args: string[]): boolean {
  return spawnSync("docker", args, { stdio: "ignore", timeout: 120_000 }).status === 0;
}
/** A command in the container: exit status and output. */
function inC(name: string, cmd: string[], timeout = 120_000): { status: number | null; out: string } {
  const r = spawnSync("docker", ["exec", name, ...cmd], { encoding: "utf8", timeout, maxBuffer: 1 << 26 });
  return { status: r.status, out: `${r.stdout ?? ""}${r.stderr ?? ""}`.trim() };
}
function inCOk(name: string, cmd: string[], timeout?: number): string {
  const r = inC(name, cmd, timeout);
  if (r.status !== 0) throw new Error(`in ${name}: ${cmd.join(" ")} failed (${r.status}): ${r.out}`);
  return r.out;
}

/** The base image under whichever name this checkout's build.sh gives it (it is being renamed). */
function baseImage(): string {
  const found = () => BASE_IMAGES.find((i) => dockerOk(["image", "inspect", i]));
  if (!found()) {
    const r = spawnSync(path.join(REPO_ROOT, "setup/images/base/build.sh"), [], { encoding: "utf8", timeout: 900_000 });
    if (r.status !== 0) throw new Error(`setup/images/base/build.sh failed: ${r.stdout}${r.stderr}`);
  }
  const image = found();
  if (!image) throw new Error(`no base image (${BASE_IMAGES.join(" or ")}) after setup/images/base/build.sh`);
  return image;
}

/**
 * The machine's image, tagged by the base image's id (rebuilt when the base changes). Both
 * drop the base's /usr/sbin/policy-rc.d (an image-build convenience no installed machine
 * has), so apt starts services as on a real server and install.sh's own no-systemd
 * policy is what runs. "systemd" adds Debian's systemd, booted as PID 1.
 */
function machineImage(base: string, variant: string): string {
  const baseId = docker(["image", "inspect", "-f", "{{.Id}}", base])
    .replace(/^sha256:/, "")
    .slice(0, 12);
  const tag = `hearth-test/fresh-${variant}:${baseId}`;
  if (dockerOk(["image", "inspect", tag])) return tag;
  const dir = mkdtempSync(path.join(os.tmpdir(), "hearth-fresh-"));
  const lines =
    variant === "systemd"
      ? [
          "RUN rm -f /usr/sbin/policy-rc.d && apt-get update \\",
          "    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends systemd systemd-sysv dbus \\",
          "    && apt-get clean && rm -rf /var/lib/apt/lists/* \\",
          // no console in the container: no getty; systemd-firstboot would wait for input
          "    && systemctl mask getty@tty1.service console-getty.service systemd-firstboot.service",
          "STOPSIGNAL SIGRTMIN+3",
          'CMD ["/sbin/init"]',
        ]
      : ["RUN rm -f /usr/sbin/policy-rc.d", 'CMD ["sleep", "infinity"]'];
  try {
    writeFileSync(path.join(dir, "Dockerfile"), [`FROM ${base}`, ...lines, ""].join("\n"));
    docker(["build", "-q", "--label", "hearth.test=fresh-container", "-t", tag, dir], { timeout: 900_000 });
    // this file's images for an older base are of no more use
    for (const old of docker(["images", "--format", "{{.Repository}}:{{.Tag}}", `hearth-test/fresh-${variant}`]).split("\n")) {
      if (old && old !== tag) dockerOk(["image", "rm", old]);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return tag;
}

const CAP_NAMES = [
  "CHOWN",
  "DAC_OVERRIDE",
  "DAC_READ_SEARCH",
  "FOWNER",
  "FSETID",
  "KILL",
  "SETGID",
  "SETUID",
  "SETPCAP",
  "LINUX_IMMUTABLE",
  "NET_BIND_SERVICE",
  "NET_BROADCAST",
  "NET_ADMIN",
  "NET_RAW",
  "IPC_LOCK",
  "IPC_OWNER",
  "SYS_MODULE",
  "SYS_RAWIO",
  "SYS_CHROOT",
  "SYS_PTRACE",
  "SYS_PACCT",
  "SYS_ADMIN",
  "SYS_BOOT",
  "SYS_NICE",
  "SYS_RESOURCE",
  "SYS_TIME",
  "SYS_TTY_CONFIG",
  "MKNOD",
  "LEASE",
  "AUDIT_WRITE",
  "AUDIT_CONTROL",
  "SETFCAP",
  "MAC_OVERRIDE",
  "MAC_ADMIN",
  "SYSLOG",
  "WAKE_ALARM",
  "BLOCK_SUSPEND",
  "AUDIT_READ",
  // PERFMON, BPF, CHECKPOINT_RESTORE come after: Docker 20.10 does not know them ("unknown capability")
];

/**
 * Capabilities the Docker engine itself lacks (its bounding set): --privileged cannot work
 * then. The engine is the one of /var/run/docker.pid (pidof would also find the engines
 * inside the test's own machines, which have fewer).
 */
function engineMissingCaps(): string[] {
  const pid = existsSync("/var/run/docker.pid") ? readFileSync("/var/run/docker.pid", "utf8").trim() : "";
  const status = readFileSync(pid && existsSync(`/proc/${pid}/status`) ? `/proc/${pid}/status` : "/proc/self/status", "utf8");
  const bnd = BigInt(`0x${/^CapBnd:\s*([0-9a-f]+)$/m.exec(status)?.[1] ?? "0"}`);
  return CAP_NAMES.filter((_, bit) => ((bnd >> BigInt(bit)) & 1n) === 0n);
}

const cgroupV2 = (): boolean => spawnSync("stat", ["-fc", "%T", "/sys/fs/cgroup"], { encoding: "utf8" }).stdout.trim() === "cgroup2fs";

/** `docker run` options for a container that stands for a whole machine. */
function machineRunArgs(): string[] {
  const missing = engineMissingCaps();
  const privileges =
    missing.length === 0
      ? ["--privileged"]
      : ["--cap-add", "ALL", ...missing.flatMap((c) => ["--cap-drop", c]), "--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined", "--security-opt", "systempaths=unconfined"];
  const cgroups = cgroupV2() ? ["--cgroupns=private"] : ["--cgroupns=host", "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw"];
  return [...privileges, ...cgroups];
}

/** The checkout as a clean tree: what git tracks or would track (no node_modules, builds, .git), as a tar stream. */
function checkoutTar(): Buffer {
  const list = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: REPO_ROOT, encoding: "utf8", maxBuffer: 1 << 26 })
    .split("\0")
    .filter((f) => f && existsSync(path.join(REPO_ROOT, f)) && !lstatSync(path.join(REPO_ROOT, f)).isDirectory());
  const listFile = path.join(mkdtempSync(path.join(os.tmpdir(), "hearth-fresh-")), "files");
  writeFileSync(listFile, list.join("\0"));
  try {
    return execFileSync("tar", ["-C", REPO_ROOT, "--null", "-T", listFile, "--transform", "s,^,hearth/,", "--owner=0", "--group=0", "-cf", "-"], { maxBuffer: 1 << 30 });
  } finally {
    rmSync(path.dirname(listFile), { recursive: true, force: true });
  }
}

interface Machine {
  variant: string;
  name: string;
  port: number;
  installOutput: string;
  installCode: number | null;
  installSeconds: number;
}

async function startMachine(variant: string, image: string): Promise<Machine> {
  const name = `hearth-fresh-${variant}-${RUN}`;
  docker([
    "run",
    "-d",
    "--name",
    name,
    "--hostname",
    `hearth-fresh-${variant}`,
    "--label",
    LABEL,
    ...machineRunArgs(),
    "--tmpfs",
    "/run:exec,mode=755",
    "--tmpfs",
    "/run/lock",
    "--tmpfs",
    "/tmp:exec,mode=1777",
    // the inner Docker's storage: overlay2 cannot sit on the container's own overlay root
    "-v",
    "/var/lib/docker",
    "-p",
    "127.0.0.1::443",
    image,
  ]);
  const port = Number(/:(\d+)$/m.exec(docker(["port", name, "443/tcp"]))?.[1]);
  if (variant === "systemd") {
    // booted: systemd answers and nothing failed on the way up
    const until = Date.now() + 60_000;
    let state = "";
    while (Date.now() < until) {
      state = inC(name, ["systemctl", "is-system-running"]).out;
      if (/^(running|degraded)$/m.test(state)) break;
      await sleep(500);
    }
    if (!/^running$/m.test(state)) throw new Error(`systemd in ${name} is "${state}": ${inC(name, ["systemctl", "--failed", "--no-pager"]).out}`);
  }
  docker(["cp", "-", `${name}:/root/`], { input: checkoutTar() });
  const cas = existsSync(HOST_CAS) ? readdirSync(HOST_CAS).filter((f) => f.endsWith(".crt")) : [];
  for (const f of cas) docker(["cp", path.join(HOST_CAS, f), `${name}:/usr/local/share/ca-certificates/${f}`]);
  if (cas.length) inCOk(name, ["update-ca-certificates"]);
  return { variant, name, port, installOutput: "", installCode: null, installSeconds: 0 };
}

/** Runs setup/install.sh in the machine, like an admin who just cloned the repository there. */
function runInstall(m: Machine): Promise<void> {
  const env =
    existsSync(HOST_CAS) && readdirSync(HOST_CAS).some((f) => f.endsWith(".crt"))
      ? ["-e", "NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt", "-e", "npm_config_cafile=/etc/ssl/certs/ca-certificates.crt"]
      : [];
  if (!IMAGES_IN.includes(m.variant)) env.push("-e", "HEARTH_SKIP_IMAGE_BUILDS=1");
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn("docker", ["exec", ...env, "-w", "/root/hearth", m.name, "bash", "setup/install.sh"], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      m.installSeconds = (Date.now() - started) / 1000;
      m.installCode = code;
      m.installOutput = out;
      times[m.variant] = Math.round(m.installSeconds);
      mkdirSync(RESULTS, { recursive: true });
      writeFileSync(path.join(RESULTS, `fresh-${m.variant}-install.log`), out);
      writeFileSync(path.join(RESULTS, "fresh-container-times.json"), `${JSON.stringify(times, null, 2)}\n`);
      console.log(`--- install.sh in a fresh ${m.variant} container: exit ${code}, ${m.installSeconds.toFixed(0)}s ---\n${out}`);
      if (code !== 0) {
        // what went wrong, from the machine's own logs
        console.log(inC(m.name, ["tail", "-n", "80", "/var/log/hearth/install.log"]).out);
      }
      resolve();
    });
  });
}

/** /api/v1/status over https on the published port, verified against the certificate the install made ("localhost" is in it). */
function statusThroughPublishedPort(m: Machine): { code: number; body: string; curlExit: number | null } {
  const dir = mkdtempSync(path.join(os.tmpdir(), "hearth-fresh-"));
  try {
    const ca = path.join(dir, "dashboard.crt");
    writeFileSync(ca, inCOk(m.name, ["cat", "/etc/hearth/tls/dashboard.crt"]));
    const r = spawnSync("curl", ["-sS", "--max-time", "15", "--cacert", ca, "--resolve", `localhost:${m.port}:127.0.0.1`, "-w", "\n%{http_code}", `https://localhost:${m.port}/api/v1/status`], {
      encoding: "utf8",
    });
    const lines = r.stdout.trimEnd().split("\n");
    return { code: Number(lines.pop()), body: lines.join("\n"), curlExit: r.status };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The main pid of box or admin in the machine: systemd's MainPID, or the supervisor's pid file. */
function pidIn(m: Machine, service: "box" | "admin"): number {
  const out = m.variant === "systemd" ? inCOk(m.name, ["systemctl", "show", "-p", "MainPID", "--value", `hearth-${service}.service`]) : inCOk(m.name, ["cat", `/run/hearth-supervise/${service}.pid`]);
  return Number(out.trim());
}

/** GET /_ping on the machine's Docker socket with a running process's exact uid, gid and groups. */
function dockerPingAsProcessOf(m: Machine, pid: number): { status: number | null; out: string } {
  const status = inCOk(m.name, ["cat", `/proc/${pid}/status`]);
  const field = (n: string) => (new RegExp(`^${n}:[ \\t]*(.*)$`, "m").exec(status)?.[1] ?? "").trim().split(/\s+/).filter(Boolean);
  const groups = field("Groups");
  return inC(m.name, [
    "setpriv",
    `--reuid=${field("Uid")[0]}`,
    `--regid=${field("Gid")[0]}`,
    groups.length ? `--groups=${groups.join(",")}` : "--clear-groups",
    "--inh-caps=-all",
    "curl",
    "-s",
    "--max-time",
    "10",
    "--unix-socket",
    "/var/run/docker.sock",
    "http://d/_ping",
  ]);
}

async function waitFor<T>(what: string, fn: () => T | undefined, timeoutMs = 90_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < until) {
    try {
      const v = fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await sleep(500);
  }
  throw new Error(`${what} did not happen within ${timeoutMs / 1000}s${last ? `: ${String(last)}` : ""}`);
}

const machines: Machine[] = [];

afterAll(() => {
  // HEARTH_FRESH_KEEP=1 leaves the machines running to look inside (docker exec -it <name> bash)
  if (process.env.HEARTH_FRESH_KEEP === "1") {
    console.log(`kept: ${machines.map((m) => m.name).join(", ")}`);
    return;
  }
  for (const m of machines) {
    // the inner engine removes its containers' cgroups before the machine goes
    inC(m.name, ["sh", "-c", "docker ps -aq | xargs -r docker rm -f"], 120_000);
    dockerOk(["rm", "-f", "-v", m.name]);
  }
  if (Object.keys(times).length) console.log(`install.sh in fresh containers, seconds: ${JSON.stringify(times)}`);
});

describe.each(VARIANTS)("install.sh on a brand-new %s machine", (variant) => {
  let m: Machine;

  beforeAll(async () => {
    const base = baseImage();
    m = await startMachine(variant, machineImage(base, variant));
    machines.push(m);
    await runInstall(m);
  }, 2_400_000);

  it("finishes, says it is ready, and took the right init path", () => {
    expect(m.installCode, m.installOutput.slice(-3000)).toBe(0);
    expect(m.installOutput).toMatch(/^Hearth is ready: https:\/\//m);
    expect(m.installOutput).toMatch(variant === "systemd" ? /systemd is PID 1: services run as systemd units/ : /systemd is not running: services run under Hearth's supervisor/);
    // a first install: it makes its password, certificate, dependencies and builds, and
    // applies every migration (none was there already)
    for (const first of [/new database password generated/, /self-signed certificate generated/, /npm ci done/, /built box/, /built admin/, /migrations: \d+ applied, 0 already applied/]) {
      expect(m.installOutput).toMatch(first);
    }
  });

  it("answers /api/v1/status through the container's published 443, with the certificate it made", () => {
    const r = statusThroughPublishedPort(m);
    expect(r.curlExit, r.body).toBe(0);
    expect(r.code, r.body).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({ setupDone: false, box: "up" });
  });

  it("runs box and admin as unprivileged users; only box's credentials reach Docker", () => {
    const box = pidIn(m, "box");
    const admin = pidIn(m, "admin");
    for (const pid of [box, admin]) expect(inCOk(m.name, ["sh", "-c", `grep '^Uid:' /proc/${pid}/status`])).not.toMatch(/^Uid:\s+0\s/);
    expect(dockerPingAsProcessOf(m, admin)).toEqual({ status: 7, out: "" });
    expect(dockerPingAsProcessOf(m, box)).toEqual({ status: 0, out: "OK" });
  });

  it("runs admin on jemalloc (admin.env's LD_PRELOAD, its idle memory: bench/idle-rss.ts) and box on glibc's malloc", () => {
    const mapsJemalloc = (pid: number) => Number(inCOk(m.name, ["sh", "-c", `grep -c libjemalloc /proc/${pid}/maps || true`]));
    expect(inCOk(m.name, ["sh", "-c", "grep '^LD_PRELOAD=' /etc/hearth/admin.env"])).toMatch(/^LD_PRELOAD=\/\S*\/libjemalloc\.so\.2$/);
    expect(mapsJemalloc(pidIn(m, "admin"))).toBeGreaterThan(0);
    expect(mapsJemalloc(pidIn(m, "box"))).toBe(0);
  });

  it("box reaches root through its sudo helper: the vhost set is installed in root's /etc/nginx/hearth and served", async () => {
    // box runs sudo: a unit setting that implies NoNewPrivileges (seen: ProtectHostname=,
    // RestrictNamespaces=, ...) makes sudo refuse, and no vhost ever reaches nginx
    const box = pidIn(m, "box");
    expect(inCOk(m.name, ["sh", "-c", `grep '^NoNewPrivs:' /proc/${box}/status`]).trim()).toMatch(/^NoNewPrivs:\s+0$/);
    // install.sh makes /etc/nginx/hearth empty; only the helper makes a generation and points live at it
    const live = await waitFor("box's vhost set in /etc/nginx/hearth/live", () => {
      const r = inC(m.name, ["readlink", "/etc/nginx/hearth/live"]);
      return r.status === 0 ? r.out.trim() : undefined;
    });
    expect(live).toMatch(/^gen-[a-z0-9-]+$/);
    expect(inC(m.name, ["test", "-d", `/etc/nginx/hearth/${live}/sites`]).status).toBe(0);
    expect(inCOk(m.name, ["stat", "-c", "%U:%G %a", "/etc/nginx/hearth"]).trim()).toMatch(/^root:root 7[0-5]{2}$/);
    expect(inC(m.name, ["sh", "-c", "journalctl -u hearth-box --no-pager 2>/dev/null; cat /var/log/hearth/box.log 2>/dev/null"]).out).not.toMatch(/no new privileges/);
  });

  it.runIf(IMAGES_IN.includes(variant))("built the images inside the machine's own Docker: base, services and catalog", () => {
    const images = inCOk(m.name, ["docker", "images", "--format", "{{.Repository}}:{{.Tag}}"]).split("\n");
    console.log(`images in the ${variant} machine: ${images.join(" ")}`);
    expect(images.some((i) => BASE_IMAGES.includes(i))).toBe(true);
    for (const service of ["mariadb", "postgresql", "redis"])
      expect(
        images.some((i) => new RegExp(`(^|/)hearth/${service}:`).test(i)),
        service,
      ).toBe(true);
    const catalog = inCOk(m.name, ["docker", "images", "--filter", "label=hearth.catalog.id", "--format", "{{.Repository}}"]).split("\n").filter(Boolean);
    expect(catalog.length).toBe(readdirSync(path.join(REPO_ROOT, "packages/catalog/apps")).length);
  });

  it.runIf(!IMAGES_IN.includes(variant))("skipped the image builds, and says so; its Docker engine answers", () => {
    expect(m.installOutput).toMatch(/image builds SKIPPED \(HEARTH_SKIP_IMAGE_BUILDS=1\)/);
    expect(inC(m.name, ["docker", "info", "--format", "{{.ServerVersion}}"]).status).toBe(0);
  });

  it.runIf(variant === "systemd")("runs the hardened units under systemd; systemd-analyze security is measured", () => {
    for (const unit of ["hearth-box.service", "hearth-admin.service"]) {
      expect(inC(m.name, ["systemctl", "is-active", unit]).out).toBe("active");
      expect(inC(m.name, ["systemctl", "is-enabled", unit]).out).toBe("enabled");
    }
    const report: Record<string, string> = {};
    for (const unit of ["hearth-box.service", "hearth-admin.service"]) {
      const r = inC(m.name, ["systemd-analyze", "security", "--no-pager", unit]);
      console.log(`--- systemd-analyze security ${unit} (fresh systemd container) ---\n${r.out}`);
      const overall = /Overall exposure level for \S+: ([\d.]+) (\S+)/.exec(r.out);
      expect(overall, r.out).not.toBeNull();
      report[unit] = `${overall![1]} ${overall![2]}`;
    }
    console.log(`systemd-analyze security: ${JSON.stringify(report)}`);
    writeFileSync(path.join(RESULTS, "fresh-systemd-analyze-security.json"), `${JSON.stringify(report, null, 2)}\n`);
  });

  it("restarts box when it is killed with -9 (systemd's Restart= or the supervisor), and the dashboard answers again", async () => {
    const before = pidIn(m, "box");
    expect(before).toBeGreaterThan(1);
    inCOk(m.name, ["kill", "-9", String(before)]);
    const after = await waitFor("a new box process", () => {
      const p = pidIn(m, "box");
      return p > 1 && p !== before && inC(m.name, ["test", "-d", `/proc/${p}`]).status === 0 ? p : undefined;
    });
    expect(after).not.toBe(before);
    if (variant === "systemd") {
      await waitFor("hearth-box active", () => (inC(m.name, ["systemctl", "is-active", "hearth-box.service"]).out === "active" ? true : undefined));
      expect(Number(inCOk(m.name, ["systemctl", "show", "-p", "NRestarts", "--value", "hearth-box.service"]))).toBeGreaterThanOrEqual(1);
    }
    await waitFor("status with box up", () => {
      const r = statusThroughPublishedPort(m);
      return r.code === 200 && JSON.parse(r.body).box === "up" ? true : undefined;
    });
  });
});
