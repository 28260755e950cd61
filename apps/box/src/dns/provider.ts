/**
 * The seam between Hearth's domains and the DNS servers that hold their zones.
 *
 * A DnsProvider edits records in one zone (the Hearth domain, e.g. `example.com`) through
 * whatever API the zone's operator runs: RFC 2136 dynamic update with TSIG, the PowerDNS
 * HTTP API, Cloudflare or Route 53. It is used for two things:
 *  - app records: A/AAAA for `<subdomain>.<domain>` when an app is installed or moved,
 *    removed on uninstall (never overwriting a record Hearth did not ask for unless told);
 *  - ACME DNS-01: a TXT record `_acme-challenge.<name>` set before the challenge is
 *    answered and removed afterwards.
 *
 * Names are absolute FQDNs without the trailing dot, lower case. Implementations are
 * stateless apart from their configuration and are safe to call again after a crash:
 * upsert replaces the record set of (name, type) with exactly `values`, remove deletes
 * exactly `values` (or the whole set when `values` is omitted) and succeeds when nothing
 * was there.
 */
export type DnsRecordType = "A" | "AAAA" | "TXT" | "CNAME";

export interface DnsRecordSet {
  name: string;
  type: DnsRecordType;
  /** A: dotted quad; AAAA: IPv6 text; TXT: the unquoted string; CNAME: target FQDN. */
  values: string[];
  ttl: number;
}

export interface DnsProvider {
  /** "rfc2136" | "powerdns" | "cloudflare" | "route53" */
  readonly kind: string;
  /** The zone this provider edits (the Hearth domain). */
  readonly zone: string;
  /** The current record set of (name, type), or null when there is none. */
  get(name: string, type: DnsRecordType): Promise<DnsRecordSet | null>;
  /** Replace the record set of (name, type) with `values`. */
  upsert(set: DnsRecordSet): Promise<void>;
  /** Delete `values` from (name, type), or the whole set when omitted. No-op when absent. */
  remove(name: string, type: DnsRecordType, values?: string[]): Promise<void>;
  /** Cheap call proving the credentials work for this zone (used when a domain is saved). */
  verify(): Promise<void>;
}

/**
 * Where to ask whether a change is visible: the zone's authoritative servers. Normally
 * found from the zone's NS records; tests and private setups give them explicitly
 * (host:port), e.g. a bind9 on 127.0.0.1:5353.
 */
export interface PropagationOptions {
  nameservers?: string[];
  timeoutMs?: number;
  intervalMs?: number;
  /**
   * (added by the DNS helper) When `nameservers` is not given: the resolvers ("ip[:port]")
   * used to look up the zone's NS records and their addresses; default the system's.
   */
  resolvers?: string[];
  /** (added) Port of the servers found through NS records; 53 unless testing. */
  port?: number;
  /**
   * (added) "exact": the servers must answer exactly the expected values (default for A,
   * AAAA, CNAME; an empty list waits for the record to be gone). "contains": the expected
   * values must be among the answers (default for TXT, where a wildcard and its base name
   * put two DNS-01 values at the same name).
   */
  match?: "exact" | "contains";
  /** (added) Stops waiting early (e.g. the task was cancelled). */
  signal?: AbortSignal;
}
