import { readFileSync } from "node:fs";

/**
 * Looks a group up by name in the group database file (default /etc/group) and returns its
 * gid, or null when there is no such group. Node has no getgrnam(); /etc/group is what
 * setup writes the `hearth` group into, so reading it is enough on a single server.
 */
export function groupIdOf(name: string, groupFile = "/etc/group"): number | null {
  let text: string;
  try {
    text = readFileSync(groupFile, "utf8");
  } catch {
    return null;
  }
  for (const line of text.split("\n")) {
    const [groupName, , gid] = line.split(":");
    if (groupName === name && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
  }
  return null;
}
