import { HearthError, type OrphanView, type UninstalledAppView } from "@hearth/contracts";
import { fqdnOfUninstalled, type Orphan, type UninstalledApp } from "@hearth/db";

/** Views of the data an admin alone deletes: orphans and uninstalled apps with kept data. */
export function orphanViewOf(o: Orphan): OrphanView {
  return {
    id: o.id,
    kind: o.kind as OrphanView["kind"],
    name: o.name,
    appId: o.appId,
    state: o.state === "deleting" ? "deleting" : "found",
    taskId: o.taskId,
    firstSeenAt: o.firstSeenAt.toISOString(),
    lastSeenAt: o.lastSeenAt.toISOString(),
  };
}

export function uninstalledAppViewOf(u: UninstalledApp): UninstalledAppView {
  return {
    id: u.id,
    manifestId: u.manifestId,
    title: u.title,
    version: u.version,
    subdomain: u.subdomain,
    domain: u.domain,
    fqdn: fqdnOfUninstalled(u),
    state: u.state === "purging" ? "purging" : "kept",
    uninstalledAt: u.uninstalledAt.toISOString(),
    purgeAfter: u.purgeAfter.toISOString(),
  };
}

/** Ids in paths are uuids (36 characters at most); anything else is unknown. */
export function idParam(params: Record<string, string>, what: string): string {
  const id = params.id ?? "";
  if (!/^[A-Za-z0-9-]{1,36}$/.test(id)) throw new HearthError("not_found", `No such ${what}`);
  return id;
}
