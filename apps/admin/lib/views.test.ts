import { describe, expect, it } from "vitest";
import { appView } from "@hearth/contracts";
import { appViewOf, domainViewOf, registryViewOf } from "./views";

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
    expect(v).toMatchObject({ url: "https://notes.example.com/", fqdn: "notes.example.com", icon: "/api/v1/appstore/org.example.notes/icon", memoryLimit: 268435456, taskId: "t1", portBindings: { SYNC_PORT: 17000, OTHER_PORT: null }, postInstallMessage: "Hi", error: null });
  });

  it("uses the bare domain for an empty subdomain; no icon for a custom manifest; the error", () => {
    const v = appViewOf({ ...row, subdomain: "", storeId: null, errorCode: "build_failed", errorMessage: "boom", errorTaskId: "t9", installState: "error" }, null);
    expect(v).toMatchObject({ url: "https://example.com/", fqdn: "example.com", icon: null, error: { code: "build_failed", message: "boom", taskId: "t9" }, taskId: null });
  });

  it("survives a manifest without title", () => {
    expect(appViewOf({ ...row, manifest: {} }, null).title).toBe("org.example.notes");
  });
});

describe("domain and registry views", () => {
  it("never include a password", () => {
    const r = registryViewOf({ id: "r", server: "reg", username: "u", createdAt: new Date(0), passwordEnc: "v1:x" } as never);
    expect(Object.keys(r).sort()).toEqual(["createdAt", "id", "server", "username"]);
    expect(domainViewOf({ domain: "example.com", provider: "manual", isDashboardDomain: true, createdAt: new Date(0) })).toEqual({ domain: "example.com", provider: "manual", isDashboardDomain: true, createdAt: "1970-01-01T00:00:00.000Z" });
  });
});
