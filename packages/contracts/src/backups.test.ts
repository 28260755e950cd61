import { describe, expect, it } from "vitest";
import { appSnapshotTags, backupConfigRequest, backupFolder } from "./backups";

describe("backup contracts", () => {
  it("takes absolute folders without .. and trims a trailing slash", () => {
    expect(backupFolder.parse("/mnt/backup/hearth/")).toBe("/mnt/backup/hearth");
    for (const bad of ["relative", "/", "//", "/mnt/../etc", "/mnt/a\nb", "/mnt/$(x)", ""]) expect(backupFolder.safeParse(bad).success, bad).toBe(false);
  });

  it("parses the three site shapes and fills schedule and retention defaults", () => {
    expect(backupConfigRequest.parse({ site: { type: "filesystem", path: "/b" }, passphrase: "x".repeat(12) })).toEqual({
      site: { type: "filesystem", path: "/b" },
      passphrase: "x".repeat(12),
      schedule: "02:30",
      retention: { daily: 7, weekly: 4, monthly: 6 },
    });
    expect(backupConfigRequest.safeParse({ site: { type: "sftp", host: "h", user: "u", path: "/p" } }).success).toBe(true);
    expect(backupConfigRequest.safeParse({ site: { type: "s3", endpoint: "https://s3.example", bucket: "bkt", accessKeyId: "a" } }).success).toBe(true);
    expect(backupConfigRequest.safeParse({ site: { type: "ftp", path: "/p" } }).success).toBe(false);
    expect(backupConfigRequest.safeParse({ site: { type: "filesystem", path: "/b" }, passphrase: "short" }).success).toBe(false);
    expect(backupConfigRequest.safeParse({ site: { type: "filesystem", path: "/b" }, schedule: "24:00" }).success).toBe(false);
    expect(backupConfigRequest.safeParse({ site: { type: "filesystem", path: "/b" }, extra: 1 }).success).toBe(false);
  });

  it("tags a snapshot with the app, version and backup id, without commas (restic's tag separator)", () => {
    expect(appSnapshotTags({ appId: "a1", version: "1.0.0,x", backupId: "b1" })).toEqual(["hearth", "app:a1", "version:1.0.0_x", "backup:b1"]);
  });
});
