import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import path from "node:path";
import mariadb from "mariadb";
import { hashSetupCode } from "@hearth/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * Runs setup/install.sh for real on this machine (as root; on CI and the dev machines
 * systemd is not PID 1, so this is the supervisor path), then checks what it set up from
 * the outside: nginx with TLS verified against the generated certificate, the redirect,
 * file modes, sudoers, who the processes run as, the box socket. Then runs it again: it
 * must succeed, keep the database password and be quick. test/run.sh builds and runs the
 * e2e project after this one, against the Hearth installed here.
 */
const REPO_ROOT = path.resolve(import.meta.dirname, "../..");
const INSTALL_SH = path.join(REPO_ROOT, "setup/install.sh");
const SETUP_CODE_FILE = "/etc/hearth/setup-code";
const RESULTS = path.join(REPO_ROOT, "test-results");
const ENV_FILE = "/etc/hearth/hearth.env";
const CERT = "/etc/hearth/tls/dashboard.crt";
const SUDOERS = "/etc/sudoers.d/hearth";
// the supervisor's pid files (no systemd): root's folder
const SUPERVISE_DIR = "/run/hearth-supervise";
const SYSTEMD = existsSync("/run/systemd/system") && process.env.HEARTH_INIT !== "direct";

interface InstallRun {
  code: number | null;
  output: string;
  seconds: number;
}

/** Runs install.sh with no stdin, like CI; its output goes to test-results/install-run-N.log. */
function runInstall(n: number): Promise<InstallRun> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [INSTALL_SH], { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"], env: process.env });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.on("error", reject);
    let exited: number | null | undefined;
    const finish = () => {
      const seconds = (Date.now() - started) / 1000;
      mkdirSync(RESULTS, { recursive: true });
      writeFileSync(path.join(RESULTS, `install-run-${n}.log`), output);
      console.log(`--- install.sh run ${n}: exit ${exited}, ${seconds.toFixed(1)}s ---\n${output}`);
      resolve({ code: exited ?? null, output, seconds });
    };
    // 'close' waits for every holder of the pipes; a daemon that kept them open would hang
    // us, so after 'exit' give the output 3s to drain and go on
    child.on("exit", (code) => {
      exited = code;
      const t = setTimeout(finish, 3000);
      child.on("close", () => {
        clearTimeout(t);
        finish();
      });
    });
  });
}

/** A fingerprint of the build's inputs in the checkout (paths and mtimes). */
function sourcesFingerprint(): string {
  return execFileSync(
    "find",
    // the same inputs as install.sh's build_key
    [
      "package.json",
      "package-lock.json",
      "tsconfig.json",
      "tsconfig.base.json",
      "prisma.config.ts",
      "apps",
      "packages",
      "prisma",
      "(",
      "-name",
      "node_modules",
      "-o",
      "-name",
      ".next",
      "-o",
      "-name",
      "dist",
      "-o",
      "-name",
      "generated",
      "-o",
      "-name",
      "next-env.d.ts",
      "-o",
      "-name",
      "*.tsbuildinfo",
      ")",
      "-prune",
      "-o",
      "-type",
      "f",
      "-printf",
      "%T@ %p\n",
    ],
    { cwd: REPO_ROOT, encoding: "utf8" },
  );
}

function envValue(key: string): string {
  const line = readFileSync(ENV_FILE, "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${key}=`));
  if (!line) throw new Error(`${key} missing from ${ENV_FILE}`);
  return line.slice(key.length + 1);
}

function dbPassword(): string {
  return decodeURIComponent(new URL(envValue("HEARTH_DATABASE_URL")).password);
}

interface Response {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function get(url: string, opts: https.RequestOptions = {}): Promise<Response> {
  const mod = url.startsWith("https:") ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(url, { method: "GET", timeout: 10_000, ...opts }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("timeout", () => req.destroy(new Error(`timeout: ${url}`)));
    req.on("error", reject);
    req.end();
  });
}

/** GET with TLS verified against the installer's self-signed certificate (no -k). */
function getVerified(url: string): Promise<Response> {
  return get(url, { ca: readFileSync(CERT), rejectUnauthorized: true });
}

async function waitForStatus(timeoutMs = 60_000): Promise<Response> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const r = await getVerified("https://127.0.0.1/api/v1/status");
      if (r.status === 200) return r;
      last = `HTTP ${r.status}`;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`status did not answer within ${timeoutMs}ms: ${String(last)}`);
}

function idOf(flag: "-u" | "-g", name: string): number {
  return Number(execFileSync("id", [flag, name], { encoding: "utf8" }).trim());
}

function gidOfGroup(name: string): number {
  return Number(execFileSync("getent", ["group", name], { encoding: "utf8" }).split(":")[2]);
}

/** The main pid of a service: systemd's MainPID, or the supervisor's pid file. */
function pidOf(service: "box" | "admin"): number {
  if (SYSTEMD) {
    const out = execFileSync("systemctl", ["show", "-p", "MainPID", "--value", `hearth-${service}.service`], { encoding: "utf8" });
    return Number(out.trim());
  }
  return Number(readFileSync(path.join(SUPERVISE_DIR, `${service}.pid`), "utf8").trim());
}

/** Real uid, gid and supplementary groups of a running process. */
function credentialsOf(pid: number): { uid: number; gid: number; groups: number[] } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (name: string) => (status.match(new RegExp(`^${name}:[ \\t]*(.*)$`, "m"))?.[1] ?? "").trim().split(/\s+/);
  return { uid: Number(field("Uid")[0]), gid: Number(field("Gid")[0]), groups: field("Groups").filter(Boolean).map(Number) };
}

/**
 * GET /_ping on the Docker socket with exactly these credentials (setpriv, no capabilities
 * kept): curl's exit status and what the daemon answered ("OK" when it let us in).
 */
/** A connection to the installed hearth database, with the env file's URL. */
function hearthDb() {
  const url = new URL(envValue("HEARTH_DATABASE_URL"));
  return mariadb.createConnection({
    host: url.hostname,
    port: Number(url.port || 3306),
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    database: url.pathname.slice(1),
  });
}

function dockerPingAs(c: { uid: number; gid: number; groups: number[] }): { status: number | null; stdout: string } {
  const groups = c.groups.length ? [`--groups=${c.groups.join(",")}`] : ["--clear-groups"];
  const r = spawnSync("setpriv", [`--reuid=${c.uid}`, `--regid=${c.gid}`, ...groups, "--inh-caps=-all", "curl", "-s", "--max-time", "10", "--unix-socket", "/var/run/docker.sock", "http://d/_ping"], {
    encoding: "utf8",
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout };
}

async function waitFor<T>(what: string, fn: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const v = fn();
      if (v !== undefined) return v;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe.runIf(process.getuid?.() === 0)("setup/install.sh on this machine", () => {
  let first: InstallRun;
  let passwordAfterFirst: string;
  let secretKeyAfterFirst: string;
  let setupCodeAfterFirst = "";
  let installIdAfterFirst: string;
  let sourcesAtFirst: string;

  beforeAll(async () => {
    sourcesAtFirst = sourcesFingerprint();
    first = await runInstall(1);
    if (first.code === 0) {
      passwordAfterFirst = dbPassword();
      secretKeyAfterFirst = envValue("HEARTH_SECRET_KEY");
      installIdAfterFirst = envValue("HEARTH_INSTALL_ID");
    }
  });

  it("installs and reports the dashboard's address", () => {
    expect(first.code, first.output.slice(-3000)).toBe(0);
    expect(first.output).toMatch(/^Hearth is ready: https:\/\/[0-9a-f.:]+\/$/m);
    console.log(`first install: ${first.seconds.toFixed(1)}s`);
  });

  it("answers /api/v1/status through nginx over TLS that verifies against the generated certificate", async () => {
    const r = await waitForStatus();
    expect(r.status).toBe(200);
    const body = JSON.parse(r.body) as { version: unknown; setupDone: unknown; box: unknown; installId?: unknown };
    expect(typeof body.version).toBe("string");
    // the admin that answers is the one this run started: it knows this run's install id
    expect(body.installId).toMatch(/^[0-9a-f]{32}$/);
    expect(body.installId).toBe(envValue("HEARTH_INSTALL_ID"));
    expect(typeof body.setupDone).toBe("boolean");
    expect(body).toHaveProperty("box");
    expect(r.headers["strict-transport-security"]).toMatch(/max-age=\d+/);
    expect(r.headers["x-content-type-options"]).toBe("nosniff");
    // and the certificate really is checked: without it as a CA the same request fails
    await expect(get("https://127.0.0.1/api/v1/status", { rejectUnauthorized: true })).rejects.toThrow(/self[- ]signed|certificate/i);
  });

  it("made the certificate for the server's IP and localhost", () => {
    const text = execFileSync("openssl", ["x509", "-noout", "-text", "-in", CERT], { encoding: "utf8" });
    const ip = first.output.match(/^Hearth is ready: https:\/\/([^/]+)\/$/m)?.[1];
    expect(ip).toBeTruthy();
    expect(text).toContain(`IP Address:${ip}`);
    expect(text).toContain("DNS:localhost");
    expect(text).toMatch(new RegExp(`Subject: CN ?= ?${ip!.replace(/\./g, "\\.")}`));
  });

  it("redirects http:// to https://", async () => {
    const r = await get("http://127.0.0.1/api/v1/status?x=1");
    expect(r.status).toBe(301);
    expect(r.headers.location).toBe("https://127.0.0.1/api/v1/status?x=1");
  });

  it("keeps the env file 0640 root:hearth and the password out of the output", () => {
    const st = statSync(ENV_FILE);
    expect((st.mode & 0o777).toString(8)).toBe("640");
    expect(st.uid).toBe(0);
    expect(st.gid).toBe(gidOfGroup("hearth"));
    expect(first.output).not.toContain(dbPassword());
    for (const key of ["HEARTH_DATA_DIR", "HEARTH_BOX_SOCKET", "HEARTH_SOCKET_GROUP", "HEARTH_LOG_LEVEL", "HEARTH_MIGRATIONS_DIR"]) {
      expect(envValue(key)).not.toBe("");
    }
    expect(envValue("HEARTH_BOX_SOCKET")).toBe("/run/hearth/box.sock");
    // a 32-byte key for secrets at rest, never printed
    expect(Buffer.from(envValue("HEARTH_SECRET_KEY"), "base64")).toHaveLength(32);
    expect(first.output).not.toContain(envValue("HEARTH_SECRET_KEY"));
    // admin's copy: the same values, readable by hearth-admin only
    const adminEnv = statSync("/etc/hearth/admin.env");
    expect([(adminEnv.mode & 0o777).toString(8), adminEnv.uid, adminEnv.gid]).toEqual(["640", 0, gidOfGroup("hearth-admin")]);
    expect(readFileSync("/etc/hearth/admin.env", "utf8")).toContain(`HEARTH_SECRET_KEY=${envValue("HEARTH_SECRET_KEY")}`);
    expect(spawnSync("runuser", ["-u", "hearth-admin", "--", "cat", "/etc/hearth/hearth.env"]).status).not.toBe(0);
    // the secret nginx sends admin with X-Real-IP: admin's and root's only
    const proxySecret = /^HEARTH_PROXY_SECRET=([0-9a-f]{64})$/m.exec(readFileSync("/etc/hearth/admin.env", "utf8"))?.[1];
    expect(proxySecret).toBeTruthy();
    expect(readFileSync(ENV_FILE, "utf8")).not.toContain(proxySecret!);
    const map = statSync("/etc/nginx/hearth-secret/proxy.map");
    expect([(map.mode & 0o777).toString(8), map.uid]).toEqual(["600", 0]);
    expect(readFileSync("/etc/nginx/hearth-secret/proxy.map", "utf8")).toContain(`"${proxySecret}"`);
    expect(first.output).not.toContain(proxySecret!);
  });

  it("created the folders with the documented owners and modes", () => {
    const hearthUid = idOf("-u", "hearth");
    const hearthGid = gidOfGroup("hearth");
    const expectDir = (p: string, uid: number, gid: number, mode: number) => {
      const st = statSync(p);
      expect(st.isDirectory(), p).toBe(true);
      expect([p, st.uid, st.gid, (st.mode & 0o777).toString(8)]).toEqual([p, uid, gid, mode.toString(8)]);
    };
    expectDir("/var/lib/hearth", hearthUid, hearthGid, 0o750);
    // nginx's workers serve the "app is starting" page and ACME tokens from here
    expectDir("/var/lib/hearth-public", hearthUid, hearthGid, 0o755);
    expectDir("/run/hearth", hearthUid, gidOfGroup("hearth-sock"), 0o750);
    expectDir("/run/hearth-supervise", 0, 0, 0o700);
    expectDir("/var/log/hearth", 0, 0, 0o750);
    expectDir("/etc/hearth", 0, 0, 0o755);
    expectDir("/etc/nginx/hearth", 0, 0, 0o755);
    expectDir("/opt/hearth/app", 0, 0, 0o755);
    const passwd = execFileSync("getent", ["passwd", "hearth"], { encoding: "utf8" }).trim().split(":");
    expect(passwd[5]).toBe("/var/lib/hearth");
    expect(passwd[6]).toMatch(/nologin$/);
    // docker group membership is root-equivalent: only the box process gets it, not the user
    expect(execFileSync("id", ["-nG", "hearth"], { encoding: "utf8" }).trim().split(" ")).not.toContain("docker");
    // the code is not in the copy's way: no .git, and the hearth user can read it
    expect(existsSync("/opt/hearth/app/.git")).toBe(false);
    const r = spawnSync("runuser", ["-u", "hearth", "--", "cat", "/opt/hearth/app/package.json"]);
    expect(r.status).toBe(0);
    // admin's user writes nothing root or box reads: not its build, not its cache, not box's data
    for (const dir of ["/opt/hearth/app/apps/admin/.next", "/var/lib/hearth", "/var/lib/hearth-public", "/run/hearth", "/etc/nginx/hearth", "/var/log/hearth"]) {
      const w = spawnSync("setpriv", ["--reuid=hearth-admin", "--regid=hearth-admin", "--groups=hearth-sock", "sh", "-c", 'echo x > "$1/.probe"', "_", dir]);
      expect([dir, w.status === 0]).toEqual([dir, false]);
    }
    expect(existsSync("/opt/hearth/app/apps/admin/.next/cache") ? statSync("/opt/hearth/app/apps/admin/.next/cache").uid : 0).toBe(0);
  });

  it("installs a sudoers file that validates and allows only the helpers", () => {
    const check = spawnSync("visudo", ["-cf", SUDOERS], { encoding: "utf8" });
    expect(check.status, check.stderr + check.stdout).toBe(0);
    const st = statSync(SUDOERS);
    expect((st.mode & 0o777).toString(8)).toBe("440");
    expect(st.uid).toBe(0);
    // sudo lets hearth run the helper (which refuses this input by itself: exit 2, its message)
    const allowed = spawnSync("runuser", ["-u", "hearth", "--", "sudo", "-n", "/opt/hearth/app/setup/sudo/install-vhosts.sh"], {
      encoding: "utf8",
      input: "not json",
    });
    expect([allowed.status, allowed.stderr]).toEqual([2, expect.stringContaining("install-vhosts: refused: stdin is not JSON")]);
    const denied = spawnSync("runuser", ["-u", "hearth", "--", "sudo", "-n", "/bin/true"], { encoding: "utf8" });
    expect(denied.status).not.toBe(0);
    const adminDenied = spawnSync("runuser", ["-u", "hearth-admin", "--", "sudo", "-n", "/opt/hearth/app/setup/sudo/install-vhosts.sh"], { encoding: "utf8", input: "{}" });
    expect(adminDenied.status).not.toBe(0);
    expect(adminDenied.stderr).toMatch(/sudo/);
    const helper = statSync("/opt/hearth/app/setup/sudo/install-vhosts.sh");
    expect(helper.uid).toBe(0);
    expect(helper.mode & 0o022).toBe(0);
  });

  it("runs box as hearth and admin as hearth-admin; only box may use Docker", () => {
    const hearthUid = idOf("-u", "hearth");
    const hearthGid = gidOfGroup("hearth");
    const box = credentialsOf(pidOf("box"));
    const admin = credentialsOf(pidOf("admin"));
    expect(box.uid).toBe(hearthUid);
    expect(box.gid).toBe(hearthGid);
    expect(box.groups).toContain(gidOfGroup("docker"));
    expect(box.groups).toContain(gidOfGroup("hearth-sock"));
    expect(admin.uid).toBe(idOf("-u", "hearth-admin"));
    expect(admin.uid).not.toBe(hearthUid);
    expect(admin.gid).toBe(gidOfGroup("hearth-admin"));
    expect(admin.groups).toContain(gidOfGroup("hearth-sock"));
    expect(admin.groups).not.toContain(gidOfGroup("docker"));
    expect(admin.groups).not.toContain(hearthGid);
    // and so admin's credentials cannot talk to the Docker daemon (connect() is refused:
    // curl's exit 7, no answer), while box's credentials can (the same request gets "OK")
    const asAdmin = dockerPingAs(admin);
    expect(asAdmin, "admin's uid/gid/groups reached the Docker socket").toEqual({ status: 7, stdout: "" });
    expect(dockerPingAs(box), "box's uid/gid/groups could not reach the Docker socket").toEqual({ status: 0, stdout: "OK" });
  });

  it("has box's socket at /run/hearth/box.sock, 0660 group hearth-sock", async () => {
    const st = await waitFor("box.sock", () => {
      const s = statSync("/run/hearth/box.sock");
      return s.isSocket() ? s : undefined;
    });
    expect((st.mode & 0o777).toString(8)).toBe("660");
    expect(st.gid).toBe(gidOfGroup("hearth-sock"));
  });

  it("applied every migration to the hearth database, reachable with the env file's URL", async () => {
    const conn = await hearthDb();
    try {
      const rows: { migration_name: string }[] = await conn.query("SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL");
      const expected = readdirSync(path.join(REPO_ROOT, "prisma/migrations"), { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => e.name)
        .sort();
      expect(rows.map((r) => r.migration_name).sort()).toEqual(expected);
    } finally {
      await conn.end();
    }
  });

  it("prints a one-time setup code, keeps it root-only in /etc/hearth/setup-code, and stores only its hash", async () => {
    // a fresh install (test/run.sh dropped any earlier database): no owner yet
    const m = /^Setup code: ([A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4})$/m.exec(first.output);
    expect(m, first.output.slice(-1500)).not.toBeNull();
    const code = m![1]!;
    const st = statSync(SETUP_CODE_FILE);
    expect(st.uid).toBe(0);
    expect(st.gid).toBe(0);
    expect(st.mode & 0o777).toBe(0o600);
    expect(readFileSync(SETUP_CODE_FILE, "utf8").trim()).toBe(code);
    // neither box's user nor admin's can read it
    for (const user of ["hearth", "hearth-admin"]) {
      const r = spawnSync("runuser", ["-u", user, "--", "cat", SETUP_CODE_FILE], { encoding: "utf8" });
      expect(r.status, `${user} read ${SETUP_CODE_FILE}`).not.toBe(0);
    }
    expect(readFileSync(path.join("/var/log/hearth/install.log"), "utf8")).not.toContain(code);
    const conn = await hearthDb();
    try {
      const rows: { value: string }[] = await conn.query("SELECT CAST(value AS CHAR) AS value FROM Setting WHERE `key` = 'setup.code'");
      expect(rows).toHaveLength(1);
      const stored = JSON.parse(rows[0]!.value) as { hash: string };
      expect(stored.hash).toBe(hashSetupCode(code));
      expect(rows[0]!.value).not.toContain(code.replace(/-/g, ""));
    } finally {
      await conn.end();
    }
    setupCodeAfterFirst = code;
  });

  it.skipIf(SYSTEMD)("restarts box when it dies (the supervisor's Restart=always)", async () => {
    const before = pidOf("box");
    process.kill(before, "SIGKILL");
    const after = await waitFor("a new box process", () => {
      const p = pidOf("box");
      return p !== before && credentialsOf(p).uid === idOf("-u", "hearth") ? p : undefined;
    });
    expect(after).not.toBe(before);
    await waitFor("box.sock again", () => (statSync("/run/hearth/box.sock").isSocket() ? true : undefined));
    const r = await waitForStatus();
    expect(r.status).toBe(200);
  });

  describe("a second run", () => {
    let second: InstallRun;
    let sourcesChanged: boolean;

    beforeAll(async () => {
      // on a machine where people edit the checkout meanwhile, a rebuild is right
      sourcesChanged = sourcesFingerprint() !== sourcesAtFirst;
      second = await runInstall(2);
    });

    afterAll(() => {
      console.log(`install.sh durations: first run ${first?.seconds.toFixed(1)}s, second run ${second?.seconds.toFixed(1)}s`);
    });

    it("succeeds, stops the previous services and reuses what is there", () => {
      expect(second.code, second.output.slice(-3000)).toBe(0);
      expect(second.output).toMatch(/^Hearth is ready: /m);
      expect(second.output).toContain("package-lock.json unchanged");
      if (!sourcesChanged) expect(second.output).toContain("sources unchanged since the last build");
      expect(second.output).toContain("database password kept");
      expect(second.output).toContain("certificate for");
      if (!SYSTEMD) expect(second.output).toMatch(/stopped the previous box/);
      console.log(`second install: ${second.seconds.toFixed(1)}s (first: ${first.seconds.toFixed(1)}s)`);
    });

    it("shows the same setup code again while no owner exists", () => {
      expect(second.output).toContain(`Setup code: ${setupCodeAfterFirst}`);
      expect(readFileSync(SETUP_CODE_FILE, "utf8").trim()).toBe(setupCodeAfterFirst);
    });

    it("keeps the database password", () => {
      expect(dbPassword()).toBe(passwordAfterFirst);
      // the key that sealed secrets must never change
      expect(envValue("HEARTH_SECRET_KEY")).toBe(secretKeyAfterFirst);
    });

    it("still answers /api/v1/status, from the admin this run started (a new install id)", async () => {
      const r = await waitForStatus();
      expect(r.status).toBe(200);
      const id = (JSON.parse(r.body) as { installId?: string }).installId;
      expect(id).toBe(envValue("HEARTH_INSTALL_ID"));
      expect(id).not.toBe(installIdAfterFirst);
    });

    it("left one box and one admin running", () => {
      if (SYSTEMD) return;
      // processes of containers on this machine show up too: count only ours
      const ourPidNs = readlinkSync("/proc/self/ns/pid");
      const inOurNs = (pid: string) => {
        try {
          return readlinkSync(`/proc/${pid}/ns/pid`) === ourPidNs;
        } catch {
          return false;
        }
      };
      for (const s of ["box", "admin"] as const) {
        const sups = execFileSync("pgrep", ["-f", `supervise.sh ${s} `], { encoding: "utf8" })
          .trim()
          .split("\n")
          .filter(inOurNs);
        expect(sups, `${s} supervisors`).toHaveLength(1);
      }
    });
  });
});
