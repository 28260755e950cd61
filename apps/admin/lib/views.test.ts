import { describe, expect, it } from "vitest";
import { appView, certificateView, domainView } from "@hearth/contracts";
import { appViewOf, certificateViewOf, domainViewOf, registryViewOf } from "./views";

const row = {
  id: "a1",
  manifestId: "org.example.notes",
  storeId: "org.example.notes",
  manifest: { title: "Notes", icon: "icon.svg", postInstallMessage: "Hi", tcpPorts: { SYNC_PORT: {}, OTHER_PORT: {} } },
  version: "1.2.3",
  subdomain: "notes",
  domain: "example.com",
  installState: "installed" as const,
  runState: "running" as const,
  health: "healthy" as const,
  memoryLimit: 268435456n,
  env: { A: "1" },
  errorCode: null,
  errorMessage: null,
  errorTaskId: null,
  createdAt: new Date("2026-01-02T03:04:05Z"),
  ports: [{ envName: "SYNC_PORT", hostPort: 17000 }],
};

describe("appViewOf", () => {
  it("builds the URL, icon, port bindings and matches the contract", () => {
    const v = appViewOf(row, "t1");
    expect(appView.parse(v)).toEqual(v);
    expect(v).toMatchObject({
      url: "https://notes.example.com/",
      fqdn: "notes.example.com",
      icon: "/api/v1/appstore/org.example.notes/icon",
      memoryLimit: 268435456,
      taskId: "t1",
      portBindings: { SYNC_PORT: 17000, OTHER_PORT: null },
      postInstallMessage: "Hi",
      error: null,
    });
  });

  it("uses the bare domain for an empty subdomain; no icon for a custom manifest; the error", () => {
    const v = appViewOf({ ...row, subdomain: "", storeId: null, errorCode: "build_failed", errorMessage: "boom", errorTaskId: "t9", installState: "error" }, null);
    expect(v).toMatchObject({ url: "https://example.com/", fqdn: "example.com", icon: null, error: { code: "build_failed", message: "boom", taskId: "t9" }, taskId: null });
  });

  it("lists aliases and redirects with their fqdn", () => {
    const v = appViewOf(
      {
        ...row,
        appDomains: [
          { subdomain: "www", domain: "example.org", type: "alias" },
          { subdomain: "", domain: "example.net", type: "redirect" },
        ],
      },
      null,
    );
    expect(appView.parse(v)).toEqual(v);
    expect(v.aliases).toEqual([{ subdomain: "www", domain: "example.org", fqdn: "www.example.org" }]);
    expect(v.redirects).toEqual([{ subdomain: "", domain: "example.net", fqdn: "example.net" }]);
    expect(appViewOf(row, null)).toMatchObject({ aliases: [], redirects: [] });
  });

  it("survives a manifest without title", () => {
    expect(appViewOf({ ...row, manifest: {} }, null).title).toBe("org.example.notes");
  });
});

describe("domain and registry views", () => {
  it("never include a password", () => {
    const r = registryViewOf({ id: "r", server: "reg", username: "u", createdAt: new Date(0), passwordEnc: "v1:x" } as never);
    expect(Object.keys(r).sort()).toEqual(["createdAt", "id", "server", "username"]);
    const d = { domain: "example.com", provider: "manual" as const, tlsMode: "letsencrypt", customCertPem: null, isDashboardDomain: true, createdAt: new Date(0) };
    expect(domainViewOf(d)).toEqual({
      domain: "example.com",
      provider: "manual",
      providerConfig: null,
      tlsMode: "letsencrypt",
      hasCustomCertificate: false,
      isDashboardDomain: true,
      taskId: null,
      createdAt: "1970-01-01T00:00:00.000Z",
    });
  });

  it("a domain view drops the provider's secret fields, whatever the caller passes", () => {
    const d = { domain: "example.com", provider: "rfc2136" as const, tlsMode: "custom", customCertPem: "-----BEGIN CERTIFICATE-----", isDashboardDomain: false, createdAt: new Date(0) };
    const v = domainViewOf(d, { providerConfig: { nameserver: "ns1.example.com", tsigKeyName: "k", tsigAlgorithm: "hmac-sha256", tsigSecret: "c2VjcmV0" }, taskId: "t1" });
    expect(domainView.parse(v)).toEqual(v);
    expect(v).toMatchObject({ providerConfig: { nameserver: "ns1.example.com", tsigKeyName: "k", tsigAlgorithm: "hmac-sha256" }, tlsMode: "custom", hasCustomCertificate: true, taskId: "t1" });
    expect(JSON.stringify(v)).not.toContain("c2VjcmV0");
    const cf = domainViewOf({ ...d, provider: "cloudflare" }, { providerConfig: { apiToken: "x".repeat(40), zoneId: "a".repeat(32) } });
    expect(cf.providerConfig).toEqual({ zoneId: "a".repeat(32) });
  });
});

describe("certificateViewOf", () => {
  const base = {
    id: "c1",
    names: ["app.example.com"],
    domain: "example.com",
    kind: "acme",
    challenge: "http-01",
    issuer: "CN=Pebble",
    serial: "01",
    notBefore: new Date("2026-01-01T00:00:00Z"),
    notAfter: new Date("2026-04-01T00:00:00Z"),
    issuedAt: new Date("2026-01-01T00:00:00Z"),
    lastAttemptAt: null,
    lastError: null,
    failures: 0,
    nextAttemptAt: null,
  };
  it("derives the status from the dates and failures", () => {
    const v = certificateViewOf(base, new Date("2026-02-01T00:00:00Z"));
    expect(certificateView.parse(v)).toEqual(v);
    expect(v).toMatchObject({ status: "valid", notAfter: "2026-04-01T00:00:00.000Z", names: ["app.example.com"], kind: "acme" });
    expect(certificateViewOf(base, new Date("2026-03-15T00:00:00Z")).status).toBe("expiring");
    expect(certificateViewOf(base, new Date("2026-04-02T00:00:00Z")).status).toBe("expired");
    expect(certificateViewOf({ ...base, notAfter: null, notBefore: null }).status).toBe("pending");
    expect(certificateViewOf({ ...base, notAfter: null, lastError: "challenge failed", failures: 1 }).status).toBe("failed");
  });
});
