/**
 * Benchmark (not a test): how nginx's own cost (`nginx -t`, reload, TLS handshake) depends on
 * the way the vhosts are laid out, with a real nginx in a throwaway prefix (high ports, its
 * own pid/logs), for N app names (each with a certificate and key of its own, EC P-256 as
 * box's ACME client makes them):
 *
 *   a  today's: per name an http server and an https server with its own ssl_certificate
 *      (the text apps/box/src/proxy/vhost.ts renders)
 *   b  the same servers, without ssl_certificate in them: the http level has
 *      `ssl_certificate <dir>/$ssl_server_name.crt` (inherited by every server)
 *   b2 the same servers, each https one with `ssl_certificate <dir>/$ssl_server_name.crt`
 *   c  flat: one http server and one https server for all names; the upstream port from
 *      `map $host $hearth_port`, the certificate from `map $ssl_server_name $hearth_cert`
 *
 * For each N it prints `nginx -t` and reload (SIGHUP → the new worker runs) in ms, and the
 * ratio to design a at the smallest N of the same run; then full TLS handshakes (no session
 * reuse) against a and c at the largest N: the worker's CPU time per handshake and
 * handshakes/s of one client, with c's ratio to a's.
 *
 *   npx tsx bench/nginx-designs.ts [5,50,200,500]
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import tls from "node:tls";
import { renderVhost } from "../apps/box/src/proxy/vhost";
import { median } from "./stats";

const SIZES = (process.argv[2] ?? "5,50,200,500").split(",").map(Number);
const DESIGNS = (process.argv[3] ?? "a,b,c").split(",");
const REPO = path.join(import.meta.dirname, "..");
const T = path.join(os.tmpdir(), `hearth-ngxdesign-${randomBytes(4).toString("hex")}`);
const CERTS = path.join(T, "certs");
const REPEAT = Number(process.env.REPEAT ?? 5);

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => (typeof a === "object" && a ? resolve(a.port) : reject(new Error("no port"))));
    });
  });
}

const name = (i: number) => `app${i}.bench.example`;

function makeCerts(n: number): void {
  mkdirSync(CERTS, { recursive: true });
  for (let i = 0; i < n; i++) {
    const crt = path.join(CERTS, `${name(i)}.crt`);
    if (existsSync(crt)) continue;
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-days",
        "30",
        "-subj",
        `/CN=${name(i)}`,
        "-addext",
        `subjectAltName=DNS:${name(i)}`,
        "-keyout",
        path.join(CERTS, `${name(i)}.key`),
        "-out",
        crt,
      ],
      { stdio: "ignore" },
    );
    // KEYS=sec1: "BEGIN EC PRIVATE KEY" instead of PKCS#8 "BEGIN PRIVATE KEY" (what box's ACME client writes)
    if (process.env.KEYS === "sec1") execFileSync("openssl", ["ec", "-in", path.join(CERTS, `${name(i)}.key`), "-out", path.join(CERTS, `${name(i)}.key`)], { stdio: "ignore" });
    // design c's workers (nobody here, www-data on Debian) open the files at each handshake
    chmodSync(path.join(CERTS, `${name(i)}.key`), 0o644);
  }
}

interface Layout {
  http: string[];
  files: Map<string, string>;
}

function layout(design: string, n: number, ports: { http: number; https: number }): Layout {
  const o = { httpPort: ports.http, httpsPort: ports.https, ipv6: false, acmeChallengeDir: `${T}/public/acme-challenges`, errorPagesDir: `${T}/public/pages` };
  const files = new Map<string, string>();
  const http: string[] = [];
  if (design === "a" || design === "b" || design === "b2") {
    for (let i = 0; i < n; i++) {
      let text = renderVhost({ type: "app", appId: `a${i}`, fqdn: name(i), upstreamPort: 20000 + i, certPath: `${CERTS}/${name(i)}.crt`, keyPath: `${CERTS}/${name(i)}.key` }, o);
      if (design === "b") text = text.replace(/^\s*ssl_certificate(_key)? .*\n/gm, "");
      if (design === "b2")
        text = text.replace(/ssl_certificate\s+\S+;/, `ssl_certificate ${CERTS}/$ssl_server_name.crt;`).replace(/ssl_certificate_key\s+\S+;/, `ssl_certificate_key ${CERTS}/$ssl_server_name.key;`);
      files.set(`app-a${i}.conf`, text);
    }
    if (design === "b") http.push(`ssl_certificate ${CERTS}/$ssl_server_name.crt;`, `ssl_certificate_key ${CERTS}/$ssl_server_name.key;`);
  } else if (design === "c") {
    const names = Array.from({ length: n }, (_, i) => name(i));
    // the per-app render with the certificate and port lines replaced by variables
    let text = renderVhost({ type: "app", appId: "flat", fqdn: names[0]!, aliases: names.slice(1), upstreamPort: 1, certPath: "/x.crt", keyPath: "/x.key" }, o);
    text = text
      .replace(/ssl_certificate\s+(\S+);/, `ssl_certificate ${CERTS}/$hearth_cert.crt;`)
      .replace(/ssl_certificate_key\s+(\S+);/, `ssl_certificate_key ${CERTS}/$hearth_cert.key;`)
      .replace("proxy_pass http://127.0.0.1:1;", "proxy_pass http://127.0.0.1:$hearth_port;");
    files.set("app-flat.conf", text);
    files.set(
      "maps.conf",
      [
        "map $host $hearth_port {",
        "    hostnames;",
        "    default 9;",
        ...names.map((h, i) => `    ${h} ${20000 + i};`),
        "}",
        "map $ssl_server_name $hearth_cert {",
        "    hostnames;",
        `    default ${names[0]};`,
        ...names.map((h) => `    ${h} ${h};`),
        "}",
        "",
      ].join("\n"),
    );
  }
  return { http, files };
}

function writeConf(dir: string, l: Layout): string {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(path.join(dir, "sites"), { recursive: true });
  mkdirSync(path.join(dir, "logs"), { recursive: true });
  for (const [f, text] of l.files) writeFileSync(path.join(dir, "sites", f), text);
  const conf = path.join(dir, "nginx.conf");
  writeFileSync(
    conf,
    [
      "worker_processes 1;",
      `pid ${dir}/nginx.pid;`,
      `error_log ${dir}/logs/error.log;`,
      "events { worker_connections 256; }",
      "http {",
      "    access_log off;",
      `    client_body_temp_path ${dir}/tmp-body;`,
      `    proxy_temp_path ${dir}/tmp-proxy;`,
      `    fastcgi_temp_path ${dir}/tmp-fcgi;`,
      `    uwsgi_temp_path ${dir}/tmp-uwsgi;`,
      `    scgi_temp_path ${dir}/tmp-scgi;`,
      `    include ${path.join(REPO, "setup/nginx/hearth-http.conf")};`,
      ...l.http.map((x) => `    ${x}`),
      `    include ${dir}/sites/*.conf;`,
      "}",
      "",
    ].join("\n"),
  );
  return conf;
}

function timeTest(dir: string, conf: string): number {
  const xs: number[] = [];
  for (let i = 0; i < REPEAT; i++) {
    const t0 = performance.now();
    const r = spawnSync("nginx", ["-p", dir, "-c", conf, "-t", "-q"], { encoding: "utf8" });
    xs.push(performance.now() - t0);
    if (r.status !== 0) throw new Error(`nginx -t failed: ${r.stderr}`);
  }
  return median(xs);
}

function children(pid: number): number[] {
  const out: number[] = [];
  for (const t of readdirSync(`/proc/${pid}/task`)) for (const c of readFileSync(`/proc/${pid}/task/${t}/children`, "utf8").trim().split(" ")) if (c) out.push(Number(c));
  return out;
}

async function startNginx(dir: string, conf: string): Promise<number> {
  const p = spawn("nginx", ["-p", dir, "-c", conf, "-g", "daemon off;"], { stdio: "ignore" });
  for (let i = 0; i < 500; i++) {
    await sleep(10);
    if (p.pid && children(p.pid).length > 0) return p.pid;
  }
  throw new Error("nginx did not start");
}

async function timeReload(master: number): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < REPEAT; i++) {
    const before = new Set(children(master));
    const t0 = performance.now();
    process.kill(master, "SIGHUP");
    for (;;) {
      if (children(master).some((c) => !before.has(c))) break;
      if (performance.now() - t0 > 30_000) throw new Error("reload: no new worker");
      await sleep(1);
    }
    xs.push(performance.now() - t0);
    await sleep(300);
  }
  return median(xs);
}

function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime + stime, USER_HZ = 100
}

/** `count` TLS 1.3 handshakes, names round robin; with `sessions`, each resumes the name's last session (and must). */
async function handshakes(port: number, n: number, count: number, sessions?: Map<string, Buffer>): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    const servername = name(i % n);
    await new Promise<void>((resolve, reject) => {
      const s = tls.connect({ host: "127.0.0.1", port, servername, rejectUnauthorized: false, session: sessions?.get(servername), minVersion: "TLSv1.3" }, () => {
        const cn = s.getPeerCertificate().subject?.CN;
        if (!s.isSessionReused() && cn !== servername) reject(new Error(`wrong certificate ${cn} for ${servername}`));
        if (sessions?.has(servername) && !s.isSessionReused()) reject(new Error("session not resumed"));
        if (!sessions) {
          s.destroy();
          resolve();
        }
      });
      // TLS 1.3: the session (ticket) arrives after the handshake
      s.on("session", (sess) => {
        sessions?.set(servername, sess);
        s.destroy();
        resolve();
      });
      s.on("error", reject);
    });
  }
  return (count * 1000) / (performance.now() - t0);
}

async function main(): Promise<void> {
  mkdirSync(`${T}/public/acme-challenges`, { recursive: true });
  mkdirSync(`${T}/public/pages`, { recursive: true });
  const maxN = Math.max(...SIZES);
  const t0 = performance.now();
  makeCerts(maxN);
  console.log(`${maxN} EC P-256 certificates made in ${Math.round(performance.now() - t0)} ms; nginx ${spawnSync("nginx", ["-v"], { encoding: "utf8" }).stderr.trim()}; ${REPEAT} runs each, median`);
  const ports = { http: await freePort(), https: await freePort() };
  let base = 0;
  let baseReload = 0;
  const masters: number[] = [];
  try {
    console.log("design  N     nginx -t ms  (ratio)   reload ms  (ratio)");
    for (const n of SIZES) {
      for (const d of DESIGNS) {
        const dir = path.join(T, `${d}-${n}`);
        const conf = writeConf(dir, layout(d, n, ports));
        const test = timeTest(dir, conf);
        const master = await startNginx(dir, conf);
        masters.push(master);
        const rel = await timeReload(master);
        process.kill(master, "SIGQUIT");
        await sleep(200);
        if (!base) {
          base = test;
          baseReload = rel;
        }
        console.log(`${d.padEnd(7)} ${String(n).padEnd(5)} ${test.toFixed(1).padStart(10)}  (${(test / base).toFixed(2)}x)  ${rel.toFixed(1).padStart(9)}  (${(rel / baseReload).toFixed(2)}x)`);
      }
    }
    // handshakes: a vs c at the largest N, one worker, fresh sessions
    const count = Number(process.env.HANDSHAKES ?? 1500);
    const res: Record<string, { cpu: number; rate: number; rcpu: number; rrate: number }> = {};
    for (const d of ["a", "c"]) {
      const dir = path.join(T, `${d}-hs`);
      const conf = writeConf(dir, layout(d, maxN, ports));
      const master = await startNginx(dir, conf);
      masters.push(master);
      const worker = children(master)[0]!;
      await handshakes(ports.https, maxN, 50);
      const c0 = cpuMs(worker);
      const rate = await handshakes(ports.https, maxN, count);
      const cpu = (cpuMs(worker) - c0) / count;
      const sessions = new Map<string, Buffer>();
      await handshakes(ports.https, maxN, maxN, sessions);
      const c1 = cpuMs(worker);
      const rrate = await handshakes(ports.https, maxN, count, sessions);
      const rcpu = (cpuMs(worker) - c1) / count;
      res[d] = { cpu, rate, rcpu, rrate };
      process.kill(master, "SIGQUIT");
      await sleep(300);
    }
    console.log(`TLS handshakes (${count}, TLS 1.3, ${maxN} names round robin, no session reuse):`);
    for (const d of ["a", "c"]) {
      const r = res[d]!;
      console.log(
        `  ${d} full:    worker CPU ${(r.cpu * 1000).toFixed(0)} µs/handshake (${(r.cpu / res.a!.cpu).toFixed(2)}x a full), ${r.rate.toFixed(0)}/s from one client (${(r.rate / res.a!.rate).toFixed(2)}x)`,
      );
      console.log(
        `  ${d} resumed: worker CPU ${(r.rcpu * 1000).toFixed(0)} µs/handshake (${(r.rcpu / res.a!.cpu).toFixed(2)}x a full), ${r.rrate.toFixed(0)}/s from one client (${(r.rrate / res.a!.rate).toFixed(2)}x)`,
      );
    }
  } finally {
    for (const m of masters) {
      try {
        process.kill(m, "SIGQUIT");
      } catch {}
    }
    await sleep(300);
    if (!process.env.KEEP) rmSync(T, { recursive: true, force: true });
    else console.log(`kept ${T}`);
  }
}

await main();
