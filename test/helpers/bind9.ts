import { execFile } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { startTestDaemon } from "./daemon";

const exec = promisify(execFile);

/**
 * A real bind9 (Debian `bind9`) serving one zone on 127.0.0.1:<port>, accepting RFC 2136
 * updates signed with a TSIG key made by `tsig-keygen`. Runs `named -g` in the foreground
 * in a temp dir (zone file, journal, session key all there); `stop()` kills it and removes
 * the dir. Used by the DNS provider tests and by ACME DNS-01 tests.
 */
export interface Bind9 {
  port: number;
  zone: string;
  /** "127.0.0.1:<port>", the rfc2136 provider's `nameserver`. */
  nameserver: string;
  keyName: string;
  /** base64 TSIG secret of `keyName`. */
  secret: string;
  algorithm: string;
  /** Keys the server knows but that may not update the zone (→ REFUSED), name → secret. */
  otherKeys: Record<string, string>;
  dir: string;
  /** What named printed so far (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

export interface StartBind9Options {
  port: number;
  zone?: string;
  keyName?: string;
  algorithm?: string;
  /** Names of extra keys declared in named.conf but not allowed to update. */
  otherKeys?: string[];
  /** Extra zone-file lines, e.g. `www 300 IN A 192.0.2.10`. */
  records?: string[];
}

async function tsigKeygen(algorithm: string, name: string): Promise<{ conf: string; secret: string }> {
  const { stdout } = await exec("tsig-keygen", ["-a", algorithm, name]);
  const secret = /secret\s+"([^"]+)"/.exec(stdout)?.[1];
  if (!secret) throw new Error(`tsig-keygen printed no secret: ${stdout}`);
  return { conf: stdout, secret };
}

async function answersSoa(port: number, zone: string): Promise<boolean> {
  try {
    const { stdout } = await exec("dig", ["@127.0.0.1", "-p", String(port), "+norecurse", "+short", "+time=1", "+tries=1", zone, "SOA"]);
    return stdout.trim().length > 0;
  } catch {
    return false;
  }
}

export async function startBind9(opts: StartBind9Options): Promise<Bind9> {
  const zone = (opts.zone ?? "example.test").replace(/\.$/, "");
  const keyName = opts.keyName ?? "hearth-key";
  const algorithm = opts.algorithm ?? "hmac-sha256";
  const dir = await mkdtemp(path.join(tmpdir(), "hearth-bind9-"));
  const key = await tsigKeygen(algorithm, keyName);
  const otherKeys: Record<string, string> = {};
  let otherConf = "";
  for (const name of opts.otherKeys ?? []) {
    const k = await tsigKeygen(algorithm, name);
    otherKeys[name] = k.secret;
    otherConf += k.conf;
  }
  const zoneFile = path.join(dir, `${zone}.zone`);
  await writeFile(zoneFile, ["$TTL 300", `@ IN SOA ns1.${zone}. hostmaster.${zone}. ( 1 3600 600 86400 60 )`, `@ IN NS ns1.${zone}.`, "ns1 IN A 127.0.0.1", ...(opts.records ?? []), ""].join("\n"));
  await writeFile(path.join(dir, "keys.conf"), key.conf + otherConf, { mode: 0o600 });
  const conf = path.join(dir, "named.conf");
  await writeFile(
    conf,
    `options {
  directory "${dir}";
  pid-file "${dir}/named.pid";
  session-keyfile "${dir}/session.key";
  managed-keys-directory "${dir}";
  listen-on port ${opts.port} { 127.0.0.1; };
  listen-on-v6 { none; };
  recursion no;
  dnssec-validation no;
  notify no;
};
controls { };
include "${dir}/keys.conf";
zone "${zone}" {
  type primary;
  file "${zoneFile}";
  allow-update { key "${keyName}"; };
};
`,
  );

  const named = startTestDaemon("named", ["-g", "-c", conf], dir);
  const stop = named.stop;

  const deadline = Date.now() + 20_000;
  while (!(await answersSoa(opts.port, zone))) {
    if (named.exited() || Date.now() > deadline) {
      await stop();
      throw new Error(`named did not start on 127.0.0.1:${opts.port}:\n${named.output()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  return {
    port: opts.port,
    zone,
    nameserver: `127.0.0.1:${opts.port}`,
    keyName,
    secret: key.secret,
    algorithm,
    otherKeys,
    dir,
    output: named.output,
    stop,
  };
}
