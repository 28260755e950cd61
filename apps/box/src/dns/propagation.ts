import { Resolver } from "node:dns/promises";
import { isIP } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { HearthError } from "@hearth/contracts";
import { parseHostPort, type HostPort } from "@hearth/contracts";
import { DigCommunicationError, formatServer, queryServer } from "./dig.ts";
import { canonicalValues, describeValues, normalizeName } from "./names.ts";
import type { DnsRecordType, PropagationOptions } from "./provider.ts";

/**
 * Waits until a change is served by every authoritative server of its zone — the servers
 * an ACME CA (or a browser's resolver) will ask — instead of trusting the provider's "done".
 * Servers are asked directly without recursion (dig +norecurse), so no cache can fake it.
 */

export interface AuthoritativeServer {
  /** The NS host name (or the given "host:port"), for messages. */
  label: string;
  server: HostPort;
}

function makeResolver(resolvers: string[] | undefined): Resolver {
  const r = new Resolver({ timeout: 3000, tries: 2 });
  if (resolvers?.length) {
    const servers = resolvers.map((s) => {
      const hp = parseHostPort(s, 53);
      if (!hp || !isIP(hp.host)) throw new HearthError("invalid", `resolver "${s}" must be an IP address with an optional port`);
      return isIP(hp.host) === 6 ? `[${hp.host}]:${hp.port}` : `${hp.host}:${hp.port}`;
    });
    r.setServers(servers);
  }
  return r;
}

const NO_SUCH = new Set(["ENODATA", "ENOTFOUND", "NOTFOUND", "ENONAME"]);

/**
 * The authoritative servers of the zone holding `name`: walks up from the name until a
 * name has NS records (the zone apex), then resolves each NS host. A host's IPv4 addresses
 * are used, its IPv6 ones only when it has no IPv4 (many servers have no IPv6 route).
 */
export async function findAuthoritativeServers(name: string, opts: { resolvers?: string[]; port?: number } = {}): Promise<{ zone: string; servers: AuthoritativeServer[] }> {
  const resolver = makeResolver(opts.resolvers);
  const port = opts.port ?? 53;
  let candidate = normalizeName(name);
  let hosts: string[] = [];
  for (;;) {
    try {
      hosts = await resolver.resolveNs(candidate);
      if (hosts.length > 0) break;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? "";
      if (!NO_SUCH.has(code)) {
        throw new HearthError("external", `cannot look up the NS records of ${candidate} (finding the authoritative servers of ${name}): ${code || (e as Error).message}`);
      }
    }
    const dot = candidate.indexOf(".");
    if (dot === -1) throw new HearthError("external", `no NS records found for ${name} or any parent domain: is the domain delegated?`);
    candidate = candidate.slice(dot + 1);
  }
  const servers: AuthoritativeServer[] = [];
  for (const host of [...new Set(hosts.map((h) => h.toLowerCase().replace(/\.$/, "")))].sort()) {
    let addrs: string[] = [];
    if (isIP(host)) addrs = [host];
    else {
      addrs = await resolver.resolve4(host).catch(() => [] as string[]);
      if (addrs.length === 0) addrs = await resolver.resolve6(host).catch(() => [] as string[]);
    }
    for (const a of addrs) servers.push({ label: host === a ? a : `${host} (${a})`, server: { host: a, port } });
  }
  if (servers.length === 0) {
    throw new HearthError("external", `the NS hosts of ${candidate} (${hosts.join(", ")}) have no addresses`);
  }
  return { zone: candidate, servers };
}

interface ServerState extends AuthoritativeServer {
  ok: boolean;
  answer: string;
}

export interface PropagationResult {
  elapsedMs: number;
  servers: string[];
}

/**
 * Polls every authoritative server until each answers `expectedValues` for (name, type).
 * Resolves with the servers asked; on timeout throws `external` naming each server that
 * still answers something else, and what.
 */
export async function waitForPropagation(name: string, type: DnsRecordType, expectedValues: string[], opts: PropagationOptions = {}): Promise<PropagationResult> {
  const started = Date.now();
  const n = normalizeName(name);
  const expected = canonicalValues(type, expectedValues, n);
  const match = opts.match ?? (type === "TXT" ? "contains" : "exact");
  const timeoutMs = opts.timeoutMs ?? 180_000;
  const intervalMs = opts.intervalMs ?? 2_000;
  const deadline = started + timeoutMs;

  let servers: AuthoritativeServer[];
  if (opts.nameservers?.length) {
    servers = opts.nameservers.map((s) => {
      const hp = parseHostPort(s, opts.port ?? 53);
      if (!hp) throw new HearthError("invalid", `nameserver "${s}" must be host[:port]`);
      return { label: formatServer(hp), server: hp };
    });
  } else {
    servers = (await findAuthoritativeServers(n, { resolvers: opts.resolvers, port: opts.port })).servers;
  }

  const states: ServerState[] = servers.map((s) => ({ ...s, ok: false, answer: "not asked yet" }));
  const satisfied = (values: string[]) => (match === "exact" ? values.length === expected.length && expected.every((v) => values.includes(v)) : expected.every((v) => values.includes(v)));

  for (;;) {
    if (opts.signal?.aborted) throw new HearthError("bad_state", `stopped waiting for ${n} ${type} to propagate (cancelled)`);
    await Promise.all(
      states
        .filter((s) => !s.ok)
        .map(async (s) => {
          try {
            const remaining = Math.max(1000, Math.min(6000, deadline - Date.now()));
            const a = await queryServer(s.server, n, type, { timeoutMs: remaining });
            const values = a.records.map((r) => r.value);
            if (a.status !== "NOERROR" && a.status !== "NXDOMAIN") {
              s.answer = `${a.status}`;
            } else if (!a.authoritative) {
              s.answer = "a non-authoritative answer (no AA flag)";
            } else {
              s.answer = values.length ? describeValues(values) : a.status === "NXDOMAIN" ? "NXDOMAIN (no such name)" : `no ${type} record`;
              s.ok = satisfied(values);
            }
          } catch (e) {
            if (!(e instanceof DigCommunicationError)) throw e;
            s.answer = `nothing (${e.reason})`;
          }
        }),
    );
    if (states.every((s) => s.ok)) return { elapsedMs: Date.now() - started, servers: states.map((s) => s.label) };
    if (Date.now() + intervalMs > deadline) break;
    await sleep(intervalMs, undefined, opts.signal ? { signal: opts.signal } : undefined).catch(() => undefined);
  }

  const pending = states.filter((s) => !s.ok);
  const want = expected.length ? `${match === "exact" ? "exactly " : ""}${describeValues(expected)}` : "no record";
  throw new HearthError(
    "external",
    `${n} ${type} is not yet served by ${pending.length} of ${states.length} authoritative server(s) after ${Math.round((Date.now() - started) / 1000)}s ` +
      `(expected ${want}): ${pending.map((s) => `${s.label} answers ${s.answer}`).join("; ")}`,
    { details: { name: n, type, expected, servers: states.map((s) => ({ server: s.label, ok: s.ok, answer: s.answer })) } },
  );
}
