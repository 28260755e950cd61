import {
  appFqdn,
  type NotificationView,
  NOTIFICATION_KINDS,
  certificateStatusOf,
  publicProviderConfig,
  TLS_MODES,
  type AppView,
  type CertificateView,
  type DomainProvider,
  type DomainView,
  type EventView,
  type HealthState,
  type HearthManifest,
  type InstallState,
  type Profile,
  type RegistryView,
  type RunState,
  type TlsMode,
  type TokenView,
} from "@hearth/contracts";
import { iconUrlOf } from "./catalog";

/** Database rows → wire shapes (contracts/api.ts). */
type UserLike = { id: string; username: string; email: string; displayName: string; role: "owner" | "admin" | "user"; totpSecret: string | null };

export function profileView(u: UserLike): Profile {
  return { id: u.id, username: u.username, email: u.email, displayName: u.displayName, role: u.role, totpEnabled: u.totpSecret !== null };
}

const iso = (d: Date | null | undefined): string | null => (d ? d.toISOString() : null);

export function tokenScopeToWire(scope: "read" | "read_write"): "read" | "read-write" {
  return scope === "read_write" ? "read-write" : "read";
}
export function tokenScopeFromWire(scope: "read" | "read-write"): "read" | "read_write" {
  return scope === "read-write" ? "read_write" : "read";
}

export function tokenViewOf(t: { id: string; name: string; scope: "read" | "read_write"; createdAt: Date; expiresAt: Date | null; lastUsedAt: Date | null }): TokenView {
  return { id: t.id, name: t.name, scope: tokenScopeToWire(t.scope), createdAt: t.createdAt.toISOString(), expiresAt: iso(t.expiresAt), lastUsedAt: iso(t.lastUsedAt) };
}

export function eventViewOf(
  e: { id: bigint; action: string; actorId: string | null; actorName: string; sourceIp: string; target: string; targetType: string; targetName: string; data: unknown; createdAt: Date },
  targetHref: string | null = null,
): EventView {
  return {
    id: e.id.toString(),
    action: e.action,
    actorId: e.actorId,
    actorName: e.actorName,
    sourceIp: e.sourceIp,
    target: e.target,
    targetType: e.targetType,
    targetName: e.targetName,
    targetHref,
    data: e.data ?? null,
    createdAt: e.createdAt.toISOString(),
  };
}

export function notificationViewOf(
  n: {
    id: string;
    kind?: string;
    level: string;
    title: string;
    message: string;
    target: string;
    link?: string;
    count: number;
    createdAt: Date;
    updatedAt: Date;
    raisedAt?: Date;
    dismissedAt: Date | null;
    dismissedBy?: string | null;
  } & {
    items?: { id: string; subject: string; label: string; message: string; details: string; createdAt: Date; updatedAt: Date; closedAt: Date | null }[];
    unread?: boolean;
  },
): NotificationView {
  return {
    id: n.id,
    kind: (NOTIFICATION_KINDS as readonly string[]).includes(n.kind ?? "") ? (n.kind as NotificationView["kind"]) : "other",
    level: (["info", "warning", "error"].includes(n.level) ? n.level : "warning") as NotificationView["level"],
    title: n.title,
    message: n.message,
    target: n.target,
    link: n.link ?? "",
    count: n.count,
    items: (n.items ?? []).map((i) => ({
      id: i.id,
      subject: i.subject,
      label: i.label,
      message: i.message,
      details: i.details,
      createdAt: i.createdAt.toISOString(),
      updatedAt: i.updatedAt.toISOString(),
      closedAt: i.closedAt?.toISOString() ?? null,
    })),
    unread: n.unread ?? false,
    createdAt: n.createdAt.toISOString(),
    updatedAt: n.updatedAt.toISOString(),
    raisedAt: (n.raisedAt ?? n.createdAt).toISOString(),
    dismissedAt: n.dismissedAt?.toISOString() ?? null,
    dismissedBy: n.dismissedBy ?? null,
  };
}

// ---- apps, domains, registries --------------------------------------------------------------

type AppRowLike = {
  id: string;
  autoUpdate?: boolean;
  manifestId: string;
  storeId: string | null;
  manifest: unknown;
  version: string;
  subdomain: string;
  domain: string;
  installState: InstallState;
  runState: RunState;
  health: HealthState | null;
  memoryLimit: bigint;
  env: unknown;
  errorCode: string | null;
  errorMessage: string | null;
  errorTaskId: string | null;
  createdAt: Date;
  ports: { envName: string; hostPort: number }[];
  /** aliases and redirects; absent = none */
  appDomains?: { subdomain: string; domain: string; type: "alias" | "redirect" }[];
};

function extraNamesOf(a: AppRowLike, type: "alias" | "redirect") {
  return (a.appDomains ?? []).filter((d) => d.type === type).map((d) => ({ subdomain: d.subdomain, domain: d.domain, fqdn: appFqdn(d.subdomain, d.domain) }));
}

/** An App row (+ its newest pending/running task) → the wire shape. */
export function appViewOf(a: AppRowLike, activeTaskId: string | null): AppView {
  const m = (a.manifest ?? {}) as Partial<HearthManifest>;
  const fqdn = appFqdn(a.subdomain, a.domain);
  const portBindings: Record<string, number | null> = {};
  for (const k of Object.keys(m.tcpPorts ?? {})) portBindings[k] = null;
  for (const p of a.ports) portBindings[p.envName] = p.hostPort;
  return {
    id: a.id,
    manifestId: a.manifestId,
    title: m.title ?? a.manifestId,
    version: a.version,
    icon: a.storeId && m.icon ? iconUrlOf(a.storeId) : null,
    subdomain: a.subdomain,
    domain: a.domain,
    fqdn,
    url: `https://${fqdn}/`,
    aliases: extraNamesOf(a, "alias"),
    redirects: extraNamesOf(a, "redirect"),
    installState: a.installState,
    runState: a.runState,
    health: a.health,
    memoryLimit: Number(a.memoryLimit),
    env: (a.env && typeof a.env === "object" ? a.env : {}) as Record<string, string>,
    portBindings,
    tcpPorts: Object.fromEntries(
      Object.entries(m.tcpPorts ?? {}).map(([k, v]) => [k, { title: v?.title ?? k, description: v?.description ?? "", containerPort: v?.containerPort ?? 0, defaultValue: v?.defaultValue ?? 0 }]),
    ),
    taskId: activeTaskId,
    error: a.errorCode ? { code: a.errorCode, message: a.errorMessage ?? "", taskId: a.errorTaskId } : null,
    addons: Object.keys(m.addons ?? {}),
    postInstallMessage: m.postInstallMessage ?? "",
    autoUpdate: a.autoUpdate ?? false,
    createdAt: a.createdAt.toISOString(),
  };
}

type DomainRowLike = { domain: string; provider: DomainProvider; tlsMode: string; customCertPem: string | null; isDashboardDomain: boolean; createdAt: Date };

const tlsModeOf = (m: string): TlsMode => ((TLS_MODES as readonly string[]).includes(m) ? (m as TlsMode) : "fallback");

/**
 * A Domain row → the wire shape. `providerConfig` is the opened (unsealed) settings or null;
 * the secret fields are removed here, so no caller can leak them by forgetting to.
 */
export function domainViewOf(d: DomainRowLike, extra: { providerConfig?: Record<string, unknown> | null; taskId?: string | null } = {}): DomainView {
  return {
    domain: d.domain,
    provider: d.provider,
    providerConfig: publicProviderConfig(d.provider, extra.providerConfig ?? null),
    tlsMode: tlsModeOf(d.tlsMode),
    hasCustomCertificate: d.customCertPem !== null,
    isDashboardDomain: d.isDashboardDomain,
    taskId: extra.taskId ?? null,
    createdAt: d.createdAt.toISOString(),
  };
}

type CertificateRowLike = {
  id: string;
  names: unknown;
  domain: string;
  kind: string;
  challenge: string | null;
  issuer: string | null;
  serial: string | null;
  notBefore: Date | null;
  notAfter: Date | null;
  issuedAt: Date | null;
  lastAttemptAt: Date | null;
  lastError: string | null;
  failures: number;
  nextAttemptAt: Date | null;
};

export function certificateViewOf(c: CertificateRowLike, now: Date = new Date()): CertificateView {
  const kind = c.kind === "custom" || c.kind === "fallback" ? c.kind : "acme";
  return {
    id: c.id,
    names: Array.isArray(c.names) ? c.names.filter((n): n is string => typeof n === "string") : [],
    domain: c.domain,
    kind,
    challenge: c.challenge,
    issuer: c.issuer,
    serial: c.serial,
    notBefore: iso(c.notBefore),
    notAfter: iso(c.notAfter),
    status: certificateStatusOf(c, now),
    issuedAt: iso(c.issuedAt),
    lastAttemptAt: iso(c.lastAttemptAt),
    lastError: c.lastError,
    nextAttemptAt: iso(c.nextAttemptAt),
  };
}

/** Never the password, sealed or not. */
export function registryViewOf(r: { id: string; server: string; username: string; createdAt: Date }): RegistryView {
  return { id: r.id, server: r.server, username: r.username, createdAt: r.createdAt.toISOString() };
}
