import { randomUUID } from "node:crypto";
import { HearthError, type DomainProvider, type TlsMode } from "@hearth/contracts";
import type { Prisma, Certificate, Db, Domain, Task } from "../client";
import { isForeignKeyViolation } from "./apps";
import { isUniqueViolation } from "./settings";
import { createTask } from "./tasks";

/**
 * Domains and certificates as admin records them. Secrets arrive sealed (admin seals the
 * provider settings and a custom key with HEARTH_SECRET_KEY before calling); this module
 * never sees them in clear. Every change that box must act on (certificates, DNS records,
 * vhosts) queues a `domain.sync` task in the same transaction.
 */
type Client = Db | Prisma.TransactionClient;

export interface DomainRecord {
  provider: DomainProvider;
  providerConfigEnc: string | null;
  tlsMode: TlsMode;
  customCertPem: string | null;
  customKeyEnc: string | null;
}

export async function listDomains(db: Client): Promise<Domain[]> {
  return db.domain.findMany({ orderBy: [{ isDashboardDomain: "desc" }, { domain: "asc" }] });
}

export async function getDomain(db: Client, domain: string): Promise<Domain | null> {
  return db.domain.findUnique({ where: { domain } });
}

/** Adds a domain (the first one becomes the dashboard's) and queues its sync. 409 conflict when it exists. */
export async function addDomain(db: Db, input: { domain: string } & Partial<DomainRecord> & { provider: DomainProvider }, createdBy: string | null = null): Promise<{ domain: Domain; task: Task }> {
  try {
    return await db.$transaction(async (tx) => {
      if (await tx.domain.findUnique({ where: { domain: input.domain } })) throw new HearthError("conflict", `The domain ${input.domain} already exists`);
      const hasDashboard = (await tx.domain.count({ where: { isDashboardDomain: true } })) > 0;
      const domain = await tx.domain.create({
        data: {
          domain: input.domain,
          provider: input.provider,
          providerConfigEnc: input.providerConfigEnc ?? null,
          tlsMode: input.tlsMode ?? "letsencrypt",
          customCertPem: input.customCertPem ?? null,
          customKeyEnc: input.customKeyEnc ?? null,
          isDashboardDomain: !hasDashboard,
        },
      });
      const task = await createTask(tx, { type: "domain.sync", args: { domain: input.domain }, createdBy });
      return { domain, task };
    });
  } catch (e) {
    if (isUniqueViolation(e)) throw new HearthError("conflict", `The domain ${input.domain} already exists`);
    throw e;
  }
}

/** Changes a domain's provider, settings or TLS mode and queues its sync. 404 when unknown. */
export async function updateDomain(db: Db, domain: string, change: Partial<DomainRecord>, createdBy: string | null = null): Promise<{ domain: Domain; task: Task }> {
  return db.$transaction(async (tx) => {
    const locked = await tx.$queryRawUnsafe<{ domain: string }[]>("SELECT `domain` FROM `Domain` WHERE `domain` = ? FOR UPDATE", domain);
    if (locked.length === 0) throw new HearthError("not_found", `No domain ${domain}`);
    const data: Prisma.DomainUpdateInput = {};
    if (change.provider !== undefined) data.provider = change.provider;
    if (change.providerConfigEnc !== undefined) data.providerConfigEnc = change.providerConfigEnc;
    if (change.tlsMode !== undefined) data.tlsMode = change.tlsMode;
    if (change.customCertPem !== undefined) data.customCertPem = change.customCertPem;
    if (change.customKeyEnc !== undefined) data.customKeyEnc = change.customKeyEnc;
    const updated = await tx.domain.update({ where: { domain }, data });
    const task = await createTask(tx, { type: "domain.sync", args: { domain }, createdBy });
    return { domain: updated, task };
  });
}

/** Removes a domain no app uses (409 conflict otherwise, 404 when unknown); its certificates go with it. */
export async function removeDomain(db: Db, domain: string): Promise<Domain> {
  const inUse = (apps: string[]) => new HearthError("conflict", `Apps still use ${domain}; move or uninstall them first`, { details: { apps } });
  try {
    return await db.$transaction(async (tx) => {
      const d = await tx.domain.findUnique({ where: { domain } });
      if (!d) throw new HearthError("not_found", `No domain ${domain}`);
      const used = await tx.app.findMany({ where: { domain }, select: { id: true }, take: 20 });
      const extra = await tx.appDomain.findMany({ where: { domain }, select: { appId: true }, take: 20 });
      const apps = [...new Set([...used.map((a) => a.id), ...extra.map((a) => a.appId)])];
      if (apps.length > 0) throw inUse(apps);
      await tx.domain.delete({ where: { domain } });
      if (d.isDashboardDomain) {
        // the dashboard moves to the oldest remaining domain
        const next = await tx.domain.findFirst({ orderBy: [{ createdAt: "asc" }, { domain: "asc" }] });
        if (next) {
          await tx.domain.update({ where: { domain: next.domain }, data: { isDashboardDomain: true } });
          await createTask(tx, { type: "domain.sync", args: { domain: next.domain } });
        }
      }
      return d;
    });
  } catch (e) {
    if (isForeignKeyViolation(e)) throw inUse([]);
    throw e;
  }
}

/** The newest pending or running domain.sync task of each domain. */
export async function activeDomainTasks(db: Client): Promise<Map<string, Task>> {
  const tasks = await db.task.findMany({ where: { type: "domain.sync", state: { in: ["pending", "running"] } }, orderBy: [{ createdAt: "desc" }] });
  const out = new Map<string, Task>();
  for (const t of tasks) {
    const d = (t.args as { domain?: string } | null)?.domain;
    if (d && !out.has(d)) out.set(d, t);
  }
  return out;
}

// ---- certificates -------------------------------------------------------------------------

/** The key of a set of names: lower case, sorted, joined by ",". */
export function namesKeyOf(names: readonly string[]): string {
  return [...new Set(names.map((n) => n.toLowerCase()))].sort().join(",");
}

export async function listCertificates(db: Client): Promise<Certificate[]> {
  return db.certificate.findMany({ orderBy: [{ domain: "asc" }, { namesKey: "asc" }] });
}

export async function getCertificate(db: Client, id: string): Promise<Certificate | null> {
  return db.certificate.findUnique({ where: { id } });
}

export async function getCertificateByNames(db: Client, names: readonly string[]): Promise<Certificate | null> {
  return db.certificate.findUnique({ where: { namesKey: namesKeyOf(names) } });
}

/** The row for this set of names, created (empty: no files yet) when missing. */
export async function ensureCertificateRow(
  db: Db,
  input: { names: readonly string[]; domain: string; kind: "acme" | "custom"; challenge?: string | null; directoryUrl?: string | null },
): Promise<Certificate> {
  const namesKey = namesKeyOf(input.names);
  const names = namesKey.split(",");
  const found = await db.certificate.findUnique({ where: { namesKey } });
  const fields = { domain: input.domain, kind: input.kind, challenge: input.challenge ?? null, directoryUrl: input.directoryUrl ?? null };
  if (found) {
    if (found.domain === fields.domain && found.kind === fields.kind && found.challenge === fields.challenge && found.directoryUrl === fields.directoryUrl) return found;
    return db.certificate.update({ where: { id: found.id }, data: fields });
  }
  try {
    return await db.certificate.create({ data: { id: randomUUID(), namesKey, names, ...fields } });
  } catch (e) {
    if (isUniqueViolation(e)) return db.certificate.findUniqueOrThrow({ where: { namesKey } });
    throw e;
  }
}

export async function recordCertificateIssued(
  db: Client,
  id: string,
  info: { issuer: string; serial: string; fingerprint: string; notBefore: Date; notAfter: Date; certPath: string; keyPath: string; at: Date },
): Promise<Certificate> {
  const { at, ...fields } = info;
  return db.certificate.update({ where: { id }, data: { ...fields, issuedAt: at, lastAttemptAt: at, lastError: null, failures: 0, nextAttemptAt: null } });
}

export async function recordCertificateFailure(db: Client, id: string, info: { error: string; at: Date; nextAttemptAt: Date }): Promise<Certificate> {
  return db.certificate.update({
    where: { id },
    data: { lastAttemptAt: info.at, lastError: info.error.slice(0, 4000), failures: { increment: 1 }, nextAttemptAt: info.nextAttemptAt },
  });
}

export async function deleteCertificates(db: Client, ids: string[]): Promise<number> {
  if (ids.length === 0) return 0;
  return (await db.certificate.deleteMany({ where: { id: { in: ids } } })).count;
}

/** Queues a renewal (all due certificates, or one, forced). */
export async function queueCertificateRenewal(db: Client, input: { certificateId?: string; force?: boolean } = {}, createdBy: string | null = null): Promise<Task> {
  return createTask(db, { type: "certificate.renew", args: input, createdBy, maxAttempts: 2 });
}
