import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LETSENCRYPT_STAGING } from "@hearth/contracts";
import type { Db } from "@hearth/db";
import { CertificateManager } from "../../apps/box/src/domains/certificate-manager";
import { vhostsFromDb } from "../../apps/box/src/proxy/vhost-sync";
import { migratedDatabase } from "../helpers/db";

let t: Awaited<ReturnType<typeof migratedDatabase>>;
beforeAll(async () => {
  t = await migratedDatabase("vhosts");
});
afterAll(async () => {
  await t.drop();
});

const certsAsked: string[] = [];
const NOT_AFTER = new Date("2029-01-01T00:00:00Z");
const FALLBACK_VERSION = `fallback-${NOT_AFTER.getTime()}`;
const proxy = {
  httpsPort: 443,
  async fallbackCert(domain: string) {
    certsAsked.push(domain);
    return { certPath: `/certs/${domain}.crt`, keyPath: `/certs/${domain}.key`, created: false, notAfter: NOT_AFTER };
  },
};

function app(
  id: string,
  subdomain: string,
  domain: string,
  installState: string,
  httpHostPort: number | null,
  more: { runState?: "running" | "stopped"; health?: "healthy" | "dead"; title?: string } = {},
) {
  return {
    id,
    manifestId: "org.example.app",
    manifest: more.title ? { title: more.title } : {},
    ...(more.runState ? { runState: more.runState } : {}),
    ...(more.health ? { health: more.health } : {}),
    version: "1.0.0",
    subdomain,
    domain,
    installState: installState as "installed",
    memoryLimit: BigInt(256 * 1024 * 1024),
    env: {},
    httpHostPort,
  };
}

describe("vhosts derived from the database", () => {
  it("has the dashboard, every app with a port except ones being uninstalled, each with its state and title for its page, and each domain's certificate", async () => {
    await t.db.domain.createMany({
      data: [
        { domain: "example.test", provider: "noop", isDashboardDomain: true },
        { domain: "other.test", provider: "wildcard" },
      ],
    });
    await t.db.app.createMany({
      data: [
        app("a1", "wiki", "example.test", "installed", 20001),
        app("a2", "", "other.test", "pending_restart", 20002),
        app("a3", "gone", "example.test", "pending_uninstall", 20003),
        app("a4", "new", "example.test", "pending_install", null),
        app("a5", "notes", "example.test", "installed", 20005, { runState: "stopped", title: "Notes" }),
        app("a6", "chat", "example.test", "installed", 20006, { health: "dead", title: "Chat" }),
      ],
    });
    const vhosts = await vhostsFromDb(t.db, proxy);
    expect(certsAsked.sort()).toEqual(["example.test", "other.test"]);
    expect(vhosts).toEqual([
      { type: "dashboard", fqdn: "my.example.test", upstreamPort: undefined, certPath: "/certs/example.test.crt", keyPath: "/certs/example.test.key", version: FALLBACK_VERSION },
      {
        type: "app",
        appId: "a1",
        fqdn: "wiki.example.test",
        upstreamPort: 20001,
        state: "starting",
        certPath: "/certs/example.test.crt",
        keyPath: "/certs/example.test.key",
        version: FALLBACK_VERSION,
      },
      { type: "app", appId: "a2", fqdn: "other.test", upstreamPort: 20002, state: "restarting", certPath: "/certs/other.test.crt", keyPath: "/certs/other.test.key", version: FALLBACK_VERSION },
      {
        type: "app",
        appId: "a5",
        fqdn: "notes.example.test",
        upstreamPort: 20005,
        state: "stopped",
        title: "Notes",
        certPath: "/certs/example.test.crt",
        keyPath: "/certs/example.test.key",
        version: FALLBACK_VERSION,
      },
      {
        type: "app",
        appId: "a6",
        fqdn: "chat.example.test",
        upstreamPort: 20006,
        state: "crashed",
        title: "Chat",
        certPath: "/certs/example.test.crt",
        keyPath: "/certs/example.test.key",
        version: FALLBACK_VERSION,
      },
    ]);
  });

  it("serves aliases with vhosts of their own, redirects to the primary URL, and each name with the certificate the picker gives", async () => {
    await t.db.appDomain.createMany({
      data: [
        { id: "x1", appId: "a1", subdomain: "docs", domain: "other.test", type: "alias" },
        { id: "x2", appId: "a1", subdomain: "old-wiki", domain: "example.test", type: "redirect" },
      ],
    });
    const asked: string[] = [];
    const vhosts = await vhostsFromDb(t.db, proxy, {
      tls: async (d, fqdn) => {
        asked.push(`${d.domain}:${fqdn}`);
        return fqdn === "docs.other.test" ? { certPath: "/acme/docs.crt", keyPath: "/acme/docs.key" } : null;
      },
    });
    expect(asked.sort()).toEqual([
      "example.test:chat.example.test",
      "example.test:my.example.test",
      "example.test:notes.example.test",
      "example.test:old-wiki.example.test",
      "example.test:wiki.example.test",
      "other.test:docs.other.test",
      "other.test:other.test",
    ]);
    expect(vhosts).toContainEqual({
      type: "app",
      appId: "a1",
      fileKey: "docs.other.test",
      fqdn: "docs.other.test",
      upstreamPort: 20001,
      state: "starting",
      certPath: "/acme/docs.crt",
      keyPath: "/acme/docs.key",
    });
    expect(vhosts).toContainEqual({
      type: "redirect",
      fqdn: "old-wiki.example.test",
      target: "https://wiki.example.test",
      certPath: "/certs/example.test.crt",
      keyPath: "/certs/example.test.key",
      version: FALLBACK_VERSION,
    });
    expect(vhosts.filter((v) => v.type === "app" && v.appId === "a1")).toHaveLength(2);
  });
});

describe("certificates for a whole sync in one query", () => {
  /** The database with its certificate queries counted. */
  function counting(db: Db): { db: Db; certQueries: () => number } {
    let n = 0;
    const certificate = new Proxy(db.certificate, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver);
        if (typeof v !== "function") return v;
        return (...args: unknown[]) => {
          n++;
          return v.apply(target, args);
        };
      },
    });
    return { db: new Proxy(db, { get: (target, prop, receiver) => (prop === "certificate" ? certificate : Reflect.get(target, prop, receiver)) }), certQueries: () => n };
  }

  it("CertificateManager.tlsPicker reads every certificate once and picks the same files per name as tlsFor", async () => {
    await t.db.domain.update({ where: { domain: "example.test" }, data: { tlsMode: "letsencrypt-staging" } });
    await t.db.domain.update({ where: { domain: "other.test" }, data: { tlsMode: "custom" } });
    const far = new Date("2099-01-01T00:00:00Z");
    await t.db.certificate.createMany({
      data: [
        {
          id: "c1",
          namesKey: "wiki.example.test",
          names: ["wiki.example.test"],
          domain: "example.test",
          kind: "acme",
          directoryUrl: LETSENCRYPT_STAGING,
          fingerprint: "fp-wiki",
          notAfter: far,
          certPath: "/acme/wiki.crt",
          keyPath: "/acme/wiki.key",
        },
        {
          id: "c2",
          namesKey: "old-wiki.example.test",
          names: ["old-wiki.example.test"],
          domain: "example.test",
          kind: "acme",
          directoryUrl: LETSENCRYPT_STAGING,
          notAfter: new Date("2001-01-01T00:00:00Z"),
          certPath: "/acme/old.crt",
          keyPath: "/acme/old.key",
        },
        {
          id: "c3",
          namesKey: "*.other.test,other.test",
          names: ["*.other.test", "other.test"],
          domain: "other.test",
          kind: "custom",
          fingerprint: "fp-custom",
          notAfter: far,
          certPath: "/custom/o.crt",
          keyPath: "/custom/o.key",
        },
      ],
    });
    const log = { info() {}, warn() {} };
    const c = counting(t.db);
    const certs = new CertificateManager({ db: c.db, locks: null, certDir: "/nonexistent", acmeChallengeDir: "/nonexistent", log });
    const perName = await vhostsFromDb(t.db, proxy, { tls: (d, fqdn) => certs.tlsFor(d, fqdn) });
    const perNameQueries = c.certQueries();
    expect(perNameQueries).toBeGreaterThanOrEqual(5); // one per served name: what a sync did before
    let made = 0;
    const once = await vhostsFromDb(t.db, proxy, {
      tls: async () => {
        throw new Error("tlsForSync wins over tls");
      },
      tlsForSync: () => {
        made++;
        return certs.tlsPicker();
      },
    });
    expect(made).toBe(1);
    expect(c.certQueries() - perNameQueries).toBe(1);
    expect(once).toEqual(perName);
    // the picks themselves: the staging certificate of wiki, the expired one not (fallback), the custom wildcard for other.test's names
    expect(once).toContainEqual(expect.objectContaining({ fqdn: "wiki.example.test", certPath: "/acme/wiki.crt", version: "fp-wiki" }));
    expect(once).toContainEqual(expect.objectContaining({ fqdn: "old-wiki.example.test", certPath: "/certs/example.test.crt" }));
    expect(once).toContainEqual(expect.objectContaining({ fqdn: "docs.other.test", certPath: "/custom/o.crt", version: "fp-custom" }));
    expect(once).toContainEqual(expect.objectContaining({ fqdn: "other.test", certPath: "/custom/o.crt" }));
  });
});
