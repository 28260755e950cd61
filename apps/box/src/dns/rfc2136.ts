import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { HearthError } from "@hearth/contracts";
import { BaseDnsProvider } from "./base.ts";
import { parseHostPort, type HostPort, type Rfc2136Config } from "@hearth/contracts";
import { DigCommunicationError, formatServer, queryServer } from "./dig.ts";
import type { DnsRecordSet, DnsRecordType } from "./provider.ts";
import { encodeTxt } from "./txt.ts";
import { run } from "../shell";

/**
 * RFC 2136 dynamic update signed with TSIG (RFC 8945), through `nsupdate` from
 * bind9-dnsutils: the reference client, so what works with `nsupdate -k` by hand works
 * here. Works with bind9, PowerDNS (with dnsupdate=yes), Knot and most self-hosted DNS.
 *
 * The TSIG secret goes into a key file (mode 0600, in a private 0700 temp directory,
 * deleted afterwards) passed with -k; it is never in argv, the script, or any message.
 * Reads ask the same server directly with dig (no recursion), so a read after a write sees
 * the write.
 */
export class Rfc2136Provider extends BaseDnsProvider {
  readonly kind = "rfc2136";
  private readonly server: HostPort;

  constructor(
    zone: string,
    private readonly config: Rfc2136Config,
    private readonly opts: { timeoutMs?: number } = {},
  ) {
    super(zone);
    const server = parseHostPort(config.nameserver, 53);
    if (!server) throw new HearthError("invalid", `rfc2136: nameserver "${config.nameserver}" must be host[:port]`);
    this.server = server;
  }

  protected describe(): string {
    return `rfc2136 server ${formatServer(this.server)} (zone ${this.zone})`;
  }

  private rdata(type: DnsRecordType, value: string): string {
    if (type === "TXT") return encodeTxt(value, "decimal");
    if (type === "CNAME") return `${value}.`;
    return value;
  }

  protected async doGet(name: string, type: DnsRecordType): Promise<DnsRecordSet | null> {
    let answer;
    try {
      answer = await queryServer(this.server, name, type, { timeoutMs: this.opts.timeoutMs ?? 8000 });
    } catch (e) {
      if (e instanceof DigCommunicationError) {
        throw new HearthError("external", `cannot read ${name} ${type} from ${formatServer(this.server)} (zone ${this.zone}): ${e.message}`);
      }
      throw e;
    }
    if (answer.status !== "NOERROR" && answer.status !== "NXDOMAIN") {
      const why = answer.status === "REFUSED" || answer.status === "NOTAUTH" ? `${answer.status}: it does not serve the zone ${this.zone} (is this the zone's primary server?)` : answer.status;
      throw new HearthError(answer.status === "SERVFAIL" ? "external" : "invalid", `${formatServer(this.server)} answered ${why} when asked for ${name} ${type}`);
    }
    if (!answer.authoritative) {
      throw new HearthError("invalid", `${formatServer(this.server)} is not authoritative for ${this.zone} (its answer for ${name} lacks the AA flag)`);
    }
    if (answer.records.length === 0) return null;
    const values: string[] = [];
    for (const r of answer.records) if (!values.includes(r.value)) values.push(r.value);
    return { name, type, values, ttl: Math.min(...answer.records.map((r) => r.ttl)) };
  }

  protected async doUpsert(set: DnsRecordSet): Promise<void> {
    // Delete then add in one UPDATE message: the server applies it atomically.
    const lines = [`update delete ${set.name}. ${set.type}`];
    for (const v of set.values) lines.push(`update add ${set.name}. ${set.ttl} IN ${set.type} ${this.rdata(set.type, v)}`);
    await this.nsupdate(lines, `set ${set.name} ${set.type}`);
  }

  protected async doRemove(name: string, type: DnsRecordType, values?: string[]): Promise<void> {
    // Deleting what is not there is a no-op in RFC 2136, so this is idempotent as is.
    const lines = values === undefined ? [`update delete ${name}. ${type}`] : values.map((v) => `update delete ${name}. IN ${type} ${this.rdata(type, v)}`);
    await this.nsupdate(lines, `remove ${name} ${type}`);
  }

  protected async doVerify(): Promise<void> {
    // An UPDATE with only a prerequisite ("the zone apex exists") and no changes: the server
    // checks the TSIG signature, that it is the primary for the zone and that the key may
    // update it, and changes nothing.
    await this.nsupdate([`prereq yxdomain ${this.zone}.`], "check the key");
  }

  private async nsupdate(updates: string[], action: string): Promise<void> {
    const dir = await mkdtemp(path.join(tmpdir(), "hearth-nsupdate-"));
    const keyFile = path.join(dir, "tsig.key");
    try {
      const key = `key "${this.config.tsigKeyName.replace(/\.$/, "")}" {\n\talgorithm ${this.config.tsigAlgorithm};\n\tsecret "${this.config.tsigSecret}";\n};\n`;
      await writeFile(keyFile, key, { mode: 0o600 });
      const script = [`server ${this.server.host} ${this.server.port}`, `zone ${this.zone}.`, ...updates, "send", ""].join("\n");
      // -t: overall limit; -u/-r: UDP wait per try and retries (3 tries of a third each).
      const seconds = Math.max(1, Math.ceil((this.opts.timeoutMs ?? 15_000) / 1000));
      const udp = Math.max(1, Math.floor(seconds / 3));
      const r = await runNsupdate(["-k", keyFile, "-t", String(seconds), "-u", String(udp), "-r", "2"], script, (seconds + 5) * 1000);
      if (r.code !== 0) throw this.errorFrom(r.output, action);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  private errorFrom(output: string, action: string): HearthError {
    const server = formatServer(this.server);
    const where = `${server} (zone ${this.zone})`;
    const key = this.config.tsigKeyName;
    const failed = /update failed:\s*([A-Z]+)(?:\(([A-Z]+)\))?/.exec(output);
    const tsigError = failed?.[2] ?? /tsig verify failure \(([A-Z]+)\)/i.exec(output)?.[1];
    if (tsigError === "BADTIME") {
      return new HearthError("invalid", `${where} rejected the TSIG signature as out of time (BADTIME): this server's clock and the DNS server's differ by more than 5 minutes`, {
        details: { server, zone: this.zone, rcode: "BADTIME" },
      });
    }
    if (tsigError === "BADSIG" || tsigError === "BADKEY" || /TSIG error/i.test(output)) {
      // bind9 says BADKEY/BADSIG; PowerDNS answers an unsigned REFUSED for either
      const hint =
        tsigError === "BADKEY"
          ? "the server does not know a key of this name and algorithm"
          : tsigError === "BADSIG"
            ? "the secret does not match the server's"
            : "the server does not accept this key name, algorithm and secret";
      const label = tsigError ?? (failed?.[1] ? `${failed[1]}, TSIG error` : "TSIG error");
      return new HearthError("invalid", `${where} rejected the TSIG key "${key}" (${label}): ${hint}. Check the key name, algorithm and secret.`, {
        details: { server, zone: this.zone, rcode: tsigError ?? failed?.[1] ?? "TSIG" },
      });
    }
    const rcode = failed?.[1];
    if (rcode === "REFUSED") {
      return new HearthError(
        "invalid",
        `${where} refused the update (REFUSED): the key "${key}" is not allowed to update the zone (allow-update / update-policy), or the server does not accept updates`,
        {
          details: { server, zone: this.zone, rcode },
        },
      );
    }
    if (rcode === "NOTAUTH") {
      return new HearthError("invalid", `${where} is not authoritative for the zone (NOTAUTH): point the provider at the zone's primary server`, {
        details: { server, zone: this.zone, rcode },
      });
    }
    if (rcode === "NOTZONE") {
      return new HearthError("invalid", `${where} answered NOTZONE: a name is outside the zone`, { details: { server, zone: this.zone, rcode } });
    }
    if (rcode) {
      return new HearthError("external", `${where}: could not ${action}: the server answered ${rcode}`, { details: { server, zone: this.zone, rcode } });
    }
    if (/timed out/i.test(output)) {
      return new HearthError("external", `no answer from ${where} (timed out): is the server reachable on this port?`, { details: { server, zone: this.zone } });
    }
    if (/connection refused/i.test(output)) {
      return new HearthError("external", `${where} refused the connection: no DNS server listens there`, { details: { server, zone: this.zone } });
    }
    if (/couldn't get address|not found|could not resolve/i.test(output)) {
      return new HearthError("invalid", `the nameserver host of ${where} does not resolve`, { details: { server, zone: this.zone } });
    }
    const first =
      output
        .split("\n")
        .map((l) => l.trim())
        .find((l) => l.length > 0) ?? "no output";
    return new HearthError("external", `${where}: could not ${action}: nsupdate said: ${first.slice(0, 300)}`, { details: { server, zone: this.zone } });
  }
}

async function runNsupdate(args: string[], script: string, timeoutMs: number): Promise<{ code: number; output: string }> {
  const r = await run("nsupdate", args, { stdin: script, timeoutMs, killSignal: "SIGKILL" });
  if (r.missing) throw new HearthError("internal", "nsupdate is not installed (Debian package bind9-dnsutils); the rfc2136 provider needs it");
  if (r.error) throw r.error;
  return { code: r.code, output: r.timedOut ? `${r.output}\n; timed out` : r.output };
}
