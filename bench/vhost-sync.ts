/**
 * Benchmark (not a test): what a vhost sync costs as the number of vhosts grows, through the
 * real path of an install: box's ProxyService → SudoNginx → `sudo -n install-vhosts.sh`
 * (root) → nginx -t → reload, against an nginx of its own. For 5, 50 and 200 app vhosts
 * (each with a certificate of its own, as with one ACME certificate per name) it prints:
 *
 *   - add one:   one more vhost on top of N (what an install does)
 *   - no change: the same set again (what a sync that changed nothing does)
 *   - full set:  the whole set handed to the helper (what box does once per start)
 *   - nginx -t, nginx -s reload: the two nginx steps alone
 *
 * with ratios against the 5-vhost figures measured in the same run.
 *
 *   sudo npx tsx bench/vhost-sync.ts [5,50,200]
 *
 * box renders its default layout, flat (one file of maps); BENCH_LAYOUT=vhost: the per-vhost
 * layout (HEARTH_NGINX_LAYOUT=vhost), for comparison. BENCH_NGINX_T=1: the helper runs nginx -t
 * before the reload as it did before it watched nginx's error log.
 *
 * Measured on the 2-core CI machine (shared; load average 1.1-2.1 at the start of each run),
 * `bench/vhost-sync.ts 5,200`, four runs a minute apart (one vhost added to N; ratio to N=5 of
 * the same run):
 *
 *   layout                                    add one N=5   N=200            nginx -t / reload at 200
 *   flat (the default)                        195 ms        225 ms (1.15x)   11.6 / 11.2 ms
 *   flat, again                               199 ms        268 ms (1.35x)   14.3 / 13.0 ms
 *   per-vhost, the reload as the check        207 ms        502 ms (2.42x)   267 / 267 ms
 *   per-vhost, nginx -t + reload (main's)     215 ms        940 ms (4.38x)   528 / 295 ms
 *
 * (`nginx -s reload` here is the command, which parses the configuration like nginx -t; the
 * helper signals the master instead.) What is left of a flat "add one" is sudo and the
 * helper's Node start (~190 ms at any N).
 *
 * Runs as root (the helper insists on root-owned folders up to /); everything it makes is
 * under /run/hearth-vbench-<id> and removed at the end. The machine's nginx is not touched.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, copyFileSync, mkdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { ensureFallbackCert } from "../apps/box/src/proxy/fallback-cert";
import { SudoNginx } from "../apps/box/src/proxy/nginx";
import { ProxyService } from "../apps/box/src/proxy/proxy.service";
import type { Vhost } from "../apps/box/src/proxy/vhost";
import { median } from "./stats";

const SIZES = (process.argv[2] ?? "5,50,200").split(",").map(Number);
/** box's layout: flat (the default; this nginx's workers, nobody:nogroup, read the certificates), or BENCH_LAYOUT=vhost. */
const LAYOUT: "flat" | "per-vhost" = process.env.BENCH_LAYOUT === "vhost" || process.env.BENCH_LAYOUT === "per-vhost" ? "per-vhost" : "flat";
const REPO = path.join(import.meta.dirname, "..");
const ID = randomBytes(4).toString("hex");
const T = `/run/hearth-vbench-${ID}`;
const HELPERS = path.join(T, "helpers");
const HELPER = path.join(HELPERS, "install-vhosts.sh");
const ROOT = path.join(T, "nginx-root");
const PREFIX = path.join(T, "prefix");
const CONF = path.join(PREFIX, "nginx.conf");

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** CPU time used so far by this process and its waited-for children (sudo → helper → nginx -t), in ms. */
function cpuMs(): number {
  const f = readFileSync("/proc/self/stat", "utf8").split(") ")[1]!.split(" ");
  const children = (Number(f[13]) + Number(f[14])) * 10; // cutime + cstime, clock ticks of 10 ms
  const own = process.cpuUsage();
  return children + (own.user + own.system) / 1000;
}
const cpu: Record<string, number[]> = {};
/** Wall time of fn; its CPU time (this process + children) goes to cpu[label]. */
async function timed(fn: () => unknown, label?: string): Promise<number> {
  const c0 = cpuMs();
  const t0 = performance.now();
  await fn();
  const wall = performance.now() - t0;
  if (label) (cpu[label] ??= []).push(cpuMs() - c0);
  return wall;
}

async function main() {
  if (process.getuid?.() !== 0) throw new Error("run as root");
  for (const d of [HELPERS, ROOT, path.join(PREFIX, "logs"), path.join(PREFIX, "temp")]) mkdirSync(d, { recursive: true, mode: 0o755 });
  chmodSync(T, 0o755);
  for (const f of ["install-vhosts.sh", "install-vhosts.mjs"]) copyFileSync(path.join(REPO, "setup/sudo", f), path.join(HELPERS, f));
  chmodSync(HELPER, 0o755);
  const [httpPort, httpsPort] = [await freePort(), await freePort()];
  writeFileSync(
    path.join(HELPERS, "install-vhosts.conf"),
    `--root ${ROOT}\n--public-dir ${T}/public\n--nginx-prefix ${PREFIX}\n--nginx-conf ${CONF}\n${readFileSync(path.join(HELPERS, "install-vhosts.mjs"), "utf8").includes("--nginx-pid") ? `--nginx-pid ${PREFIX}/nginx.pid\n` : ""}${
      // the system nginx's error log is watched on reload instead of running nginx -t (BENCH_NGINX_T=1: the old way)
      readFileSync(path.join(HELPERS, "install-vhosts.mjs"), "utf8").includes("--nginx-error-log") && !process.env.BENCH_NGINX_T ? `--nginx-error-log ${PREFIX}/logs/error.log\n` : ""
    }`,
    { mode: 0o644 },
  );
  writeFileSync(path.join(PREFIX, "hearth-sites.conf"), readFileSync(path.join(REPO, "setup/nginx/hearth-sites.conf"), "utf8").replaceAll("/etc/nginx/hearth", ROOT));
  mkdirSync(path.join(T, "secret"), { mode: 0o700 });
  writeFileSync(path.join(T, "secret", "proxy.map"), `~. "${randomBytes(16).toString("hex")}";\n`, { mode: 0o600 });
  writeFileSync(path.join(PREFIX, "hearth-http.conf"), readFileSync(path.join(REPO, "setup/nginx/hearth-http.conf"), "utf8").replaceAll("/etc/nginx/hearth-secret", path.join(T, "secret")));
  writeFileSync(
    CONF,
    [
      "worker_processes 1;",
      `pid ${PREFIX}/nginx.pid;`,
      `error_log ${PREFIX}/logs/error.log;`,
      "events { worker_connections 64; }",
      "http {",
      `    access_log ${PREFIX}/logs/access.log;`,
      ...["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((t) => `    ${t}_temp_path ${PREFIX}/temp/${t};`),
      `    include ${PREFIX}/hearth-http.conf;`,
      `    include ${PREFIX}/hearth-sites.conf;`,
      "}",
      "",
    ].join("\n"),
  );
  const nginx = spawn("nginx", ["-p", PREFIX, "-c", CONF, "-g", "daemon off;"], { stdio: "ignore" });
  try {
    for (let i = 0; i < 50; i++) {
      try {
        if (readFileSync(path.join(PREFIX, "nginx.pid"), "utf8").trim()) break;
      } catch {}
      await sleep(100);
    }
    const max = Math.max(...SIZES) + 10;
    process.stderr.write(`making ${max} certificates…\n`);
    const certs: { certPath: string; keyPath: string; version: string }[] = [];
    for (let i = 0; i < max; i++) {
      const c = await ensureFallbackCert(path.join(T, "certs"), `d${i}.bench.test`);
      certs.push({ certPath: c.certPath, keyPath: c.keyPath, version: `v${i}` });
    }
    const vhost = (i: number): Vhost => ({ type: "app", appId: `bench${i}`, fqdn: `app${i}.d${i}.bench.test`, upstreamPort: 40000 + i, ...certs[i]! });

    const rows: Record<string, number | string>[] = [];
    for (const n of SIZES) {
      // a fresh box (no generation handed over yet) each time, as after a start
      const proxy = new ProxyService({
        dataDir: path.join(T, `data-${n}`),
        publicDir: path.join(T, "public"),
        nginx: new SudoNginx(HELPER, "sudo", ROOT),
        httpPort,
        httpsPort,
        ipv6: false,
        layout: LAYOUT,
      });
      const set = Array.from({ length: n }, (_, i) => vhost(i));
      const full = await timed(() => proxy.apply(set), `full${n}`);
      const adds: number[] = [];
      for (let k = 0; k < 3; k++) {
        const withOne = [...set, vhost(n + k)];
        adds.push(await timed(() => proxy.apply(withOne), `add${n}`));
        await proxy.apply(set);
      }
      const same = median([await timed(() => proxy.apply(set)), await timed(() => proxy.apply(set)), await timed(() => proxy.apply(set))]);
      const checks: number[] = [];
      const reloads: number[] = [];
      for (let k = 0; k < 3; k++) {
        checks.push(await timed(() => execFileSync("nginx", ["-p", PREFIX, "-c", CONF, "-t"], { stdio: "ignore" }), `check${n}`));
        reloads.push(await timed(() => execFileSync("nginx", ["-p", PREFIX, "-c", CONF, "-s", "reload"], { stdio: "ignore" })));
      }
      const helperAlone: number[] = [];
      for (let k = 0; k < 3; k++) {
        // the helper on its own with the installed set (unchanged: validate, compare, reload)
        const t0 = performance.now();
        const r = spawnSync("sudo", ["-n", HELPER], { input: JSON.stringify(await currentPayload()), encoding: "utf8" });
        helperAlone.push(performance.now() - t0);
        if (r.status !== 0) throw new Error(r.stderr);
      }
      // the helper on its own with a delta that adds one file, then one that removes it again
      const deltaAdds: number[] = [];
      // (a per-vhost file; the flat layout has none: "add one" above is its delta)
      const deltas = LAYOUT === "per-vhost" && readFileSync(path.join(HELPERS, "install-vhosts.mjs"), "utf8").includes("validateDelta");
      for (let k = 0; deltas && k < 3; k++) {
        const cur = await currentPayload();
        const gen = path.basename(readlinkSync(path.join(ROOT, "live")));
        const [file, text] = Object.entries(cur.sites)[0]!;
        const added = `app-benchextra${k}.conf`;
        const site = text.replaceAll(file.slice(4, -5), `benchextra${k}`).replace(/server_name \S+;/g, `server_name extra${k}.bench.test;`);
        let r: ReturnType<typeof spawnSync> | undefined;
        await timed(() => {
          r = spawnSync("sudo", ["-n", HELPER], { input: JSON.stringify({ base: gen, sites: { [added]: site }, certs: {}, remove: [] }), encoding: "utf8" });
        }, `delta${n}`);
        if (r?.status !== 0) throw new Error(String(r?.stderr));
        if (process.env.BENCH_DEBUG) process.stderr.write(String(r.stderr));
        deltaAdds.push(median(cpu[`delta${n}`]!.slice(-1)));
        const gen2 = path.basename(readlinkSync(path.join(ROOT, "live")));
        const back = spawnSync("sudo", ["-n", HELPER], { input: JSON.stringify({ base: gen2, remove: [added] }), encoding: "utf8" });
        if (back.status !== 0) throw new Error(back.stderr);
      }
      rows.push({
        vhosts: n,
        "add one ms": median(adds),
        "add one cpu ms": median(cpu[`add${n}`]!),
        "no change ms": same,
        "full set ms": full,
        "full set cpu ms": median(cpu[`full${n}`]!),
        "helper (same set) ms": median(helperAlone),
        "helper delta add one cpu ms": deltas ? median(deltaAdds) : Number.NaN,
        "nginx -t ms": median(checks),
        "nginx -t cpu ms": median(cpu[`check${n}`]!),
        "nginx -s reload ms": median(reloads),
      });
      await sleep(300);
    }
    const base = rows[0]!;
    console.log(
      `vhost sync through the root helper, layout ${LAYOUT} (median of 3; ratio to ${base.vhosts} vhosts in this run; load average ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")})`,
    );
    for (const r of rows) {
      console.log(
        `${String(r.vhosts).padStart(4)} vhosts:\n      ` +
          Object.entries(r)
            .filter(([k, v]) => k !== "vhosts" && !Number.isNaN(v))
            .map(([k, v]) => `${k.replace(" ms", "")} ${(v as number).toFixed(1)} ms (${((v as number) / Math.max(base[k] as number, 0.01)).toFixed(2)}x)`)
            .join("\n      "),
      );
    }
  } finally {
    nginx.kill("SIGQUIT");
    await sleep(300);
    rmSync(T, { recursive: true, force: true });
  }
}

/** The set root serves now, as a helper payload (read back from root's live generation). */
async function currentPayload(): Promise<{ sites: Record<string, string>; certs: Record<string, { cert: string; key: string }> }> {
  const live = path.join(ROOT, "live");
  const sites: Record<string, string> = {};
  const certs: Record<string, { cert: string; key: string }> = {};
  const { readdirSync } = await import("node:fs");
  for (const f of readdirSync(path.join(live, "sites"))) sites[f] = readFileSync(path.join(live, "sites", f), "utf8");
  for (const f of readdirSync(path.join(live, "certs"))) {
    if (!f.endsWith(".crt")) continue;
    const name = f.slice(0, -4);
    certs[name] = { cert: readFileSync(path.join(live, "certs", f), "utf8"), key: readFileSync(path.join(live, "certs", `${name}.key`), "utf8") };
  }
  return { sites, certs };
}

await main();
