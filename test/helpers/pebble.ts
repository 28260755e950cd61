import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import https from "node:https";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";

/**
 * Let's Encrypt's test CA, Pebble, and its DNS/challenge companion pebble-challtestsrv,
 * both from Debian's `pebble` package (binaries only: no config, no certificates), run by
 * a test on its own ports in a temp dir.
 *
 * - Pebble's own HTTPS certificate (for its ACME and management listeners) is made here
 *   with openssl: a throw-away CA `tlsCaPem` (what an ACME client must trust for the
 *   directory) and a leaf for 127.0.0.1 / localhost.
 * - `httpPort` is the port Pebble's validation authority connects to for HTTP-01 (the test
 *   nginx's http port); `dnsServer` is where it resolves names and reads DNS-01 TXT records
 *   (challtestsrv, or a bind9 for the zone).
 * - PEBBLE_VA_NOSLEEP=1 (no random 0-15 s validation delay), PEBBLE_WFE_NONCEREJECT=0 (no
 *   random bad nonces) and PEBBLE_AUTHZREUSE=0 (every order is validated for real: a failing
 *   challenge test must not be skipped by an earlier valid authorization).
 * - `rootPem()` is the issuing root of this Pebble run (management interface /roots/0): the
 *   trust anchor to verify what Pebble issued, e.g. `openssl s_client -CAfile`.
 */

const run = promisify(execFile);

export interface TestPebble {
  directoryUrl: string;
  /** Trust this for Pebble's own HTTPS (directory + management). */
  tlsCaPem: string;
  tlsCaPath: string;
  managementUrl: string;
  /** Issuing root (PEM) of this run, fetched from the management interface. */
  rootPem(): Promise<string>;
  /** Writes rootPem() to a file and returns its path. */
  rootPath(): Promise<string>;
  logs(): string;
  stop(): Promise<void>;
}

export interface PebbleOptions {
  /** Free ports for the ACME (listen) and management interfaces. */
  listenPort: number;
  managementPort: number;
  /** Port the VA uses for HTTP-01. */
  httpPort: number;
  /** Port the VA uses for TLS-ALPN-01 (unused here, must not clash). */
  tlsPort: number;
  /** host:port of the DNS server the VA resolves with. */
  dnsServer: string;
  env?: Record<string, string>;
}

export interface TestChallTestSrv {
  dnsServer: string;
  managementUrl: string;
  /** Answer A `host` with `addresses` instead of the default. */
  addA(host: string, addresses: string[]): Promise<void>;
  clearA(host: string): Promise<void>;
  logs(): string;
  stop(): Promise<void>;
}

function spawnLogged(cmd: string, args: string[], env: NodeJS.ProcessEnv): { proc: ChildProcess; logs: () => string } {
  const proc = spawn(cmd, args, { env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  const add = (d: Buffer) => {
    out += d.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  proc.stdout!.on("data", add);
  proc.stderr!.on("data", add);
  return { proc, logs: () => out };
}

async function stopProc(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once("exit", r));
  proc.kill("SIGTERM");
  await Promise.race([exited, sleep(5_000)]);
  if (proc.exitCode === null && proc.signalCode === null) {
    proc.kill("SIGKILL");
    await exited;
  }
}

function httpsGet(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca, timeout: 5_000 }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
  });
}

function httpPost(url: string, body: unknown): Promise<number> {
  return fetch(url, { method: "POST", body: JSON.stringify(body) }).then(async (r) => {
    await r.text();
    return r.status;
  });
}

/** A throw-away CA and a certificate for 127.0.0.1 + localhost signed by it (Pebble's HTTPS). */
async function makeTlsCert(dir: string): Promise<{ caPath: string; certPath: string; keyPath: string }> {
  const caKey = path.join(dir, "tls-ca.key");
  const caPath = path.join(dir, "tls-ca.pem");
  const keyPath = path.join(dir, "tls.key");
  const csr = path.join(dir, "tls.csr");
  const certPath = path.join(dir, "tls.pem");
  const ext = path.join(dir, "tls.ext");
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  await run("openssl", [
    "req",
    "-x509",
    ...ec,
    "-keyout",
    caKey,
    "-out",
    caPath,
    "-days",
    "30",
    "-subj",
    "/CN=Pebble TLS test CA",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign",
  ]);
  await run("openssl", ["req", "-new", ...ec, "-keyout", keyPath, "-out", csr, "-subj", "/CN=localhost"]);
  writeFileSync(ext, "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n");
  await run("openssl", ["x509", "-req", "-in", csr, "-CA", caPath, "-CAkey", caKey, "-CAcreateserial", "-days", "30", "-extfile", ext, "-out", certPath]);
  return { caPath, certPath, keyPath };
}

export async function startPebble(opts: PebbleOptions): Promise<TestPebble> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "hearth-pebble-"));
  const tls = await makeTlsCert(dir);
  const tlsCaPem = readFileSync(tls.caPath, "utf8");
  const configPath = path.join(dir, "pebble.json");
  writeFileSync(
    configPath,
    JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${opts.listenPort}`,
        managementListenAddress: `127.0.0.1:${opts.managementPort}`,
        certificate: tls.certPath,
        privateKey: tls.keyPath,
        httpPort: opts.httpPort,
        tlsPort: opts.tlsPort,
        ocspResponderURL: "",
        externalAccountBindingRequired: false,
      },
    }),
  );
  const { proc, logs } = spawnLogged("/usr/bin/pebble", ["-config", configPath, "-dnsserver", opts.dnsServer, "-strict=false"], {
    ...process.env,
    PEBBLE_VA_NOSLEEP: "1",
    PEBBLE_WFE_NONCEREJECT: "0",
    PEBBLE_AUTHZREUSE: "0",
    ...opts.env,
  });
  const directoryUrl = `https://127.0.0.1:${opts.listenPort}/dir`;
  const managementUrl = `https://127.0.0.1:${opts.managementPort}`;
  const stop = async () => {
    await stopProc(proc);
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (proc.exitCode !== null) {
      await stop();
      throw new Error(`pebble exited (${proc.exitCode}): ${logs()}`);
    }
    const ok = await httpsGet(directoryUrl, tlsCaPem).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`pebble did not serve ${directoryUrl} within 15 s: ${logs()}`);
    }
    await sleep(100);
  }
  let root: string | null = null;
  const rootPem = async () => {
    if (root) return root;
    const r = await httpsGet(`${managementUrl}/roots/0`, tlsCaPem);
    if (r.status !== 200 || !r.body.includes("BEGIN CERTIFICATE")) throw new Error(`pebble /roots/0 answered ${r.status}: ${r.body.slice(0, 200)}`);
    root = r.body;
    return root;
  };
  return {
    directoryUrl,
    tlsCaPem,
    tlsCaPath: tls.caPath,
    managementUrl,
    rootPem,
    async rootPath() {
      const p = path.join(dir, "issuing-root.pem");
      writeFileSync(p, await rootPem());
      return p;
    },
    logs,
    stop,
  };
}

/**
 * pebble-challtestsrv as a DNS server only: A queries for any name get `defaultIPv4`
 * (127.0.0.1), AAAA get nothing (the test nginx listens on IPv4 only); its own HTTP-01,
 * HTTPS and TLS-ALPN listeners are disabled so they take no ports.
 */
export async function startChallTestSrv(opts: { dnsPort: number; managementPort: number; defaultIPv4?: string }): Promise<TestChallTestSrv> {
  const { proc, logs } = spawnLogged(
    "/usr/bin/pebble-challtestsrv",
    [
      "-defaultIPv4",
      opts.defaultIPv4 ?? "127.0.0.1",
      "-defaultIPv6",
      "",
      "-dns01",
      `127.0.0.1:${opts.dnsPort}`,
      "-http01",
      "",
      "-https01",
      "",
      "-tlsalpn01",
      "",
      "-management",
      `127.0.0.1:${opts.managementPort}`,
    ],
    process.env,
  );
  const managementUrl = `http://127.0.0.1:${opts.managementPort}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`pebble-challtestsrv exited (${proc.exitCode}): ${logs()}`);
    // any answer from the management interface means it is up (its DNS server starts first)
    const up = await fetch(`${managementUrl}/clear-a`, { method: "POST", body: JSON.stringify({ host: "ready.invalid." }) }).then(
      () => true,
      () => false,
    );
    if (up) break;
    if (Date.now() > deadline) {
      await stopProc(proc);
      throw new Error(`pebble-challtestsrv did not start within 10 s: ${logs()}`);
    }
    await sleep(100);
  }
  const fqdn = (h: string) => (h.endsWith(".") ? h : `${h}.`);
  return {
    dnsServer: `127.0.0.1:${opts.dnsPort}`,
    managementUrl,
    async addA(host, addresses) {
      const s = await httpPost(`${managementUrl}/add-a`, { host: fqdn(host), addresses });
      if (s !== 200) throw new Error(`challtestsrv add-a answered ${s}`);
    },
    async clearA(host) {
      const s = await httpPost(`${managementUrl}/clear-a`, { host: fqdn(host) });
      if (s !== 200) throw new Error(`challtestsrv clear-a answered ${s}`);
    },
    logs,
    stop: () => stopProc(proc),
  };
}
