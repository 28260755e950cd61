import { API_DNS_PROVIDERS, PROVIDER_SECRET_FIELDS, TSIG_ALGORITHMS, type CertificateView, type DomainProvider, type DomainView, type TlsMode } from "@hearth/contracts";

/**
 * What the dashboard knows about DNS providers, TLS modes and certificates: labels, the
 * settings form of each provider, and how a form's values become an API body. Pure, so it is
 * unit-tested; the pages only render it.
 */

export interface ProviderField {
  name: string;
  label: string;
  /** secret: a password input, never filled from the server (the API does not return it) */
  kind: "text" | "secret" | "select";
  required: boolean;
  placeholder?: string;
  hint?: string;
  options?: readonly string[];
  /** the server's default when the field is left empty */
  defaultValue?: string;
}

export interface ProviderInfo {
  value: DomainProvider;
  label: string;
  hint: string;
  /** Hearth drives it through an API: creates app records, answers DNS-01 */
  api: boolean;
  fields: readonly ProviderField[];
}

export const PROVIDERS: readonly ProviderInfo[] = [
  {
    value: "rfc2136",
    label: "RFC 2136 dynamic update (bind9, PowerDNS, Knot…)",
    hint: "Hearth creates each app's record with TSIG-signed updates to your DNS server.",
    api: true,
    fields: [
      {
        name: "nameserver",
        label: "Nameserver",
        kind: "text",
        required: true,
        placeholder: "ns1.example.com or 192.0.2.53:53",
        hint: "The primary server that accepts updates for the zone: host or host:port.",
      },
      { name: "tsigKeyName", label: "TSIG key name", kind: "text", required: true, placeholder: "hearth-key" },
      { name: "tsigAlgorithm", label: "TSIG algorithm", kind: "select", required: false, options: TSIG_ALGORITHMS, defaultValue: "hmac-sha256" },
      { name: "tsigSecret", label: "TSIG secret", kind: "secret", required: true, hint: 'Base64, the secret "…" value printed by tsig-keygen.' },
    ],
  },
  {
    value: "powerdns",
    label: "PowerDNS HTTP API",
    hint: "Hearth creates each app's record through the PowerDNS Authoritative API.",
    api: true,
    fields: [
      { name: "apiUrl", label: "API URL", kind: "text", required: true, placeholder: "http://ns1.example.com:8081", hint: "The PowerDNS webserver (webserver=yes, api=yes)." },
      { name: "apiKey", label: "API key", kind: "secret", required: true, hint: "The api-key from pdns.conf." },
      { name: "serverId", label: "Server id", kind: "text", required: false, placeholder: "localhost", defaultValue: "localhost" },
    ],
  },
  {
    value: "cloudflare",
    label: "Cloudflare",
    hint: "Hearth creates each app's record through the Cloudflare API (DNS only, not proxied).",
    api: true,
    fields: [
      { name: "apiToken", label: "API token", kind: "secret", required: true, hint: "A token with Zone → DNS → Edit (and Zone → Zone → Read without a zone id)." },
      { name: "zoneId", label: "Zone id", kind: "text", required: false, placeholder: "Optional: looked up by name", hint: "32 hex digits, on the zone's Overview page." },
    ],
  },
  {
    value: "route53",
    label: "Amazon Route 53",
    hint: "Hearth creates each app's record through the Route 53 API.",
    api: true,
    fields: [
      { name: "accessKeyId", label: "Access key id", kind: "text", required: true, placeholder: "AKIA…" },
      { name: "secretAccessKey", label: "Secret access key", kind: "secret", required: true },
      { name: "hostedZoneId", label: "Hosted zone id", kind: "text", required: false, placeholder: "Optional: looked up by name" },
      { name: "region", label: "Region", kind: "text", required: false, placeholder: "us-east-1", defaultValue: "us-east-1" },
    ],
  },
  { value: "manual", label: "Manual", hint: "You create a DNS record for each app yourself; Hearth lists them under DNS records.", api: false, fields: [] },
  { value: "wildcard", label: "Wildcard record", hint: "A *.domain record already points to this server.", api: false, fields: [] },
  { value: "noop", label: "No DNS (nothing checked)", hint: "Hearth does nothing with DNS and checks nothing, e.g. for an internal resolver.", api: false, fields: [] },
];

export function providerInfo(p: DomainProvider): ProviderInfo {
  return PROVIDERS.find((x) => x.value === p) ?? { value: p, label: p, hint: "", api: false, fields: [] };
}

/** Short names for tables. */
export function providerShortLabel(p: DomainProvider): string {
  return ({ rfc2136: "RFC 2136", powerdns: "PowerDNS", cloudflare: "Cloudflare", route53: "Route 53", manual: "Manual", wildcard: "Wildcard", noop: "No DNS" } as const)[p] ?? p;
}

export function isApiProvider(p: DomainProvider): boolean {
  return (API_DNS_PROVIDERS as readonly string[]).includes(p);
}

export interface TlsModeInfo {
  value: TlsMode;
  label: string;
  hint: string;
  /** only with an API provider (DNS-01) */
  apiOnly?: boolean;
}

export const TLS_MODE_INFO: readonly TlsModeInfo[] = [
  { value: "letsencrypt", label: "Let's Encrypt, a certificate per app", hint: "From the certificate authority set on the Certificates page (Let's Encrypt unless changed)." },
  { value: "letsencrypt-wildcard", label: "Let's Encrypt wildcard (*.domain)", hint: "One certificate for every app on the domain, by DNS-01.", apiOnly: true },
  { value: "letsencrypt-staging", label: "Let's Encrypt staging (for testing)", hint: "Certificates browsers do not trust; no rate limits to worry about." },
  { value: "custom", label: "My own certificate", hint: "Upload a certificate chain and key covering *.domain." },
  { value: "fallback", label: "Self-signed", hint: "Browsers warn about it; for testing or internal use." },
];

export function tlsModeShortLabel(m: TlsMode): string {
  return ({ letsencrypt: "Let's Encrypt", "letsencrypt-staging": "Let's Encrypt staging", "letsencrypt-wildcard": "Wildcard", custom: "Custom", fallback: "Self-signed" } as const)[m] ?? m;
}

/** The TLS modes a provider allows (wildcard needs DNS-01 through an API). */
export function tlsModesFor(p: DomainProvider): TlsModeInfo[] {
  return TLS_MODE_INFO.filter((m) => !m.apiOnly || isApiProvider(p));
}

// ---- the add/edit form ---------------------------------------------------------------------

export interface DomainFormValues {
  domain: string;
  provider: DomainProvider;
  /** per provider, field → text (kept when switching providers back and forth) */
  config: Partial<Record<DomainProvider, Record<string, string>>>;
  tlsMode: TlsMode;
  customCertificate: string;
  customKey: string;
}

export function emptyDomainForm(provider: DomainProvider = "manual"): DomainFormValues {
  return { domain: "", provider, config: {}, tlsMode: "letsencrypt", customCertificate: "", customKey: "" };
}

/** The form for editing `d`: its settings (never its secrets, which the API does not return). */
export function domainFormOf(d: DomainView): DomainFormValues {
  const config: Record<string, string> = {};
  for (const [k, v] of Object.entries(d.providerConfig ?? {})) if (v !== null && v !== undefined) config[k] = String(v);
  return { domain: d.domain, provider: d.provider, config: { [d.provider]: config }, tlsMode: d.tlsMode, customCertificate: "", customKey: "" };
}

/** Whether a secret field of `provider` may be left empty: editing, same provider as stored. */
export function keepsSecret(editing: DomainView | null, provider: DomainProvider): boolean {
  return editing !== null && editing.provider === provider;
}

/** "Nameserver" → "nameserver", but "TSIG key name" and "API URL" keep their capitals. */
function lowerFirst(label: string): string {
  return /^[A-Z][a-z]/.test(label) ? label.charAt(0).toLowerCase() + label.slice(1) : label;
}

/**
 * Fields the server would refuse as missing, caught before the request with plain words.
 * Formats are the server's to judge (its messages land under the same fields).
 */
export function missingDomainFields(v: DomainFormValues, editing: DomainView | null): Record<string, string> {
  const out: Record<string, string> = {};
  if (!editing && !v.domain.trim()) out.domain = "Enter the domain, e.g. example.com";
  const values = v.config[v.provider] ?? {};
  for (const f of providerInfo(v.provider).fields) {
    if (!f.required || (values[f.name] ?? "").trim() !== "") continue;
    if (f.kind === "secret" && keepsSecret(editing, v.provider)) continue;
    out[`providerConfig.${f.name}`] = `Enter the ${lowerFirst(f.label)}`;
  }
  // switching to custom needs both; a domain already custom may replace either one alone
  if (v.tlsMode === "custom" && !(editing?.tlsMode === "custom" && editing.hasCustomCertificate)) {
    if (!v.customCertificate.trim()) out.customCertificate = "Paste or choose the certificate chain (PEM)";
    if (!v.customKey.trim()) out.customKey = "Paste or choose the private key (PEM)";
  }
  return out;
}

/**
 * The provider settings to send: empty optional fields are left out (the server applies its
 * defaults), and so are empty secrets when editing the stored provider (the server keeps the
 * saved value). null: the provider takes no settings.
 */
export function providerConfigBody(v: DomainFormValues): Record<string, string> | null {
  const info = providerInfo(v.provider);
  if (!info.api) return null;
  const values = v.config[v.provider] ?? {};
  const out: Record<string, string> = {};
  for (const f of info.fields) {
    const value = (values[f.name] ?? "").trim();
    if (value !== "") out[f.name] = value;
  }
  // settings the form has no field for (e.g. an API endpoint set through the API) are kept:
  // the server replaces the whole settings object
  for (const [k, value] of Object.entries(values)) if (!(k in out) && !info.fields.some((f) => f.name === k) && value.trim() !== "") out[k] = value.trim();
  return out;
}

/** POST /api/v1/domains body. */
export function addDomainBody(v: DomainFormValues): Record<string, unknown> {
  const config = providerConfigBody(v);
  return {
    domain: v.domain.trim().toLowerCase(),
    provider: v.provider,
    ...(config ? { providerConfig: config } : {}),
    tlsMode: v.tlsMode,
    ...(v.tlsMode === "custom" ? { customCertificate: v.customCertificate, customKey: v.customKey } : {}),
  };
}

/**
 * PATCH /api/v1/domains/:d body: provider and settings, TLS mode; a custom certificate or key
 * only when one was given (the stored pair stays otherwise).
 */
export function updateDomainBody(v: DomainFormValues): Record<string, unknown> {
  const config = providerConfigBody(v);
  const body: Record<string, unknown> = { provider: v.provider, tlsMode: v.tlsMode };
  if (config) body.providerConfig = config;
  if (v.tlsMode === "custom") {
    if (v.customCertificate.trim()) body.customCertificate = v.customCertificate;
    if (v.customKey.trim()) body.customKey = v.customKey;
  }
  return body;
}

/** The secret fields of a provider (for "leave empty to keep" hints). */
export function secretFieldsOf(p: DomainProvider): readonly string[] {
  return isApiProvider(p) ? PROVIDER_SECRET_FIELDS[p as keyof typeof PROVIDER_SECRET_FIELDS] : [];
}

// ---- certificates ----------------------------------------------------------------------------

export const STATUS_INFO: Record<CertificateView["status"], { label: string; badge: string }> = {
  valid: { label: "Valid", badge: "badge badge-ok" },
  expiring: { label: "Renewal due", badge: "badge badge-warn" },
  expired: { label: "Expired", badge: "badge badge-danger" },
  pending: { label: "Pending", badge: "badge badge-info" },
  failed: { label: "Failed", badge: "badge badge-danger" },
};

export function certificateKindLabel(c: Pick<CertificateView, "kind" | "challenge">): string {
  if (c.kind === "custom") return "Uploaded";
  if (c.kind === "fallback") return "Self-signed";
  return c.challenge === "dns-01" ? "ACME (DNS-01)" : c.challenge === "http-01" ? "ACME (HTTP-01)" : "ACME";
}

/** Does a certificate for `names` serve `fqdn`? (`*.d` covers one label under d.) */
export function covers(names: readonly string[], fqdn: string): boolean {
  return names.some((n) => n === fqdn || (n.startsWith("*.") && fqdn.endsWith(n.slice(1)) && !fqdn.slice(0, -n.length + 1).includes(".")));
}

/** The certificate serving `fqdn` (its own first, else a wildcard), if there is one. */
export function certificateFor(certs: readonly CertificateView[], fqdn: string): CertificateView | undefined {
  return certs.find((c) => c.names.includes(fqdn)) ?? certs.find((c) => covers(c.names, fqdn));
}

/** "2 valid · 1 failed" for a domain's certificates, worst first; "" when it has none. */
export function certificateSummary(certs: readonly CertificateView[], domain: string): { text: string; worst: CertificateView["status"] | null } {
  const order: CertificateView["status"][] = ["failed", "expired", "expiring", "pending", "valid"];
  const counts = new Map<CertificateView["status"], number>();
  for (const c of certs) if (c.domain === domain) counts.set(c.status, (counts.get(c.status) ?? 0) + 1);
  const parts = order.filter((s) => counts.has(s)).map((s) => `${counts.get(s)} ${STATUS_INFO[s].label.toLowerCase()}`);
  return { text: parts.join(" · "), worst: order.find((s) => counts.has(s)) ?? null };
}
