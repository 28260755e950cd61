import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { defaultMigrationsDir, loadConfig } from "./config";

const tmp = mkdtempSync(path.join(os.tmpdir(), "box-config-"));
const groupFile = path.join(tmp, "group");
writeFileSync(groupFile, "root:x:0:\nhearth:x:990:hearth-admin\nstaff:x:50:\n");
const noGroupFile = path.join(tmp, "group-empty");
writeFileSync(noGroupFile, "root:x:0:\n");

const DB = "mysql://u:p@127.0.0.1:3306/hearth";
const load = (env: Record<string, string>, opts: Parameters<typeof loadConfig>[1] = {}) => loadConfig(env, { groupFile, hostname: "server1.example.com", ...opts });

describe("loadConfig", () => {
  it("fills in the defaults", () => {
    const c = load({ HEARTH_DATABASE_URL: DB });
    expect(c).toMatchObject({
      databaseUrl: DB,
      dataDir: "/var/lib/hearth",
      socketPath: "/run/hearth/box.sock",
      socketGroup: { name: "hearth", gid: 990 },
      boxId: "server1.example.com",
      logLevel: "info",
      taskPollMs: 5000,
      taskLeaseMs: 30000,
      taskConcurrency: 4,
      nginxConf: null,
      nginxLayout: "flat",
      httpPort: 80,
      httpsPort: 443,
    });
    expect(c.migrationsDir).toBe(path.resolve(import.meta.dirname, "../../../prisma/migrations"));
  });

  it("reads an nginx of one's own and its ports, refusing a relative path and a bad port", () => {
    expect(load({ HEARTH_DATABASE_URL: DB, HEARTH_NGINX_CONF: "/tmp/n/nginx.conf", HEARTH_HTTP_PORT: "18080", HEARTH_HTTPS_PORT: "18443" })).toMatchObject({
      nginxConf: "/tmp/n/nginx.conf",
      httpPort: 18080,
      httpsPort: 18443,
    });
    expect(() => load({ HEARTH_DATABASE_URL: DB, HEARTH_NGINX_CONF: "nginx.conf", HEARTH_HTTPS_PORT: "70000" })).toThrow(/HEARTH_NGINX_CONF: must be an absolute path[\s\S]*HEARTH_HTTPS_PORT/);
  });

  it("reads the vhost layout, refusing an unknown one", () => {
    expect(load({ HEARTH_DATABASE_URL: DB }).nginxLayout).toBe("flat");
    expect(load({ HEARTH_DATABASE_URL: DB, HEARTH_NGINX_LAYOUT: "flat" }).nginxLayout).toBe("flat");
    expect(load({ HEARTH_DATABASE_URL: DB, HEARTH_NGINX_LAYOUT: "vhost" }).nginxLayout).toBe("per-vhost");
    expect(load({ HEARTH_DATABASE_URL: DB, HEARTH_NGINX_LAYOUT: "per-vhost" }).nginxLayout).toBe("per-vhost");
    expect(() => load({ HEARTH_DATABASE_URL: DB, HEARTH_NGINX_LAYOUT: "one-big-file" })).toThrow(/HEARTH_NGINX_LAYOUT/);
  });

  it("reads every variable", () => {
    const c = load({
      HEARTH_DATABASE_URL: DB,
      HEARTH_DATA_DIR: "/srv/hearth",
      HEARTH_BOX_SOCKET: "/tmp/x/box.sock",
      HEARTH_SOCKET_GROUP: "staff",
      HEARTH_BOX_ID: "box-a",
      HEARTH_LOG_LEVEL: "debug",
      HEARTH_MIGRATIONS_DIR: tmp,
      HEARTH_TASK_POLL_MS: "250",
      HEARTH_TASK_LEASE_MS: "9000",
    });
    expect(c).toMatchObject({
      dataDir: "/srv/hearth",
      socketPath: "/tmp/x/box.sock",
      socketGroup: { name: "staff", gid: 50 },
      boxId: "box-a",
      logLevel: "debug",
      migrationsDir: tmp,
      taskPollMs: 250,
      taskLeaseMs: 9000,
    });
  });

  it("has no socket group when 'hearth' does not exist or the variable is empty", () => {
    expect(load({ HEARTH_DATABASE_URL: DB }, { groupFile: noGroupFile }).socketGroup).toBeNull();
    expect(load({ HEARTH_DATABASE_URL: DB, HEARTH_SOCKET_GROUP: "" }).socketGroup).toBeNull();
    expect(load({ HEARTH_DATABASE_URL: DB, HEARTH_SOCKET_GROUP: "1234" }).socketGroup).toEqual({ name: "1234", gid: 1234 });
  });

  it("treats empty variables as unset", () => {
    const c = load({ HEARTH_DATABASE_URL: DB, HEARTH_DATA_DIR: "", HEARTH_TASK_POLL_MS: "", HEARTH_BOX_ID: "" });
    expect(c.dataDir).toBe("/var/lib/hearth");
    expect(c.taskPollMs).toBe(5000);
    expect(c.boxId).toBe("server1.example.com");
  });

  it("names each bad or missing variable", () => {
    expect(() => load({})).toThrow(/HEARTH_DATABASE_URL: is required/);
    let msg = "";
    try {
      load({
        HEARTH_DATABASE_URL: "postgres://x",
        HEARTH_DATA_DIR: "relative/dir",
        HEARTH_TASK_POLL_MS: "soon",
        HEARTH_BOX_ID: "a/b",
        HEARTH_LOG_LEVEL: "loud",
        HEARTH_BOX_SOCKET: `/tmp/${"x".repeat(120)}`,
      });
    } catch (e) {
      msg = (e as Error).message;
    }
    for (const v of ["HEARTH_DATABASE_URL", "HEARTH_DATA_DIR", "HEARTH_TASK_POLL_MS", "HEARTH_BOX_ID", "HEARTH_LOG_LEVEL", "HEARTH_BOX_SOCKET"]) {
      expect(msg).toContain(`${v}:`);
    }
  });

  it("refuses an explicit socket group that does not exist, and a missing migrations dir", () => {
    expect(() => load({ HEARTH_DATABASE_URL: DB, HEARTH_SOCKET_GROUP: "nosuch" })).toThrow(/HEARTH_SOCKET_GROUP: no group named "nosuch"/);
    expect(() => load({ HEARTH_DATABASE_URL: DB, HEARTH_MIGRATIONS_DIR: "/nonexistent/m" })).toThrow(/HEARTH_MIGRATIONS_DIR/);
  });

  it("reads Hearth's network plan (default 10.217.0.0/16 in /27s) and refuses a wrong one", () => {
    expect(load({ HEARTH_DATABASE_URL: DB }).networkPlan).toEqual({ range: { base: 0x0ad90000, bits: 16 }, size: 27 });
    expect(load({ HEARTH_DATABASE_URL: DB, HEARTH_NETWORK_POOL: "172.20.0.0/14", HEARTH_NETWORK_SIZE: "28" }).networkPlan).toEqual({ range: { base: 0xac140000, bits: 14 }, size: 28 });
    expect(() => load({ HEARTH_DATABASE_URL: DB, HEARTH_NETWORK_POOL: "1.2.0.0/16" })).toThrow(/invalid configuration:\n {2}HEARTH_NETWORK_POOL: 1.2.0.0\/16 is not inside a private range/);
    expect(() => load({ HEARTH_DATABASE_URL: DB, HEARTH_NETWORK_SIZE: "31" })).toThrow(/HEARTH_NETWORK_SIZE: "31"/);
  });

  it("makes a box id out of an odd hostname", () => {
    expect(load({ HEARTH_DATABASE_URL: DB }, { hostname: "-my host!" }).boxId).toBe("my-host-");
  });
});

describe("defaultMigrationsDir", () => {
  it("finds prisma/migrations from src and from dist alike", () => {
    const want = path.resolve(import.meta.dirname, "../../../prisma/migrations");
    expect(defaultMigrationsDir(import.meta.dirname)).toBe(want);
    expect(defaultMigrationsDir(path.resolve(import.meta.dirname, "../dist"))).toBe(want);
  });
});
