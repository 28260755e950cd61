/**
 * Benchmark (not a test): box's and admin's idle memory, started from this checkout against a
 * throw-away database, once with plain `node` (the baseline) and once with the Node options
 * of their systemd units (systemd/hearth-box.service, systemd/hearth-admin.service: the
 * words between the node binary and the script in ExecStart; admin also with the environment
 * setup/install.sh writes into /etc/hearth/admin.env for it: jemalloc in LD_PRELOAD when this
 * machine has libjemalloc2, see bench/unit-options.ts), in the same run. After start
 * (admin: after one page and one API request) each idles for a while, then its process tree
 * is measured (RSS and PSS from /proc/<pid>/smaps_rollup, bench/footprint-proc.ts; the
 * median of 10 readings 1 s apart). Prints
 * both, the ratio tuned/plain, and box + admin RSS against the goal of 250 MiB.
 *
 *   npm run build -w @hearth/box && npm run build -w @hearth/admin
 *   npx tsx bench/idle-rss.ts [idle seconds, default 20]
 *
 * box runs with HEARTH_PROXY=off (no root helper here) and its addon services on (with no
 * app, none is started); admin on a free port. The test account of test/helpers/db.ts makes
 * the database (HEARTH_TEST_DB_URL overrides); everything is removed afterwards.
 * IDLE_BOX_FLAGS / IDLE_ADMIN_FLAGS replace the units' options (to try others), IDLE_ADMIN_ENV
 * admin's environment ("" for none, or K=V,K=V). A single run is noisy: glibc's malloc keeps
 * what a start left behind by chance (box 125 or 160 MiB from one start to the next); run it
 * a few times before drawing conclusions from a few MiB.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { emptyDatabase } from "../test/helpers/db";
import { listProcesses, measure, mib, MiB, withDescendants, type Measured } from "./footprint-proc";
import { adminAllocatorEnv, unitNodeFlags } from "./unit-options";

const ROOT = path.resolve(import.meta.dirname, "..");
const IDLE_S = Number(process.argv[2] ?? 20);
if (!Number.isFinite(IDLE_S) || IDLE_S < 1) throw new Error("idle seconds must be a positive number");
const GOAL_MIB = 250;
const BOX_MAIN = path.join(ROOT, "apps/box/dist/main.mjs");
const ADMIN_SERVER = path.join(ROOT, "apps/admin/dist/server.mjs");
if (!existsSync(BOX_MAIN)) throw new Error(`${BOX_MAIN} is missing: npm run build -w @hearth/box`);
if (!existsSync(path.join(ROOT, "apps/admin/.next/BUILD_ID")) || !existsSync(ADMIN_SERVER)) throw new Error("admin is not built: npm run build -w @hearth/admin");

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => (typeof a === "object" && a ? resolve(a.port) : reject(new Error("no port"))));
    });
  });
const SAMPLES = 10;
/** Per figure, the median of the readings. */
function median(ms: Measured[]): Measured {
  const mid = (k: "rss" | "pss" | "pssAnon" | "swap") => ms.map((m) => m[k]).sort((a, b) => a - b)[Math.floor(ms.length / 2)]!;
  return { pids: ms[ms.length - 1]!.pids, rss: mid("rss"), pss: mid("pss"), pssAnon: mid("pssAnon"), swap: mid("swap") };
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function started(c: ChildProcess, name: string, ready: RegExp, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = "";
    const t = setTimeout(() => reject(new Error(`${name} did not get ready within ${ms} ms:\n${out.slice(-2000)}`)), ms);
    const on = (d: Buffer) => {
      out += d.toString();
      if (ready.test(out)) {
        clearTimeout(t);
        resolve();
      }
    };
    c.stdout!.on("data", on);
    c.stderr!.on("data", on);
    c.on("exit", (code) => {
      clearTimeout(t);
      reject(new Error(`${name} exited (${code}):\n${out.slice(-2000)}`));
    });
  });
}

async function stop(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null) return;
  const gone = new Promise((r) => c.once("exit", r));
  c.kill("SIGTERM");
  await Promise.race([gone, sleep(20_000)]);
  if (c.exitCode === null) c.kill("SIGKILL");
}

async function run(variant: string, boxFlags: string[], adminFlags: string[], adminEnv: Record<string, string> = {}): Promise<{ box: Measured; admin: Measured }> {
  const db = await emptyDatabase("idle");
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "hearth-idle-"));
  const socket = path.join(dataDir, "box.sock");
  const secret = randomBytes(32).toString("base64");
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("HEARTH_") && !k.startsWith("NODE_"))) as NodeJS.ProcessEnv;
  const children: ChildProcess[] = [];
  try {
    const box = spawn(process.execPath, [...boxFlags, BOX_MAIN], {
      cwd: path.join(ROOT, "apps/box"),
      env: {
        ...base,
        HEARTH_DATABASE_URL: db.url,
        HEARTH_DATA_DIR: dataDir,
        HEARTH_BOX_SOCKET: socket,
        HEARTH_SOCKET_GROUP: "",
        HEARTH_BOX_ID: `idle-${randomBytes(3).toString("hex")}`,
        HEARTH_PROXY: "off",
        HEARTH_SECRET_KEY: secret,
        HEARTH_MAIL_RELAY_PORT: String(await freePort()),
        HEARTH_LOG_LEVEL: "info",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(box);
    await started(box, "box", /box ready/, 120_000);
    const port = await freePort();
    const admin = spawn(process.execPath, [...adminFlags, ADMIN_SERVER, "-H", "127.0.0.1", "-p", String(port)], {
      cwd: path.join(ROOT, "apps/admin"),
      env: {
        ...base,
        ...adminEnv,
        NODE_ENV: "production",
        NEXT_TELEMETRY_DISABLED: "1",
        HEARTH_DATABASE_URL: db.url,
        HEARTH_BOX_SOCKET: socket,
        HEARTH_SECRET_KEY: secret,
        HEARTH_COOKIE_SECURE: "0",
        HEARTH_PROXY_SECRET: randomBytes(16).toString("hex"),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(admin);
    await started(admin, "admin", /Ready in|started server|Local:|listening on/, 120_000);
    // a page and an API request, as a first visit makes
    for (const p of ["/login", "/api/v1/status"]) {
      const r = await fetch(`http://127.0.0.1:${port}${p}`).catch((e: Error) => ({ status: e.message }));
      process.stderr.write(`idle-rss: ${variant}: GET ${p} → ${r.status}\n`);
    }
    await sleep(IDLE_S * 1000);
    // a GC or a timer moves a single reading by tens of MiB: the median of 10 readings, 1 s apart
    const boxes: Measured[] = [];
    const admins: Measured[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const all = listProcesses();
      boxes.push(measure(withDescendants([box.pid!], all)));
      admins.push(measure(withDescendants([admin.pid!], all)));
      await sleep(1000);
    }
    return { box: median(boxes), admin: median(admins) };
  } finally {
    for (const c of children.reverse()) await stop(c);
    await db.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

// IDLE_BOX_FLAGS / IDLE_ADMIN_FLAGS (space-separated) try other options than the units'
const flagsFrom = (env: string | undefined, unit: string) => (env !== undefined ? env.split(/\s+/).filter(Boolean) : unitNodeFlags(unit));
const boxFlags = flagsFrom(process.env.IDLE_BOX_FLAGS, "hearth-box.service");
const adminFlags = flagsFrom(process.env.IDLE_ADMIN_FLAGS, "hearth-admin.service");
// admin's environment as setup/install.sh writes it (IDLE_ADMIN_ENV="" for none, or K=V,K=V)
const adminEnv =
  process.env.IDLE_ADMIN_ENV !== undefined
    ? Object.fromEntries(
        process.env.IDLE_ADMIN_ENV.split(",")
          .filter(Boolean)
          .map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
      )
    : adminAllocatorEnv();
const plain = await run("plain", [], []);
const tuned = await run("tuned", boxFlags, adminFlags, adminEnv);
const line = (name: string, m: Measured) => `${name.padEnd(22)} ${String(m.pids.length).padStart(5)} ${mib(m.rss).padStart(9)} ${mib(m.pss).padStart(9)} ${mib(m.pssAnon).padStart(9)}`;
console.log(
  `idle ${IDLE_S}s after start, median of ${SAMPLES} readings; box flags: ${boxFlags.join(" ") || "(none)"}; admin flags: ${adminFlags.join(" ") || "(none)"}; admin env: ${
    Object.entries(adminEnv)
      .map(([k, v]) => `${k}=${v}`)
      .join(" ") || "(none)"
  }`,
);
console.log(`${"".padEnd(22)} procs   RSS MiB   PSS MiB  anon MiB`);
console.log(line("box, plain node", plain.box));
console.log(line("box, unit flags", tuned.box));
console.log(line("admin, plain node", plain.admin));
console.log(line("admin, unit flags", tuned.admin));
const sum = (x: { box: Measured; admin: Measured }) => x.box.rss + x.admin.rss;
console.log(`box RSS ratio unit/plain: ${(tuned.box.rss / plain.box.rss).toFixed(2)}; admin: ${(tuned.admin.rss / plain.admin.rss).toFixed(2)}`);
console.log(
  `box + admin RSS: plain ${mib(sum(plain))} MiB (${(sum(plain) / (GOAL_MIB * MiB)).toFixed(2)} of the ${GOAL_MIB} MiB goal), unit flags ${mib(sum(tuned))} MiB (${(sum(tuned) / (GOAL_MIB * MiB)).toFixed(2)})`,
);
process.exit(0);
