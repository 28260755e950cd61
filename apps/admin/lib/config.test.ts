import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { findMigrationsDir, loadConfig } from "./config";

const root = mkdtempSync(path.join(os.tmpdir(), "hearth-cfg-"));
mkdirSync(path.join(root, "prisma/migrations"), { recursive: true });
mkdirSync(path.join(root, "apps/admin"), { recursive: true });
afterAll(() => rmSync(root, { recursive: true, force: true }));

const URL = "mysql://u:p@127.0.0.1:3306/hearth";

describe("loadConfig", () => {
  it("applies the defaults", () => {
    expect(loadConfig({ HEARTH_DATABASE_URL: URL }, path.join(root, "apps/admin"))).toEqual({
      databaseUrl: URL,
      boxSocket: "/run/hearth/box.sock",
      logLevel: "info",
      migrationsDir: path.join(root, "prisma/migrations"),
      cookieSecure: true,
      secretKey: null,
      catalogDirs: [],
      installId: null,
    });
  });

  it("reads the install id setup writes, and refuses one that is not a plain token", () => {
    expect(loadConfig({ HEARTH_DATABASE_URL: URL, HEARTH_INSTALL_ID: "0f3a-b9" }, path.join(root, "apps/admin")).installId).toBe("0f3a-b9");
    expect(() => loadConfig({ HEARTH_DATABASE_URL: URL, HEARTH_INSTALL_ID: 'x"y' }, path.join(root, "apps/admin"))).toThrow(/HEARTH_INSTALL_ID/);
  });

  it("reads the secret key and the catalog directories", () => {
    mkdirSync(path.join(root, "packages/catalog/apps"), { recursive: true });
    try {
      const key = Buffer.alloc(32, 7).toString("base64");
      const c = loadConfig({ HEARTH_DATABASE_URL: URL, HEARTH_SECRET_KEY: key, HEARTH_CATALOG_DIRS: "/x/cat: /y/cat" }, path.join(root, "apps/admin"));
      expect(c.secretKey?.equals(Buffer.alloc(32, 7))).toBe(true);
      expect(c.catalogDirs).toEqual([path.join(root, "packages/catalog/apps"), "/x/cat", "/y/cat"]);
      expect(() => loadConfig({ HEARTH_DATABASE_URL: URL, HEARTH_SECRET_KEY: "c2hvcnQ=" }, root)).toThrow(/HEARTH_SECRET_KEY: must be 32 bytes/);
    } finally {
      rmSync(path.join(root, "packages"), { recursive: true, force: true });
    }
  });

  it("reads every variable", () => {
    const c = loadConfig({ HEARTH_DATABASE_URL: URL, HEARTH_BOX_SOCKET: "/tmp/b.sock", HEARTH_LOG_LEVEL: "debug", HEARTH_MIGRATIONS_DIR: "/m", HEARTH_COOKIE_SECURE: "false" }, "/");
    expect(c).toMatchObject({ boxSocket: "/tmp/b.sock", logLevel: "debug", migrationsDir: "/m", cookieSecure: false });
  });

  it("names every bad or missing variable", () => {
    expect(() => loadConfig({}, root)).toThrow(/HEARTH_DATABASE_URL: is required/);
    let msg = "";
    try {
      loadConfig({ HEARTH_DATABASE_URL: "postgres://x", HEARTH_LOG_LEVEL: "loud", HEARTH_COOKIE_SECURE: "maybe" }, root);
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toMatch(/HEARTH_DATABASE_URL/);
    expect(msg).toMatch(/HEARTH_LOG_LEVEL/);
    expect(msg).toMatch(/HEARTH_COOKIE_SECURE/);
  });

  it("says so when there is no migrations directory", () => {
    expect(() => loadConfig({ HEARTH_DATABASE_URL: URL }, os.tmpdir())).toThrow(/HEARTH_MIGRATIONS_DIR/);
  });
});

describe("findMigrationsDir", () => {
  it("walks up from the working directory", () => {
    expect(findMigrationsDir(path.join(root, "apps/admin"))).toBe(path.join(root, "prisma/migrations"));
  });
});
