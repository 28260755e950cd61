/**
 * Benchmark (not a test): admin's idle memory with its own server (apps/admin/dist/server.mjs,
 * Next's handler plus the web terminal's WebSocket upgrades) against `next start` (the
 * baseline, what admin ran before), in the same run, alternating, each against a throw-away
 * database with the systemd unit's Node options. After start, one page and one API request,
 * then it idles; the process tree's RSS is the median of 5 readings 1 s apart. Prints both
 * and the ratio server/baseline.
 *
 *   (cd apps/admin && npm run build)
 *   npx tsx bench/admin-server-rss.ts [rounds, default 2] [idle seconds, default 10]
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { freePort } from "../test/helpers/admin";
import { emptyDatabase } from "../test/helpers/db";
import { listProcesses, measure, mib, withDescendants } from "./footprint-proc";
import { unitNodeFlags } from "./unit-options";

const ROOT = path.resolve(import.meta.dirname, "..");
const ROUNDS = Number(process.argv[2] ?? 2);
const IDLE_S = Number(process.argv[3] ?? 10);
const SERVER = path.join(ROOT, "apps/admin/dist/server.mjs");
const NEXT_BIN = path.join(ROOT, "node_modules/next/dist/bin/next");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function idleRss(variant: "next start" | "server.mjs"): Promise<number> {
  const db = await emptyDatabase("adminrss");
  const port = await freePort();
  const script = variant === "next start" ? [NEXT_BIN, "start", "-H", "127.0.0.1", "-p", String(port)] : [SERVER, "-H", "127.0.0.1", "-p", String(port)];
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("HEARTH_") && !k.startsWith("NODE_")));
  const c: ChildProcess = spawn(process.execPath, [...unitNodeFlags("hearth-admin.service"), ...script], {
    cwd: path.join(ROOT, "apps/admin"),
    env: {
      ...base,
      NODE_ENV: "production",
      NEXT_TELEMETRY_DISABLED: "1",
      HEARTH_DATABASE_URL: db.url,
      HEARTH_BOX_SOCKET: `/tmp/hearth-adminrss-${randomBytes(4).toString("hex")}.sock`,
      HEARTH_SECRET_KEY: randomBytes(32).toString("base64"),
      HEARTH_COOKIE_SECURE: "0",
    },
    stdio: "ignore",
  });
  try {
    const until = Date.now() + 90_000;
    for (;;) {
      if (c.exitCode !== null) throw new Error(`${variant} exited (${c.exitCode})`);
      const ok = await fetch(`http://127.0.0.1:${port}/api/v1/status`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) break;
      if (Date.now() > until) throw new Error(`${variant} did not come up`);
      await sleep(250);
    }
    await fetch(`http://127.0.0.1:${port}/login`).then((r) => r.text());
    await sleep(IDLE_S * 1000);
    const readings: number[] = [];
    for (let i = 0; i < 5; i++) {
      readings.push(measure(withDescendants([c.pid!], listProcesses())).rss);
      await sleep(1000);
    }
    return readings.sort((a, b) => a - b)[2]!;
  } finally {
    const gone = new Promise((r) => c.once("exit", r));
    c.kill("SIGTERM");
    await Promise.race([gone, sleep(10_000)]);
    if (c.exitCode === null) c.kill("SIGKILL");
    await db.drop();
  }
}

const base: number[] = [];
const mine: number[] = [];
for (let i = 0; i < ROUNDS; i++) {
  base.push(await idleRss("next start"));
  mine.push(await idleRss("server.mjs"));
  console.log(`round ${i + 1}: next start ${mib(base.at(-1)!)} MiB, server.mjs ${mib(mine.at(-1)!)} MiB`);
}
const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
console.log(`admin idle RSS: next start (baseline) ${mib(avg(base))} MiB, server.mjs ${mib(avg(mine))} MiB, ratio server.mjs/baseline ${(avg(mine) / avg(base)).toFixed(3)}`);
