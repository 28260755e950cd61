import { randomUUID } from "node:crypto";
import type { HearthManifest, HearthManifestInput } from "@hearth/contracts";
import type { Db } from "@hearth/db";

/**
 * An App row as admin records an install: the manifest at `pending_install` under
 * <subdomain>.<domain>, with the app's own environment. Returns the app's id (a new UUID
 * unless given). The AppService (or a box) then installs it.
 */
export async function insertPendingApp(db: Db, manifest: HearthManifest | HearthManifestInput, o: { id?: string; subdomain: string; domain: string; env?: Record<string, string> }): Promise<string> {
  const id = o.id ?? randomUUID();
  await db.app.create({
    data: {
      id,
      manifestId: manifest.id,
      manifest: manifest as object,
      version: manifest.version,
      subdomain: o.subdomain,
      domain: o.domain,
      installState: "pending_install",
      memoryLimit: BigInt(manifest.memoryLimit ?? 256 * 1024 * 1024),
      env: o.env ?? {},
    },
  });
  return id;
}
