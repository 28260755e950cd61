import type { Certificate, Db, Prisma } from "../client";

/** The certificate reads box's CertificateManager, domain sync and renewal job make (writes: domains.ts). */
type Client = Db | Prisma.TransactionClient;

/** ACME certificates, all or the one with `id`. */
export async function listAcmeCertificates(db: Client, id?: string): Promise<Certificate[]> {
  return db.certificate.findMany({ where: { kind: "acme", ...(id ? { id } : {}) } });
}

/** ACME certificates whose names key is one of `namesKeys`. */
export async function listAcmeCertificatesByNames(db: Client, namesKeys: readonly string[]): Promise<Certificate[]> {
  return db.certificate.findMany({ where: { kind: "acme", namesKey: { in: [...namesKeys] } } });
}

/** ACME certificates of `domain` whose names key is not in `keepNamesKeys`. */
export async function listAcmeCertificatesExcept(db: Client, domain: string, keepNamesKeys: readonly string[]): Promise<Certificate[]> {
  return db.certificate.findMany({ where: { domain, kind: "acme", namesKey: { notIn: [...keepNamesKeys] } } });
}

/** Certificates of `domain` that have files on disk. */
export async function listCertificatesWithFiles(db: Client, domain: string): Promise<Certificate[]> {
  return db.certificate.findMany({ where: { domain, certPath: { not: null } } });
}

/** Every certificate that has files, of every domain (one query: what a vhost sync serves from). */
export async function listAllCertificatesWithFiles(db: Client): Promise<Certificate[]> {
  return db.certificate.findMany({ where: { certPath: { not: null } }, orderBy: { id: "asc" } });
}

export async function listCustomCertificates(db: Client, domain: string): Promise<Certificate[]> {
  return db.certificate.findMany({ where: { domain, kind: "custom" } });
}

/** How many ACME certificates end before `renewBefore` or have a retry due at `now`. */
export async function countDueCertificates(db: Client, renewBefore: Date, now: Date): Promise<number> {
  return db.certificate.count({ where: { kind: "acme", OR: [{ notAfter: { lt: renewBefore } }, { nextAttemptAt: { lte: now } }] } });
}
