import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { startTestDaemon } from "./daemon";

/**
 * A real PowerDNS Authoritative server (Debian `pdns-server` + `pdns-backend-sqlite3`) on
 * 127.0.0.1: DNS on `dnsPort`, the HTTP API on `apiPort` with a random API key, a gsqlite3
 * database made from Debian's schema in a temp dir, and one Native zone created through
 * the API. `stop()` kills it and removes the dir.
 */
export interface Pdns {
  dnsPort: number;
  apiPort: number;
  /** "http://127.0.0.1:<apiPort>", the powerdns provider's `apiUrl`. */
  apiUrl: string;
  apiKey: string;
  zone: string;
  /** "127.0.0.1:<dnsPort>", where to ask for what it serves (and send RFC 2136 updates). */
  nameserver: string;
  /** With `dnsupdate`: the TSIG key allowed to update the zone over RFC 2136. */
  tsig?: { keyName: string; algorithm: string; secret: string };
  dir: string;
  output(): string;
  stop(): Promise<void>;
}

export interface StartPdnsOptions {
  dnsPort: number;
  apiPort: number;
  zone?: string;
  /**
   * Also accept RFC 2136 updates (dnsupdate=yes) from 127.0.0.0/8 signed with a new TSIG
   * key of this name (imported through the API and allowed on the zone with the
   * TSIG-ALLOW-DNSUPDATE metadata).
   */
  dnsupdate?: { keyName: string; algorithm?: string };
  /** Extra PowerDNS settings. */
  settings?: Record<string, string>;
}

const SCHEMA = "/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql";

export async function startPdns(opts: StartPdnsOptions): Promise<Pdns> {
  const zone = (opts.zone ?? "example.test").replace(/\.$/, "");
  const apiKey = randomBytes(16).toString("hex");
  const dir = await mkdtemp(path.join(tmpdir(), "hearth-pdns-"));
  const dbFile = path.join(dir, "pdns.sqlite3");
  const db = new DatabaseSync(dbFile);
  db.exec(await readFile(SCHEMA, "utf8"));
  db.close();

  const settings: Record<string, string> = {
    launch: "gsqlite3",
    "gsqlite3-database": dbFile,
    "local-address": "127.0.0.1",
    "local-port": String(opts.dnsPort),
    api: "yes",
    "api-key": apiKey,
    webserver: "yes",
    "webserver-address": "127.0.0.1",
    "webserver-port": String(opts.apiPort),
    "webserver-allow-from": "127.0.0.0/8",
    "socket-dir": dir,
    guardian: "no",
    daemon: "no",
    "disable-syslog": "yes",
    "security-poll-suffix": "",
    loglevel: "4",
    ...(opts.dnsupdate ? { dnsupdate: "yes", "allow-dnsupdate-from": "127.0.0.0/8" } : {}),
    ...opts.settings,
  };
  await writeFile(
    path.join(dir, "pdns.conf"),
    Object.entries(settings)
      .map(([k, v]) => `${k}=${v}`)
      .join("\n") + "\n",
    { mode: 0o600 },
  );

  const pdns = startTestDaemon("pdns_server", [`--config-dir=${dir}`], dir);
  const stop = pdns.stop;

  const apiUrl = `http://127.0.0.1:${opts.apiPort}`;
  const headers = { "X-API-Key": apiKey, "Content-Type": "application/json" };
  const deadline = Date.now() + 20_000;
  for (;;) {
    const ok = await fetch(`${apiUrl}/api/v1/servers/localhost`, { headers, signal: AbortSignal.timeout(2000) })
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) break;
    if (pdns.exited() || Date.now() > deadline) {
      await stop();
      throw new Error(`pdns_server did not start (dns ${opts.dnsPort}, api ${opts.apiPort}):\n${pdns.output()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  const res = await fetch(`${apiUrl}/api/v1/servers/localhost/zones`, {
    method: "POST",
    headers,
    body: JSON.stringify({
      name: `${zone}.`,
      kind: "Native",
      nameservers: [`ns1.${zone}.`],
      rrsets: [
        { name: `${zone}.`, type: "SOA", ttl: 300, records: [{ content: `ns1.${zone}. hostmaster.${zone}. 1 3600 600 86400 60`, disabled: false }] },
        { name: `ns1.${zone}.`, type: "A", ttl: 300, records: [{ content: "127.0.0.1", disabled: false }] },
      ],
    }),
  });
  if (res.status !== 201) {
    const body = await res.text();
    await stop();
    throw new Error(`creating zone ${zone} on PowerDNS failed: HTTP ${res.status} ${body}`);
  }

  let tsig: Pdns["tsig"];
  if (opts.dnsupdate) {
    const algorithm = opts.dnsupdate.algorithm ?? "hmac-sha256";
    const secret = randomBytes(32).toString("base64");
    const steps: [string, unknown][] = [
      ["/api/v1/servers/localhost/tsigkeys", { name: opts.dnsupdate.keyName, algorithm, key: secret }],
      [`/api/v1/servers/localhost/zones/${zone}./metadata`, { kind: "TSIG-ALLOW-DNSUPDATE", metadata: [opts.dnsupdate.keyName] }],
    ];
    for (const [p, body] of steps) {
      const r = await fetch(`${apiUrl}${p}`, { method: "POST", headers, body: JSON.stringify(body) });
      if (r.status !== 201 && r.status !== 200) {
        const text = await r.text();
        await stop();
        throw new Error(`PowerDNS ${p} failed: HTTP ${r.status} ${text}`);
      }
    }
    tsig = { keyName: opts.dnsupdate.keyName, algorithm, secret };
  }

  return {
    tsig,
    dnsPort: opts.dnsPort,
    apiPort: opts.apiPort,
    apiUrl,
    apiKey,
    zone,
    nameserver: `127.0.0.1:${opts.dnsPort}`,
    dir,
    output: pdns.output,
    stop,
  };
}
