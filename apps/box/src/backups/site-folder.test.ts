import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { checkSiteFolder, probeFolder } from "./site-folder";

/** The site folder's rules on the real file system (the tests run as root: uid 0 is "root", 4242 is box's user here). */
const BOX_UID = 4242;
const root = mkdtempSync(path.join(os.tmpdir(), "hearth-site-folder-"));
const dataDir = path.join(root, "data");
mkdirSync(dataDir);
const rules = { dataDir, uid: BOX_UID };

describe("checkSiteFolder", () => {
  it("accepts a folder of box's user or root under root-owned parents (and a sticky /tmp), existing or not yet", async () => {
    const ok = path.join(root, "site-ok");
    mkdirSync(ok, { mode: 0o700 });
    chownSync(ok, BOX_UID, BOX_UID);
    await expect(checkSiteFolder(ok, rules)).resolves.toBeUndefined();
    await expect(checkSiteFolder(path.join(ok, "not", "yet"), rules)).resolves.toBeUndefined();
  });

  it("refuses a symlink anywhere on the path", async () => {
    const real = path.join(root, "real");
    mkdirSync(real, { mode: 0o700 });
    const link = path.join(root, "link");
    symlinkSync(real, link);
    await expect(checkSiteFolder(link, rules)).rejects.toMatchObject({ code: "invalid", message: expect.stringMatching(/link is a symbolic link/) });
    await expect(checkSiteFolder(path.join(link, "repo"), rules)).rejects.toMatchObject({ message: expect.stringMatching(/symbolic link/) });
  });

  it("refuses a folder or parent of another owner, or writable by group or others", async () => {
    const other = path.join(root, "other-owner");
    mkdirSync(other, { mode: 0o700 });
    chownSync(other, 31337, 31337);
    await expect(checkSiteFolder(other, rules)).rejects.toMatchObject({ code: "invalid", message: expect.stringMatching(/belongs to uid 31337/) });
    await expect(checkSiteFolder(path.join(other, "repo"), rules)).rejects.toMatchObject({ message: expect.stringMatching(/belongs to uid 31337/) });
    const open = path.join(root, "world-writable");
    mkdirSync(open);
    chmodSync(open, 0o777);
    await expect(checkSiteFolder(open, rules)).rejects.toMatchObject({ code: "invalid", message: expect.stringMatching(/can be written by other users \(mode 777\)/) });
    const group = path.join(root, "group-writable");
    mkdirSync(group);
    chmodSync(group, 0o770);
    await expect(checkSiteFolder(path.join(group, "repo"), rules)).rejects.toMatchObject({ message: expect.stringMatching(/can be written by other users/) });
    // a sticky world-writable folder is fine as a root-owned parent, never as the site itself
    const sticky = path.join(root, "sticky");
    mkdirSync(sticky);
    chmodSync(sticky, 0o1777);
    await expect(checkSiteFolder(path.join(sticky, "repo"), rules)).resolves.toBeUndefined();
    await expect(checkSiteFolder(sticky, rules)).rejects.toMatchObject({ message: expect.stringMatching(/can be written by other users/) });
  });

  it("refuses Hearth's data folder, a folder inside it and a parent of it", async () => {
    for (const p of [dataDir, path.join(dataDir, "backups", "site"), root]) {
      await expect(checkSiteFolder(p, rules)).rejects.toMatchObject({ code: "invalid", message: expect.stringMatching(/overlaps Hearth's data folder/) });
    }
  });
});

describe("probeFolder", () => {
  it("writes, reads and deletes a probe of a random name and never follows a symlink", async () => {
    const dir = path.join(root, "probe");
    mkdirSync(dir, { mode: 0o700 });
    // the fixed name of old: a symlink to a file box can write is not touched
    const victim = path.join(root, "victim.txt");
    writeFileSync(victim, "keep me");
    symlinkSync(victim, path.join(dir, ".hearth-probe"));
    await probeFolder(dir, "token-1");
    expect(readFileSync(victim, "utf8")).toBe("keep me");
    expect(readdirSync(dir)).toEqual([".hearth-probe"]);
    expect(existsSync(path.join(dir, ".hearth-probe"))).toBe(true);
  });
});
