/**
 * Benchmark (not a test): time from `POST /api/v1/apps` to the first 200 through nginx for a
 * local catalog image with no addons, against a baseline measured in the same run: plain
 * `docker run` of the same image + its first 200 on a published port. Prints both medians
 * and the ratio.
 *
 *   HEARTH_BENCH_URL=https://127.0.0.1 HEARTH_BENCH_TOKEN=hth_… HEARTH_BENCH_DOMAIN=example.test \
 *     npx tsx bench/app-install.ts [runs]
 *
 * Needs an installed Hearth, a read-write API token and a domain whose names nginx answers
 * on 127.0.0.1 (any domain: requests are sent with curl --resolve).
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

const manifest = JSON.parse(readFileSync(path.join(import.meta.dirname, "../packages/catalog/apps/static-site/HearthManifest.json"), "utf8"));
const image: string = manifest.dockerImage;
const health: string = manifest.healthCheckPath;

async function api(method: string, url: string, body?: unknown): Promise<any> {
  const out = execFileSync(
    "curl",
    ["-sk", "-X", method, "-H", `Authorization: Bearer ${TOKEN}`, "-H", "content-type: application/json", ...(body ? ["-d", JSON.stringify(body)] : []), `${BASE}${url}`],
    { encoding: "utf8" },
  );
  return out ? JSON.parse(out) : null;
}

function status(args: string[]): number {
  const r = spawnSync("curl", ["-sk", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "2", ...args], { encoding: "utf8" });
  return Number(r.stdout || 0);
}

async function until200(args: string[], timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (status(args) === 200) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no 200 from ${args.join(" ")}`);
}

async function baseline(i: number): Promise<number> {
  const port = 18000 + i;
  const t0 = performance.now();
  const id = execFileSync("docker", ["run", "-d", "--rm", "-p", `127.0.0.1:${port}:${manifest.httpPort}`, image], { encoding: "utf8" }).trim();
  try {
    await until200([`http://127.0.0.1:${port}${health}`]);
    return performance.now() - t0;
  } finally {
    execFileSync("docker", ["rm", "-f", id]);
  }
}

async function hearth(i: number): Promise<number> {
  const sub = `bench${process.pid}x${i}`;
  const fqdn = `${sub}.${DOMAIN}`;
  const t0 = performance.now();
  const r = await api("POST", "/api/v1/apps", { storeId: manifest.id, subdomain: sub, domain: DOMAIN });
  if (!r?.id) throw new Error(`install refused: ${JSON.stringify(r)}`);
  try {
    await until200(["--resolve", `${fqdn}:443:127.0.0.1`, `https://${fqdn}${health}`]);
    return performance.now() - t0;
  } finally {
    await api("DELETE", `/api/v1/apps/${r.id}`);
    for (let k = 0; k < 600 && (await api("GET", `/api/v1/apps/${r.id}`))?.id; k++) await new Promise((res) => setTimeout(res, 100));
  }
}

const base: number[] = [];
const ours: number[] = [];
for (let i = 0; i < RUNS; i++) {
  base.push(await baseline(i));
  ours.push(await hearth(i));
}
console.log(`docker run → first 200:            median ${(median(base) / 1000).toFixed(2)} s  (${base.map((x) => (x / 1000).toFixed(2)).join(", ")})`);
console.log(`POST /apps → first 200 via nginx:  median ${(median(ours) / 1000).toFixed(2)} s  (${ours.map((x) => (x / 1000).toFixed(2)).join(", ")})`);
console.log(`ratio hearth/baseline: ${(median(ours) / median(base)).toFixed(2)}`);
