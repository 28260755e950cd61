import { execFile } from "node:child_process";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import https from "node:https";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { startBind9, type Bind9 } from "./bind9";
import { startPebble, type TestPebble } from "./pebble";

const run = promisify(execFile);

/**
 * The real peers the e2e story needs for domains and certificates, next to the INSTALLED
 * Hearth: a bind9 holding the test zone (the rfc2136 provider edits it; Pebble resolves
 * through it) and Pebble as the ACME CA, validating HTTP-01 against the system nginx on
 * port 80. Plus a Chromium home whose NSS database trusts Pebble's issuing root, so the
 * browser judges the served certificates as a user's browser would.
 *
 * Ports come from 23000-23999 (this suite's range).
 */
export interface E2eDns {
  zone: string;
  bind9: Bind9;
  pebble: TestPebble;
  /** Pebble's issuing root (PEM): what Chromium trusts and what served chains must verify against. */
  rootPem: string;
  /** HOME for Chromium: ~/.pki/nssdb trusts rootPem as a CA. */
  chromiumHome: string;
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 in [from, to] (bind9 also needs it free for UDP; it says so if not). */
export async function freePortIn(from: number, to: number, taken: ReadonlySet<number> = new Set()): Promise<number> {
  const start = from + Math.floor(Math.random() * (to - from + 1));
  for (let i = 0; i <= to - from; i++) {
    const port = from + ((start - from + i) % (to - from + 1));
    if (taken.has(port)) continue;
    const free = await new Promise<boolean>((resolve) => {
      const s = net.createServer();
      s.once("error", () => resolve(false));
      s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error(`no free port in ${from}-${to}`);
}

/** An NSS database (what Chromium on Linux reads) under `home` that trusts `caPem` for TLS servers. */
async function nssHomeTrusting(caPem: string): Promise<string> {
  const home = await mkdtemp(path.join(tmpdir(), "hearth-e2e-home-"));
  const db = path.join(home, ".pki", "nssdb");
  await mkdir(db, { recursive: true });
  await run("certutil", ["-d", `sql:${db}`, "-N", "--empty-password"]);
  const pem = path.join(home, "pebble-root.pem");
  await writeFile(pem, caPem);
  await run("certutil", ["-d", `sql:${db}`, "-A", "-n", "pebble-e2e-root", "-t", "C,,", "-i", pem]);
  const { stdout } = await run("certutil", ["-d", `sql:${db}`, "-L"]);
  if (!/pebble-e2e-root\s+C,,/.test(stdout)) throw new Error(`the NSS database does not list the root as trusted:\n${stdout}`);
  return home;
}

export async function startE2eDns(opts: { zone: string; records?: string[] }): Promise<E2eDns> {
  const taken = new Set<number>();
  const port = async () => {
    const p = await freePortIn(23000, 23999, taken);
    taken.add(p);
    return p;
  };
  const bind9 = await startBind9({ port: await port(), zone: opts.zone, records: opts.records });
  let pebble: TestPebble | null = null;
  try {
    pebble = await startPebble({
      listenPort: await port(),
      managementPort: await port(),
      // HTTP-01 goes to the system nginx (setup's default server + box's vhosts)
      httpPort: 80,
      // only for TLS-ALPN-01, which Hearth does not use; Pebble's VA connects, never listens
      tlsPort: 443,
      dnsServer: bind9.nameserver,
    });
    const rootPem = await pebble.rootPem();
    const chromiumHome = await nssHomeTrusting(rootPem);
    const p = pebble;
    return {
      zone: bind9.zone,
      bind9,
      pebble: p,
      rootPem,
      chromiumHome,
      async stop() {
        await p.stop();
        await bind9.stop();
        await rm(chromiumHome, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await pebble?.stop();
    await bind9.stop();
    throw e;
  }
}

/** What `dig` at the zone's bind9 answers for `name` (A unless told). */
export async function digAt(bind9: Bind9, name: string, type = "A"): Promise<string[]> {
  const { stdout } = await run("dig", ["@127.0.0.1", "-p", String(bind9.port), "+short", "+norecurse", name, type]);
  return stdout.trim().split("\n").filter(Boolean);
}

/**
 * The certificate nginx on 127.0.0.1:443 serves for `servername`, checked by Node's TLS
 * against `ca` alone (not the system store): authorized or the reason it is not.
 */
export function servedCertificate(servername: string, ca: string): Promise<{ authorized: boolean; error: string | null; subjectAltName: string; issuer: string; serial: string }> {
  return new Promise((resolve, reject) => {
    // agent: false: a fresh TLS handshake each time (a resumed session shows no peer certificate)
    const req = https.request(
      { host: "127.0.0.1", port: 443, servername, path: "/", method: "HEAD", headers: { host: servername }, ca, rejectUnauthorized: false, timeout: 10_000, agent: false },
      (res) => {
        const socket = res.socket as import("node:tls").TLSSocket;
        const cert = socket.getPeerCertificate();
        resolve({
          authorized: socket.authorized,
          error: socket.authorizationError ? String(socket.authorizationError) : null,
          subjectAltName: cert.subjectaltname ?? "",
          issuer: [cert.issuer?.CN ?? ""].flat().join(", "),
          serial: cert.serialNumber ?? "",
        });
        res.resume();
      },
    );
    req.on("timeout", () => req.destroy(new Error(`timeout connecting for ${servername}`)));
    req.on("error", reject);
    req.end();
  });
}

/**
 * One request to nginx on 127.0.0.1:443 for `servername` (SNI and Host; the IP URL when
 * null), its certificate not judged here: status and Location.
 */
export function requestAt(servername: string | null, pathname: string): Promise<{ status: number; location: string | null }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: "127.0.0.1", port: 443, path: pathname, method: "GET", rejectUnauthorized: false, timeout: 10_000, agent: false, ...(servername ? { servername, headers: { host: servername } } : {}) },
      (res) => {
        resolve({ status: res.statusCode ?? 0, location: (res.headers.location as string | undefined) ?? null });
        res.resume();
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end();
  });
}
