/**
 * Benchmark (not a test): what addons add to an install. Times `POST /api/v1/apps` → the first
 * 200 through nginx for a custom manifest on the static-site catalog image, in the same run:
 *   (1) baseline: no addons;
 *   (2) the same image with the mysql and redis addons (on the installed box's real services).
 * Prints both medians, the ratio (2)/(1), and per addon the setup time the provisioner logged
 * in the install task's log ("addon <name> ready (N ms)", read through
 * GET /api/v1/tasks/:id/logs) with its share of (2)'s install time.
 *
 *   HEARTH_BENCH_URL=https://127.0.0.1 HEARTH_BENCH_TOKEN=hth_… HEARTH_BENCH_DOMAIN=example.test \
 *     npx tsx bench/addons-install.ts [runs]
 *
 * Needs an installed Hearth with its addon services (not HEARTH_SERVICES=off), a read-write
 * API token and a domain whose names nginx answers on 127.0.0.1 (any domain, e.g. provider
 * "noop" with tlsMode "fallback": requests are sent with curl --resolve). Runs: default 3.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { median } from "./stats";

const BASE = process.env.HEARTH_BENCH_URL ?? "https://127.0.0.1";
const TOKEN = process.env.HEARTH_BENCH_TOKEN ?? "";
const DOMAIN = process.env.HEARTH_BENCH_DOMAIN ?? "";
const RUNS = Number(process.argv[2] ?? 3);
if (!TOKEN || !DOMAIN) throw new Error("set HEARTH_BENCH_TOKEN and HEARTH_BENCH_DOMAIN");
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error("runs must be a positive integer");

const ADDONS = ["mysql", "redis"] as const;
const staticSite = JSON.parse(readFileSync(path.join(import.meta.dirname, "../packages/catalog/apps/static-site/HearthManifest.json"), "utf8"));
const health: string = staticSite.healthCheckPath;
/** the catalog's manifest as a custom one: same image, its own id, the given addons */
const manifestWith = (addons: Record<string, object>) => ({ ...staticSite, id: `bench.addons.${Object.keys(addons).join("-") || "none"}`, title: "Addons bench", addons });

// the token goes to curl in a header file on stdin, not on its command line
const authHeader = `Authorization: Bearer ${TOKEN}\n`;

function curl(args: string[]): string {
  return execFileSync("curl", ["-sk", "-H", "@-", ...args], { encoding: "utf8", input: authHeader });
}

async function api(method: string, url: string, body?: unknown): Promise<any> {
  const out = curl(["-X", method, "-H", "content-type: application/json", ...(body ? ["-d", JSON.stringify(body)] : []), `${BASE}${url}`]);
  return out ? JSON.parse(out) : null;
}

function status(args: string[]): number {
  const r = spawnSync("curl", ["-sk", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "2", ...args], { encoding: "utf8" });
  return Number(r.stdout || 0);
}

async function until200(args: string[], timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (status(args) === 200) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no 200 from ${args.join(" ")}`);
}

async function taskFinished(taskId: string, timeoutMs = 300_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const t = await api("GET", `/api/v1/tasks/${taskId}`);
    if (["succeeded", "failed", "cancelled"].includes(t?.state)) return t;
    if (Date.now() > deadline) throw new Error(`task ${taskId} did not finish: ${JSON.stringify(t)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The task's log lines: the server-sent events of GET /tasks/:id/logs?follow=0 (a snapshot). */
function taskLog(taskId: string): string[] {
  const sse = curl(["-N", "--max-time", "30", `${BASE}/api/v1/tasks/${taskId}/logs?follow=0`]);
  const lines: string[] = [];
  for (const block of sse.split("\n\n")) {
    if (!/^event: log$/m.test(block)) continue;
    const data = /^data: (.*)$/m.exec(block)?.[1];
    if (data) lines.push((JSON.parse(data) as { line: string }).line);
  }
  return lines;
}

interface Run {
  ms: number;
  addonMs: Record<string, number>;
}

async function install(tag: string, i: number, addons: Record<string, object>): Promise<Run> {
  const sub = `bench${process.pid}${tag}${i}`;
  const fqdn = `${sub}.${DOMAIN}`;
  const t0 = performance.now();
  const r = await api("POST", "/api/v1/apps", { manifest: manifestWith(addons), subdomain: sub, domain: DOMAIN });
  if (!r?.id) throw new Error(`install refused: ${JSON.stringify(r)}`);
  try {
    await until200(["--resolve", `${fqdn}:443:127.0.0.1`, `https://${fqdn}${health}`]);
    const ms = performance.now() - t0;
    const task = await taskFinished(r.taskId);
    if (task.state !== "succeeded") throw new Error(`install task ${task.state}: ${JSON.stringify(task.error)}`);
    const addonMs: Record<string, number> = {};
    for (const line of taskLog(r.taskId)) {
      const m = /addon (\w+) ready \((\d+) ms\)/.exec(line);
      if (m) addonMs[m[1]!] = Number(m[2]);
    }
    for (const a of Object.keys(addons)) if (addonMs[a] === undefined) throw new Error(`no "addon ${a} ready" line in task ${r.taskId}'s log`);
    return { ms, addonMs };
  } finally {
    await api("DELETE", `/api/v1/apps/${r.id}`);
    for (let k = 0; k < 1200 && (await api("GET", `/api/v1/apps/${r.id}`))?.id; k++) await new Promise((res) => setTimeout(res, 100));
  }
}

const s = (ms: number) => (ms / 1000).toFixed(2);
const base: Run[] = [];
const withAddons: Run[] = [];
// interleaved, so a slow phase of the machine weighs on both
for (let i = 0; i < RUNS; i++) {
  base.push(await install("n", i, {}));
  withAddons.push(await install("a", i, Object.fromEntries(ADDONS.map((a) => [a, {}]))));
}
const mb = median(base.map((r) => r.ms));
const ma = median(withAddons.map((r) => r.ms));
console.log(`no addons:      POST /apps → first 200 via nginx  median ${s(mb)} s  (${base.map((r) => s(r.ms)).join(", ")})`);
console.log(`${ADDONS.join(" + ")}:  POST /apps → first 200 via nginx  median ${s(ma)} s  (${withAddons.map((r) => s(r.ms)).join(", ")})`);
console.log(`ratio addons/baseline: ${(ma / mb).toFixed(2)}`);
for (const a of ADDONS) {
  const xs = withAddons.map((r) => r.addonMs[a]!);
  const shares = withAddons.map((r) => r.addonMs[a]! / r.ms);
  console.log(`addon ${a} setup: median ${s(median(xs))} s  (${xs.map(s).join(", ")}), ${(median(shares) * 100).toFixed(0)}% of the install, ${(median(xs) / mb).toFixed(2)}× the baseline install`);
}
