import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { FileCertificateStore } from "./store";

const pair = (n: number) => ({
  certPem: `-----BEGIN CERTIFICATE-----\ncert${n}\n-----END CERTIFICATE-----\n`,
  keyPem: `-----BEGIN PRIVATE KEY-----\nkey${n}\n-----END PRIVATE KEY-----\n`,
});

describe("FileCertificateStore", () => {
  it("writes cert 0644 and key 0600 behind a symlink, swaps both at once, keeps one generation", async () => {
    const dir = path.join(mkdtempSync(path.join(os.tmpdir(), "hearth-certstore-")), "certs");
    const store = new FileCertificateStore(dir);
    expect(await store.read("app.example.com")).toBeNull();
    const p = await store.write("app.example.com", pair(1));
    expect(p).toEqual({ dir: path.join(dir, "app.example.com"), certPath: path.join(dir, "app.example.com/cert.pem"), keyPath: path.join(dir, "app.example.com/key.pem") });
    expect(lstatSync(p.dir).isSymbolicLink()).toBe(true);
    expect(statSync(p.keyPath).mode & 0o777).toBe(0o600);
    expect(statSync(p.certPath).mode & 0o777).toBe(0o644);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const firstTarget = readlinkSync(p.dir);

    await store.write("app.example.com", pair(2));
    expect(await store.read("app.example.com")).toEqual(pair(2));
    expect(readlinkSync(p.dir)).not.toBe(firstTarget);
    expect(readdirSync(path.join(dir, ".generations"))).toHaveLength(1);
    expect(readdirSync(dir).filter((f) => f.includes(".link-"))).toEqual([]);
  });

  it("concurrent writes to one slug end with a complete pair from one of them", async () => {
    const store = new FileCertificateStore(mkdtempSync(path.join(os.tmpdir(), "hearth-certstore-")));
    await Promise.all([1, 2, 3, 4, 5].map((n) => store.write("_wildcard.example.com", pair(n))));
    const got = (await store.read("_wildcard.example.com"))!;
    const n = /cert(\d)/.exec(got.certPem)![1];
    expect(got.keyPem).toContain(`key${n}`);
    expect(readdirSync(path.join(store.certDir, ".generations"))).toHaveLength(1);
  });

  it("a refused write leaves the old pair byte-identical", async () => {
    const store = new FileCertificateStore(mkdtempSync(path.join(os.tmpdir(), "hearth-certstore-")));
    await store.write("a.example.com", pair(1));
    await expect(store.write("a.example.com", { certPem: "garbage", keyPem: "garbage" })).rejects.toThrow(/not PEM/);
    expect(await store.read("a.example.com")).toEqual(pair(1));
  });

  it("takes over a plain directory at the slug, refuses bad slugs, removes", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "hearth-certstore-"));
    mkdirSync(path.join(dir, "old.example.com"));
    writeFileSync(path.join(dir, "old.example.com", "cert.pem"), "old");
    const store = new FileCertificateStore(dir);
    await store.write("old.example.com", pair(3));
    expect(readFileSync(path.join(dir, "old.example.com", "cert.pem"), "utf8")).toBe(pair(3).certPem);
    expect(readdirSync(path.join(dir, ".generations"))).toHaveLength(1);

    for (const bad of ["../x", "a/b", "", "account", "A.example.com", "x+y"]) {
      expect(() => store.paths(bad), bad).toThrow(expect.objectContaining({ code: "invalid" }));
    }
    await store.remove("old.example.com");
    expect(await store.read("old.example.com")).toBeNull();
    expect(readdirSync(path.join(dir, ".generations"))).toEqual([]);
    await store.remove("never.example.com");
  });
});
