import { z } from "zod";

/**
 * Configuration of the DNS providers that have an API, one zod schema per kind.
 *
 * This file imports nothing but zod so that it can move to packages/contracts as is (the
 * admin validates a domain's `providerConfig` with the same schemas box uses). The schemas
 * are strict: an unknown key (a typo such as `tsigkey`) is an error, not silently dropped.
 * Messages never echo the input: these objects hold credentials.
 */

/** TSIG algorithms nsupdate and bind9/PowerDNS/Knot all understand (RFC 8945 names). */
export const TSIG_ALGORITHMS = ["hmac-sha256", "hmac-sha384", "hmac-sha512", "hmac-sha224", "hmac-sha1", "hmac-md5"] as const;
export type TsigAlgorithm = (typeof TSIG_ALGORITHMS)[number];

const HOSTNAME = /^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$/i;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
// Loose IPv6 shape check; the provider hands the address to the OS which is the real judge.
const IPV6 = /^[0-9a-f:.]+$/i;

export interface HostPort {
  host: string;
  port: number;
}

/**
 * "host", "host:port", "1.2.3.4:53", "[::1]:5353" or a bare IPv6 address ("::1", no port).
 * Returns null when it is none of these.
 */
export function parseHostPort(input: string, defaultPort = 53): HostPort | null {
  const s = input.trim();
  if (!s) return null;
  let host: string;
  let portText: string | undefined;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (bracket) {
    host = bracket[1]!;
    portText = bracket[2];
    if (!IPV6.test(host) || !host.includes(":")) return null;
  } else if ((s.match(/:/g) ?? []).length > 1) {
    // more than one colon and no brackets: a bare IPv6 address
    host = s;
    if (!IPV6.test(host)) return null;
  } else {
    const i = s.lastIndexOf(":");
    host = i === -1 ? s : s.slice(0, i);
    portText = i === -1 ? undefined : s.slice(i + 1);
    if (!IPV4.test(host) && !(HOSTNAME.test(host) && /[a-z]/i.test(host))) return null;
  }
  let port = defaultPort;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText)) return null;
    port = Number(portText);
  }
  if (port < 1 || port > 65535) return null;
  return { host: host.replace(/\.$/, "").toLowerCase(), port };
}

function isHttpUrl(v: string): boolean {
  try {
    const u = new URL(v);
    return (u.protocol === "http:" || u.protocol === "https:") && u.hostname !== "" && u.username === "" && u.password === "";
  } catch {
    return false;
  }
}

const required = (what: string) => ({ error: (iss: { input: unknown }) => (iss.input === undefined ? "is required" : `must be ${what}`) });

const httpUrl = (what: string) => z.string(required("a URL")).trim().refine(isHttpUrl, `must be an http:// or https:// URL (${what}), without user:password`);

const secretText = (what: string) =>
  z
    .string(required("a string"))
    .trim()
    .min(1, "is required")
    .max(4096, "is too long")
    .regex(/^[\x21-\x7e]+$/, `must be the ${what} as printed, without spaces or line breaks`);

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export const Rfc2136Config = z.strictObject({
  /** The primary that accepts updates for the zone: "host[:port]" (port 53 by default). */
  nameserver: z
    .string(required("a string"))
    .trim()
    .refine((v) => parseHostPort(v) !== null, 'must be "host" or "host:port" (e.g. "ns1.example.com", "192.0.2.53:53", "[2001:db8::53]:53")'),
  tsigKeyName: z
    .string(required("a string"))
    .trim()
    .min(1, "is required")
    .refine((v) => HOSTNAME.test(v), "must be a key name such as hearth-key or hearth.example.com (letters, digits, - _ and dots)"),
  tsigAlgorithm: z.enum(TSIG_ALGORITHMS, { error: `must be one of ${TSIG_ALGORITHMS.join(", ")}` }).default("hmac-sha256"),
  /** Base64, as printed by `tsig-keygen` (the `secret "…"` value). */
  tsigSecret: z
    .string(required("a string"))
    .trim()
    .min(1, "is required")
    .refine((v) => BASE64.test(v), 'must be base64, as printed by tsig-keygen (the secret "…" value)'),
});
export type Rfc2136Config = z.output<typeof Rfc2136Config>;

export const PowerDnsConfig = z.strictObject({
  /** The PowerDNS webserver, e.g. http://ns1.example.com:8081 ("/api/v1" may be included). */
  apiUrl: httpUrl("the PowerDNS webserver, e.g. http://127.0.0.1:8081"),
  apiKey: secretText("api-key from pdns.conf"),
  serverId: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be a PowerDNS server id such as "localhost"')
    .default("localhost"),
});
export type PowerDnsConfig = z.output<typeof PowerDnsConfig>;

export const CloudflareConfig = z.strictObject({
  /** An API token with Zone:DNS:Edit (and Zone:Zone:Read when zoneId is not given). */
  apiToken: secretText("API token"),
  /** The zone's id (32 hex digits, on the zone's Overview page); looked up by name when omitted. */
  zoneId: z
    .string()
    .trim()
    .regex(/^[0-9a-f]{32}$/i, "must be the 32 hex digits shown as Zone ID on the zone's Overview page")
    .optional(),
  /** API base URL; only for tests or a proxy. Default https://api.cloudflare.com/client/v4. */
  apiUrl: httpUrl("the Cloudflare API v4 base").optional(),
});
export type CloudflareConfig = z.output<typeof CloudflareConfig>;

export const Route53Config = z.strictObject({
  accessKeyId: z
    .string(required("a string"))
    .trim()
    .regex(/^[A-Z0-9]{16,128}$/, "must be an AWS access key id (16 or more capital letters and digits, e.g. AKIA…)"),
  secretAccessKey: secretText("AWS secret access key"),
  /** "Z0123…" or "/hostedzone/Z0123…"; looked up by the zone's name when omitted. */
  hostedZoneId: z
    .string()
    .trim()
    .regex(/^(\/hostedzone\/)?[A-Z0-9]{1,32}$/, "must be a hosted zone id such as Z0123456789ABCDEFGHIJ")
    .optional(),
  region: z
    .string()
    .trim()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/, "must be an AWS region such as us-east-1")
    .default("us-east-1"),
  /** Only for tests or a Route 53 compatible service. */
  endpoint: httpUrl("the Route 53 API endpoint").optional(),
});
export type Route53Config = z.output<typeof Route53Config>;

/** The kinds of provider Hearth can drive through an API (manual, wildcard and noop cannot). */
export const API_DNS_PROVIDERS = ["rfc2136", "powerdns", "cloudflare", "route53"] as const;
export type ApiDnsProviderKind = (typeof API_DNS_PROVIDERS)[number];

export const DNS_PROVIDER_CONFIG_SCHEMAS = {
  rfc2136: Rfc2136Config,
  powerdns: PowerDnsConfig,
  cloudflare: CloudflareConfig,
  route53: Route53Config,
} as const;

/** Fields that are credentials: stored encrypted, never returned by the API, never logged. */
export const DNS_PROVIDER_SECRET_FIELDS: { readonly [K in ApiDnsProviderKind]: readonly (keyof z.output<(typeof DNS_PROVIDER_CONFIG_SCHEMAS)[K]>)[] } = {
  rfc2136: ["tsigSecret"],
  powerdns: ["apiKey"],
  cloudflare: ["apiToken"],
  route53: ["secretAccessKey"],
};

/** One config with its kind, e.g. `{ kind: "rfc2136", nameserver, tsigKeyName, … }`. */
export const DnsProviderConfig = z.discriminatedUnion(
  "kind",
  [
    Rfc2136Config.extend({ kind: z.literal("rfc2136") }),
    PowerDnsConfig.extend({ kind: z.literal("powerdns") }),
    CloudflareConfig.extend({ kind: z.literal("cloudflare") }),
    Route53Config.extend({ kind: z.literal("route53") }),
  ],
  { error: `kind must be one of ${API_DNS_PROVIDERS.join(", ")}` },
);
export type DnsProviderConfig = z.output<typeof DnsProviderConfig>;
export type DnsProviderConfigInput = z.input<typeof DnsProviderConfig>;

/** "nameserver: must be host[:port]; tsigSecret: is required" — for error messages. */
export function describeConfigIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join(".") || "config"}: ${i.message}`).join("; ");
}
