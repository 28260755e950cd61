import { HearthError } from "@hearth/contracts";
import type { HostPort } from "@hearth/contracts";
import type { DnsRecordType } from "./provider.ts";
import { canonicalIPv6 } from "./names.ts";
import { decodeTxt } from "./txt.ts";
import { run } from "../shell";

/**
 * Asks one DNS server directly (no recursion, no cache) with `dig` from bind9-dnsutils, the
 * same package as nsupdate. Used to read what an authoritative server serves right now:
 * the rfc2136 provider's `get` and the propagation check. Node's resolver is not used for
 * this because it may answer from its cache and hides the AA flag and TXT TTLs.
 */

export interface DigAnswer {
  /** DNS response code: NOERROR, NXDOMAIN, REFUSED, SERVFAIL, NOTAUTH … */
  status: string;
  /** The AA flag: the server answered for a zone it is authoritative for. */
  authoritative: boolean;
  /** Answer records of exactly (name, type), with canonical values. */
  records: { ttl: number; value: string }[];
}

/** The server could not be asked (timeout, connection refused, dig missing). */
export class DigCommunicationError extends Error {
  constructor(
    message: string,
    /** "timed out", "connection refused" … */
    readonly reason: string,
  ) {
    super(message);
    this.name = "DigCommunicationError";
  }
}

export function formatServer(s: HostPort): string {
  return s.host.includes(":") ? `[${s.host}]:${s.port}` : `${s.host}:${s.port}`;
}

function runDig(args: string[], timeoutMs: number): Promise<{ code: number; stdout: string; stderr: string; missing: boolean }> {
  return run("dig", args, { timeoutMs, maxBuffer: 4 * 1024 * 1024 });
}

function canonical(type: DnsRecordType, rdata: string): string {
  switch (type) {
    case "TXT":
      return decodeTxt(rdata, "decimal");
    case "AAAA":
      return canonicalIPv6(rdata.trim());
    case "CNAME":
      return rdata.trim().toLowerCase().replace(/\.$/, "");
    default:
      return rdata.trim();
  }
}

/** Parses `dig +noall +comments +answer` output (exported for tests). */
export function parseDigOutput(output: string, name: string, type: DnsRecordType): DigAnswer | null {
  const header = /->>HEADER<<-\s+opcode:\s*\w+,\s*status:\s*([A-Z0-9]+)/.exec(output);
  if (!header) return null;
  const flags = /;;\s*flags:([^;]*);/.exec(output);
  const authoritative = flags ? flags[1]!.trim().split(/\s+/).includes("aa") : false;
  const records: DigAnswer["records"] = [];
  const want = name.toLowerCase().replace(/\.$/, "");
  for (const line of output.split("\n")) {
    if (!line || line.startsWith(";")) continue;
    // owner TTL class type rdata…
    const m = /^(\S+)\s+(\d+)\s+(\S+)\s+(\S+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const owner = m[1]!.toLowerCase().replace(/\.$/, "");
    if (owner !== want || m[4]!.toUpperCase() !== type) continue;
    records.push({ ttl: Number(m[2]), value: canonical(type, m[5]!) });
  }
  return { status: header[1]!, authoritative, records };
}

/**
 * Queries `server` for (name, type) without recursion. Throws DigCommunicationError when
 * no answer came back; a REFUSED/SERVFAIL answer is returned, not thrown.
 */
export async function queryServer(server: HostPort, name: string, type: DnsRecordType, opts: { timeoutMs?: number } = {}): Promise<DigAnswer> {
  const timeoutMs = opts.timeoutMs ?? 6000;
  const perTry = Math.max(1, Math.floor(timeoutMs / 2000));
  const args = [`@${server.host}`, "-p", String(server.port), "+norecurse", "+noall", "+comments", "+answer", `+time=${perTry}`, "+tries=2", "-q", name, "-t", type, "-c", "IN"];
  const r = await runDig(args, timeoutMs + 4000);
  if (r.missing) {
    throw new HearthError("internal", "dig is not installed (Debian package bind9-dnsutils); Hearth needs it to read DNS records");
  }
  const out = `${r.stdout}\n${r.stderr}`;
  const parsed = r.code === 0 ? parseDigOutput(r.stdout, name, type) : null;
  if (parsed) return parsed;
  const problem = /timed out/.test(out)
    ? "timed out"
    : /connection refused/.test(out)
      ? "connection refused"
      : /couldn't get address|not found|failed to resolve/i.test(out)
        ? "its name does not resolve"
        : (out.split("\n").find((l) => l.startsWith(";;") && /error|fail|unreach/i.test(l)) ?? out.trim().split("\n")[0] ?? "no answer").replace(/^;;\s*/, "");
  throw new DigCommunicationError(`no answer from ${formatServer(server)}: ${problem}`, problem);
}
