import { afterAll, beforeAll, describe, expect, it } from "vitest";
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
const proxy = {
  async fallbackCert(domain: string) {
    certsAsked.push(domain);
    return { certPath: `/certs/${domain}.crt`, keyPath: `/certs/${domain}.key`, created: false, notAfter: new Date() };
  },
};

function app(id: string, subdomain: string, domain: string, installState: string, httpHostPort: number | null) {
  return {
    id,
    manifestId: "org.example.app",
    manifest: {},
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
  it("has the dashboard, every app with a port except ones being uninstalled, and each domain's certificate", async () => {
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
      ],
    });
    const vhosts = await vhostsFromDb(t.db, proxy);
    expect(certsAsked.sort()).toEqual(["example.test", "other.test"]);
    expect(vhosts).toEqual([
      { type: "dashboard", fqdn: "my.example.test", upstreamPort: undefined, certPath: "/certs/example.test.crt", keyPath: "/certs/example.test.key" },
      { type: "app", appId: "a1", fqdn: "wiki.example.test", upstreamPort: 20001, certPath: "/certs/example.test.crt", keyPath: "/certs/example.test.key" },
      { type: "app", appId: "a2", fqdn: "other.test", upstreamPort: 20002, certPath: "/certs/other.test.crt", keyPath: "/certs/other.test.key" },
    ]);
  });
});
