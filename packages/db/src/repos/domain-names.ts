import type { DomainProvider } from "@hearth/contracts";
import type { AppDomain, Db, Prisma } from "../client";

/** Which names live on which domain: the reads box (DNS, mail, proxy) and admin (domain pages) make. */
type Client = Db | Prisma.TransactionClient;

/** The dashboard's domains (one today), by name. */
export async function dashboardDomainNames(db: Client): Promise<string[]> {
  return (await db.domain.findMany({ where: { isDashboardDomain: true }, select: { domain: true } })).map((d) => d.domain);
}

/** Every domain row, by name (the proxy's view). */
export async function listDomainsByName(db: Client) {
  return db.domain.findMany({ orderBy: { domain: "asc" } });
}

/** The names of the domains whose DNS provider is one of `providers`. */
export async function domainNamesWithProvider(db: Client, providers: readonly DomainProvider[]): Promise<string[]> {
  return (await db.domain.findMany({ where: { provider: { in: [...providers] } }, select: { domain: true }, orderBy: { domain: "asc" } })).map((d) => d.domain);
}

/** The apps whose primary name is on `domain`, oldest first. */
export async function appsOnDomain(db: Client, domain: string): Promise<{ id: string; subdomain: string }[]> {
  return db.app.findMany({ where: { domain }, select: { id: true, subdomain: true }, orderBy: [{ createdAt: "asc" }, { id: "asc" }] });
}

/** The aliases and redirects on `domain`. */
export async function extraNamesOnDomain(db: Client, domain: string): Promise<Pick<AppDomain, "appId" | "subdomain" | "type">[]> {
  return db.appDomain.findMany({ where: { domain }, select: { appId: true, subdomain: true, type: true }, orderBy: [{ type: "asc" }, { subdomain: "asc" }] });
}
