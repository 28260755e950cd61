/**
 * Benchmark (not a test): the page weight of the dashboard's Apps page with APPS installed
 * apps, this tree's admin against a baseline commit (BASE, default 17b2d46: main before the
 * issue-14 dashboard libraries), both built and measured in the same run on the same
 * database, in Debian's Chromium (a new context per load: nothing cached). Per load: the
 * JavaScript transferred (compressed, as on the wire) and decoded, the number of requests,
 * and the time from navigation to the apps grid visible (every app's title link on screen).
 * RUNS loads each, alternating; the median of each figure is printed with this tree's ratio
 * to the baseline.
 *
 * The baseline is built in a temporary git worktree (`git worktree add --detach`) with its own
 * `npm ci`, `npm run generate` and `next build`, and removed at the end.
 *
 *   (cd apps/admin && npx next build) && npx tsx bench/admin-page-weight.ts [apps 30] [runs 5]
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium, type Browser } from "playwright-core";
import { hearthManifest, type HearthManifest } from "@hearth/contracts";
import { addDomain, claimNext, finishTask, installApp, updateAppState } from "@hearth/db";
import { migratedDatabase, REPO_ROOT } from "../test/helpers/db";
import { ensureAdminBuilt, freePort, sessionCookieOf, startAdmin, TEST_PROXY_SECRET } from "../test/helpers/admin";
import { percentile } from "./stats";

const APPS = Number(process.argv[2] ?? 30);
const RUNS = Number(process.argv[3] ?? 5);
const BASE = process.env.PAGE_WEIGHT_BASE ?? "17b2d46";
/** a checkout of BASE already installed and built (npm ci, generate, next build) to reuse; kept afterwards */
const BASE_DIR = process.env.PAGE_WEIGHT_BASE_DIR;

interface Load {
  jsTransferred: number;
  jsDecoded: number;
  requests: number;
  gridMs: number;
}

function sh(cmd: string, args: string[], cwd: string) {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" }, timeout: 900_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed in ${cwd}:\n${r.stdout}\n${r.stderr}`);
}

/** `next start` of the admin in `root` (a checkout with its own node_modules and build). */
async function startAdminAt(root: string, env: Record<string, string>): Promise<{ base: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  let output = "";
  const server: ChildProcess = spawn(process.execPath, [path.join(root, "node_modules/next/dist/bin/next"), "start", "-H", "127.0.0.1", "-p", String(port)], {
    cwd: path.join(root, "apps/admin"),
    env: { ...process.env, NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1", HEARTH_COOKIE_SECURE: "false", HEARTH_LOG_LEVEL: "warn", HEARTH_PROXY_SECRET: TEST_PROXY_SECRET, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  server.stdout!.on("data", (d) => (output += d));
  server.stderr!.on("data", (d) => (output += d));
  for (const until = Date.now() + 90_000; ; ) {
    if (server.exitCode !== null) throw new Error(`baseline admin exited (${server.exitCode}):\n${output}`);
    if (
      await fetch(`${base}/login`).then(
        (r) => r.status < 500,
        () => false,
      )
    )
      break;
    if (Date.now() > until) throw new Error(`baseline admin did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 300));
  }
  return {
    base,
    stop: async () => {
      if (server.exitCode !== null) return;
      const exited = new Promise((r) => server.once("exit", r));
      server.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (server.exitCode === null) server.kill("SIGKILL");
    },
  };
}

/** One cold load of /apps: JS bytes (wire and decoded, from the DevTools protocol), requests, time until every app's title link is visible. */
async function loadApps(browser: Browser, base: string, cookie: string): Promise<Load> {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  try {
    const name = cookie.slice(0, cookie.indexOf("="));
    await ctx.addCookies([{ name, value: cookie.slice(name.length + 1), url: base }]);
    const page = await ctx.newPage();
    const cdp = await ctx.newCDPSession(page);
    await cdp.send("Network.enable");
    await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
    const scripts = new Set<string>();
    const decoded = new Map<string, number>();
    let jsTransferred = 0;
    let requests = 0;
    cdp.on("Network.requestWillBeSent", () => void requests++);
    cdp.on("Network.responseReceived", (e) => {
      if (e.type === "Script") scripts.add(e.requestId);
    });
    cdp.on("Network.dataReceived", (e) => decoded.set(e.requestId, (decoded.get(e.requestId) ?? 0) + e.dataLength));
    cdp.on("Network.loadingFinished", (e) => {
      if (scripts.has(e.requestId)) jsTransferred += e.encodedDataLength;
    });
    const t0 = performance.now();
    await page.goto(`${base}/apps`);
    await page
      .waitForFunction(
        (n) => {
          const links = [...document.querySelectorAll<HTMLElement>(".app-title-link")];
          return links.length >= n && links.every((l) => l.offsetParent !== null);
        },
        APPS,
        { timeout: 60_000, polling: "raf" },
      )
      .catch(async (e) => {
        const n = await page.locator(".app-title-link").count();
        throw new Error(
          `${base}: the grid did not show ${APPS} apps (${n} title links at ${page.url()}): ${(
            await page
              .locator("main")
              .innerText()
              .catch(() => "")
          ).slice(0, 400)}`,
          { cause: e },
        );
      });
    const gridMs = performance.now() - t0;
    await page.waitForLoadState("networkidle");
    let jsDecoded = 0;
    for (const id of scripts) jsDecoded += decoded.get(id) ?? 0;
    return { jsTransferred, jsDecoded, requests, gridMs };
  } finally {
    await ctx.close();
  }
}

async function main() {
  const tmp = mkdtempSync(path.join(os.tmpdir(), "hearth-bench-weight-"));
  const baseDir = BASE_DIR ?? path.join(tmp, "baseline");
  const t = await migratedDatabase("benchweight");
  const stops: (() => Promise<void>)[] = [];
  let browser: Browser | undefined;
  try {
    // --- the two builds
    if (!BASE_DIR) {
      console.log(`baseline ${BASE}: worktree, npm ci, generate, next build …`);
      execFileSync("git", ["-C", REPO_ROOT, "worktree", "add", "--detach", baseDir, BASE], { stdio: "ignore" });
      sh("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"], baseDir);
      sh("npm", ["run", "generate"], baseDir);
      sh(process.execPath, [path.join(baseDir, "node_modules/next/dist/bin/next"), "build"], path.join(baseDir, "apps/admin"));
    } else console.log(`baseline ${BASE}: the build in ${BASE_DIR}`);
    ensureAdminBuilt();

    // --- seed: the owner (setup through this tree's admin), a domain, APPS installed apps from the built-in catalog
    const secret = randomBytes(32).toString("base64");
    const env = { HEARTH_DATABASE_URL: t.url, HEARTH_BOX_SOCKET: path.join(tmp, "no-box.sock"), HEARTH_SECRET_KEY: secret };
    const current = await startAdmin({ ...env, HEARTH_LOG_LEVEL: "warn" });
    stops.push(() => current.stop());
    const setup = await current.setupOwner({ username: "owner", email: "owner@example.com", password: "correct horse battery staple" });
    if (setup.status !== 201) throw new Error(`setup: ${setup.status} ${setup.text}`);
    const cookie = sessionCookieOf(setup);
    const owner = await t.db.user.findFirstOrThrow({ where: { username: "owner" } });
    await addDomain(t.db, { domain: "weight.example", provider: "wildcard" }, owner.id);
    const catalogDir = path.join(REPO_ROOT, "packages/catalog/apps");
    const manifests: HearthManifest[] = readdirSync(catalogDir)
      .map((d) => path.join(catalogDir, d, "HearthManifest.json"))
      .filter((f) => existsSync(f))
      .map((f) => hearthManifest.parse(JSON.parse(readFileSync(f, "utf8"))))
      .filter((m) => Object.keys(m.tcpPorts).length === 0);
    for (let i = 0; i < APPS; i++) {
      const m = manifests[i % manifests.length]!;
      const { app } = await installApp(t.db, { manifest: m, storeId: m.id, subdomain: `app${i}`, domain: "weight.example", memoryLimit: m.memoryLimit, env: {}, createdBy: owner.id });
      await updateAppState(t.db, app.id, { installState: "installed", runState: "running", health: "healthy" });
    }
    for (;;) {
      const task = await claimNext(t.db, "bench", 60_000, ["app.install", "domain.add", "domain.setup", "certificates.renew", "dns.sync"]);
      if (!task) break;
      await finishTask(t.db, task.id, "bench", { state: "succeeded" });
    }
    const baseline = await startAdminAt(baseDir, env);
    stops.push(baseline.stop);

    // --- loads: one warm-up each (compiles nothing in production, but fills admin's caches), then RUNS alternating
    browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"] });
    await loadApps(browser, baseline.base, cookie);
    await loadApps(browser, current.base, cookie);
    const runs: Record<"baseline" | "branch", Load[]> = { baseline: [], branch: [] };
    for (let i = 0; i < RUNS; i++) {
      runs.baseline.push(await loadApps(browser, baseline.base, cookie));
      runs.branch.push(await loadApps(browser, current.base, cookie));
    }
    const med = (xs: Load[], k: keyof Load) =>
      percentile(
        xs.map((x) => x[k]),
        50,
      );
    const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
    const rows: [string, keyof Load, (n: number) => string][] = [
      ["JavaScript transferred", "jsTransferred", kib],
      ["JavaScript decoded", "jsDecoded", kib],
      ["requests", "requests", (n) => String(n)],
      ["time to the grid visible", "gridMs", (n) => `${n.toFixed(0)} ms`],
    ];
    console.log(
      `\nApps page with ${APPS} apps, median of ${RUNS} cold loads each (Chromium ${browser.version()}), baseline ${BASE} vs this tree (${execFileSync("git", ["-C", REPO_ROOT, "rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim()} + working tree)`,
    );
    console.log(`${"".padEnd(26)}${"baseline".padStart(14)}${"this tree".padStart(14)}${"ratio".padStart(9)}`);
    for (const [label, k, fmt] of rows) {
      const b = med(runs.baseline, k);
      const c = med(runs.branch, k);
      console.log(`${label.padEnd(26)}${fmt(b).padStart(14)}${fmt(c).padStart(14)}${`${(c / b).toFixed(2)}×`.padStart(9)}`);
    }
  } finally {
    await browser?.close();
    for (const s of stops.reverse()) await s().catch(() => {});
    await t.drop();
    if (!BASE_DIR) spawnSync("git", ["-C", REPO_ROOT, "worktree", "remove", "--force", baseDir]);
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
process.exit(0);
