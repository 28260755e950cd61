import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { lastJson, restic, resticBackup, type ResticRepo } from "./restic";

/**
 * The restic adapter on the real restic: a backup's summary is taken from the line stream, so
 * it survives a stdout far past what run() keeps (here --verbose=2's line per file: ~600 KB
 * against the 256 KiB kept).
 */
const root = mkdtempSync(path.join(os.tmpdir(), "hearth-restic-unit-"));
const repo: ResticRepo = { repository: path.join(root, "repo"), password: "unit-test-passphrase", cacheDir: path.join(root, "cache") };
const FILES = 3000;

describe("resticBackup", () => {
  it("returns the summary of a backup whose --json output overflows the kept stdout", async () => {
    const src = path.join(root, "src");
    for (let d = 0; d < 30; d++) {
      mkdirSync(path.join(src, `dir-${d}`), { recursive: true });
      for (let f = 0; f < FILES / 30; f++) writeFileSync(path.join(src, `dir-${d}`, `a-rather-long-file-name-to-fill-the-verbose-lines-${f}.txt`), `${d}/${f}\n`);
    }
    await restic(repo, ["init"], "init");
    const statuses: unknown[] = [];
    const s = await resticBackup(repo, ["--verbose=2", "--tag", "unit", "."], { cwd: src, onStatus: (m) => statuses.push(m) });
    expect(s).toMatchObject({ message_type: "summary", total_files_processed: FILES });
    expect(s.snapshot_id).toMatch(/^[0-9a-f]{8,64}$/); // restic 0.14 reports the short id
    // the same output through the kept stdout alone has lost its summary
    const r = await restic(repo, ["backup", "--json", "--verbose=2", "--force", "."], "again", { cwd: src, maxBuffer: 256 * 1024 });
    expect(r.stdout.length).toBe(256 * 1024);
    expect(() => {
      const last = lastJson<{ message_type?: string }>(r.stdout);
      if (last.message_type !== "summary") throw new Error("no summary");
    }).toThrow();
    // and the snapshot it names is there
    const snaps = JSON.parse(
      execFileSync("restic", ["snapshots", "--json", "--tag", "unit"], {
        env: { ...process.env, RESTIC_REPOSITORY: repo.repository, RESTIC_PASSWORD: repo.password, RESTIC_CACHE_DIR: repo.cacheDir },
        encoding: "utf8",
      }),
    ) as { id: string }[];
    expect(snaps).toHaveLength(1);
    expect(snaps[0]!.id.startsWith(s.snapshot_id)).toBe(true);
  }, 120_000);

  it("a full disk names which one is full: the site, or the local folder a restore writes", async () => {
    const small = mkdtempSync(path.join(os.tmpdir(), "hearth-restic-full-"));
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", small]);
    try {
      const big = path.join(root, "big");
      mkdirSync(big);
      writeFileSync(path.join(big, "random.bin"), randomBytes(6 * 1048576));
      // the site on the full disk
      const site: ResticRepo = { ...repo, repository: path.join(small, "repo") };
      await restic(site, ["init"], "init");
      await expect(resticBackup(site, ["."], { cwd: big })).rejects.toMatchObject({ code: "external", message: expect.stringMatching(/the backup site \(.*\) is full/) });
      execFileSync("rm", ["-rf", site.repository]);
      // a restore into a folder on the full disk (the site has room)
      const s = await resticBackup(repo, ["--tag", "big", "."], { cwd: big });
      const target = path.join(small, "target");
      await expect(restic(repo, ["restore", s.snapshot_id, "--target", target], "restoring", { localPath: target })).rejects.toMatchObject({
        message: expect.stringMatching(/the disk of .*target \(on this server\) is full/),
      });
    } finally {
      execFileSync("umount", [small]);
    }
  }, 120_000);
});
