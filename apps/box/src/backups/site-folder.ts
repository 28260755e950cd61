import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { lstat, open, realpath, unlink } from "node:fs/promises";
import path from "node:path";
import { HearthError, isHearthError } from "@hearth/contracts";

/**
 * The backup site folder as box may use it. An admin chooses site.path; box (user hearth)
 * then writes there. So that the path cannot steer box's writes to a file of box's own (a
 * compromised admin account pointing the site at a folder holding a symlink), the folder and
 * every parent must be real folders (no symlink anywhere on the path), owned by box's user or
 * root, and writable by nobody else (a root-owned sticky parent such as /tmp is accepted: nobody
 * can replace the entries in it they do not own); the folder may not be inside Hearth's data
 * folder. Parts of the path that do not exist yet are skipped (the site test makes them).
 */
export interface SiteFolderRules {
  /** Hearth's data folder: the site may not be in it */
  dataDir: string;
  /** box's uid (the folder's owner may be it or root) */
  uid: number;
}

export async function checkSiteFolder(folder: string, rules: SiteFolderRules): Promise<void> {
  if (!path.isAbsolute(folder)) throw new HearthError("invalid", `the backup folder ${folder} is not an absolute path`);
  const target = path.resolve(folder);
  const data = path.resolve(await realpath(rules.dataDir).catch(() => rules.dataDir));
  for (const d of new Set([path.resolve(rules.dataDir), data])) {
    if (target === d || target.startsWith(`${d}${path.sep}`) || d.startsWith(`${target}${path.sep}`))
      throw new HearthError("invalid", `the backup folder ${target} overlaps Hearth's data folder ${d}: choose a folder of its own (best on another disk)`);
  }
  const chain: string[] = [];
  for (let p = target; ; p = path.dirname(p)) {
    chain.unshift(p);
    if (path.dirname(p) === p) break;
  }
  for (const p of chain) {
    const st = await lstat(p).catch((e: NodeJS.ErrnoException) => {
      if (e.code === "ENOENT") return null;
      throw new HearthError("external", `box cannot look at ${p} (${e.code})`);
    });
    if (!st) break; // the rest does not exist yet
    if (st.isSymbolicLink()) throw new HearthError("invalid", `${p} is a symbolic link: the backup folder's path may hold none (give the real path)`);
    if (!st.isDirectory()) throw new HearthError("invalid", `${p} is not a folder`);
    if (st.uid !== rules.uid && st.uid !== 0) throw new HearthError("invalid", `${p} belongs to uid ${st.uid}: the backup folder and its parents must belong to the hearth user or root`);
    const sticky = (st.mode & 0o1000) !== 0;
    if ((st.mode & 0o022) !== 0 && !(p !== target && sticky && st.uid === 0))
      throw new HearthError("invalid", `${p} can be written by other users (mode ${(st.mode & 0o7777).toString(8)}): chmod go-w it`);
  }
}

/** Writes, reads back and deletes a probe file of a random name in `folder`, never following a symlink. */
export async function probeFolder(folder: string, token: string): Promise<void> {
  const probe = path.join(folder, `.hearth-probe-${randomBytes(8).toString("hex")}`);
  try {
    const w = await open(probe, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    try {
      await w.writeFile(token);
    } finally {
      await w.close();
    }
    const r = await open(probe, constants.O_RDONLY | constants.O_NOFOLLOW);
    let back: string;
    try {
      back = await r.readFile("utf8");
    } finally {
      await r.close();
    }
    if (back !== token) throw new HearthError("external", `the probe read back from ${probe} differs from what was written`);
    await unlink(probe);
  } catch (e) {
    if (isHearthError(e)) throw e;
    throw new HearthError("external", `the probe file ${probe} could not be written, read or deleted: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}
