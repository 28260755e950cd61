import type { DockerApi } from "../docker/docker";
import { FILES_ROLE_LABEL } from "./files.service";

/**
 * Removes the file manager's helper containers a crash of box left behind (box removes each
 * one when its request ends, so at box's start none of this store's can be in use). Only
 * containers labelled `hearth.managed`, `hearth.role=files` and this store's owner; through
 * the lower layer's Docker client. Returns the names removed.
 */
export async function removeLeftoverFileHelpers(docker: Pick<DockerApi, "listContainers" | "removeContainer">, owner: string, ownerLabel: string): Promise<string[]> {
  const left = await docker.listContainers({ [FILES_ROLE_LABEL]: "files", [ownerLabel]: owner });
  const removed: string[] = [];
  for (const c of left) {
    if (c.labels[FILES_ROLE_LABEL] !== "files" || c.labels[ownerLabel] !== owner) continue;
    await docker.removeContainer(c.id);
    removed.push(c.name);
  }
  return removed;
}
