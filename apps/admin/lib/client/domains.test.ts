import { describe, expect, it } from "vitest";
import { addDomainRequest, parseProviderConfig, updateDomainRequest, type CertificateView, type DomainView } from "@hearth/contracts";
import {
  addDomainBody,
  certificateFor,
  certificateSummary,
  covers,
  domainFormOf,
  emptyDomainForm,
  missingDomainFields,
  PROVIDERS,
  providerConfigBody,
  tlsModesFor,
  updateDomainBody,
  type DomainFormValues,
} from "./domains";

const view = (over: Partial<DomainView> = {}): DomainView => ({
  domain: "example.com",
  provider: "rfc2136",
  providerConfig: { nameserver: "192.0.2.53:53", tsigKeyName: "hearth-key", tsigAlgorithm: "hmac-sha256" },
  tlsMode: "letsencrypt",
  hasCustomCertificate: false,
  isDashboardDomain: true,
  taskId: null,
  createdAt: "2025-01-01T00:00:00.000Z",
  ...over,
});

const cert = (over: Partial<CertificateView>): CertificateView => ({
  id: "c1",
  names: ["www.example.com"],
  domain: "example.com",
  kind: "acme",
  challenge: "dns-01",
  issuer: "Pebble Intermediate CA",
  serial: null,
  notBefore: null,
  notAfter: null,
  status: "valid",
  issuedAt: null,
  lastAttemptAt: null,
  lastError: null,
  nextAttemptAt: null,
  ...over,
});

describe("the domain form's provider settings", () => {
  it("has a field for every setting of each API provider's schema (the form can make any valid config)", () => {
    for (const p of PROVIDERS.filter((x) => x.api)) {
      // every field the schema requires is a form field
      const r = parseProviderConfig(p.value, {});
      expect(r.ok).toBe(false);
      if (!r.ok) for (const i of r.issues) expect(p.fields.map((f) => `providerConfig.${f.name}`)).toContain(i.path);
    }
  });

  it("a complete rfc2136 form makes a body the server's schemas accept", () => {
    const v: DomainFormValues = {
      ...emptyDomainForm("rfc2136"),
      domain: " Example.COM ",
      config: { rfc2136: { nameserver: "127.0.0.1:5353", tsigKeyName: "hearth-key", tsigSecret: "c2VjcmV0c2VjcmV0c2VjcmV0", tsigAlgorithm: "" } },
    };
    expect(missingDomainFields(v, null)).toEqual({});
    const body = addDomainBody(v);
    expect(body).toEqual({
      domain: "example.com",
      provider: "rfc2136",
      providerConfig: { nameserver: "127.0.0.1:5353", tsigKeyName: "hearth-key", tsigSecret: "c2VjcmV0c2VjcmV0c2VjcmV0" },
      tlsMode: "letsencrypt",
    });
    expect(addDomainRequest.safeParse(body).success).toBe(true);
    expect(parseProviderConfig("rfc2136", body.providerConfig).ok).toBe(true);
  });

  it("names each missing required field, with the secret required only for a new provider", () => {
    const v = { ...emptyDomainForm("rfc2136"), domain: "example.com" };
    expect(missingDomainFields(v, null)).toEqual({
      "providerConfig.nameserver": "Enter the nameserver",
      "providerConfig.tsigKeyName": "Enter the TSIG key name",
      "providerConfig.tsigSecret": "Enter the TSIG secret",
    });
    // editing the same provider: the secret may stay empty (the server keeps the saved one)
    const edit = domainFormOf(view());
    expect(missingDomainFields(edit, view())).toEqual({});
    // switching provider on edit needs that provider's secret
    const switched = { ...edit, provider: "powerdns" as const, config: { ...edit.config, powerdns: { apiUrl: "http://127.0.0.1:8081" } } };
    expect(Object.keys(missingDomainFields(switched, view()))).toEqual(["providerConfig.apiKey"]);
  });

  it("an edit never sends a secret it does not have, and keeps the other settings", () => {
    const edit = domainFormOf(view());
    // the stored settings come back into the form, the secret does not (the API never sends it)
    expect(edit.config.rfc2136).toEqual({ nameserver: "192.0.2.53:53", tsigKeyName: "hearth-key", tsigAlgorithm: "hmac-sha256" });
    const body = updateDomainBody(edit);
    expect(body).toEqual({ provider: "rfc2136", tlsMode: "letsencrypt", providerConfig: { nameserver: "192.0.2.53:53", tsigKeyName: "hearth-key", tsigAlgorithm: "hmac-sha256" } });
    expect(updateDomainRequest.safeParse(body).success).toBe(true);
    // what the server does with it: the stored secret fills the gap
    const stored = { nameserver: "192.0.2.53:53", tsigKeyName: "hearth-key", tsigAlgorithm: "hmac-sha256", tsigSecret: "c2VjcmV0" };
    expect(parseProviderConfig("rfc2136", body.providerConfig, stored)).toMatchObject({ ok: true, config: { tsigSecret: "c2VjcmV0" } });
    // unless the secret would go to another server: then it must be typed again
    expect(parseProviderConfig("rfc2136", body.providerConfig, { ...stored, nameserver: "198.51.100.53:53" })).toEqual({
      ok: false,
      issues: [{ path: "providerConfig.tsigSecret", message: "must be entered again when nameserver changes" }],
    });
  });

  it("keeps settings the form has no field for (an endpoint set through the API)", () => {
    const edit = domainFormOf(view({ provider: "cloudflare", providerConfig: { zoneId: "0123456789abcdef0123456789abcdef", apiUrl: "http://127.0.0.1:9999/client/v4" } }));
    expect(providerConfigBody(edit)).toEqual({ zoneId: "0123456789abcdef0123456789abcdef", apiUrl: "http://127.0.0.1:9999/client/v4" });
  });

  it("providers without settings send none", () => {
    const v = { ...emptyDomainForm("manual"), domain: "example.com" };
    expect(addDomainBody(v)).toEqual({ domain: "example.com", provider: "manual", tlsMode: "letsencrypt" });
    expect(addDomainRequest.safeParse(addDomainBody(v)).success).toBe(true);
  });
});

describe("TLS modes", () => {
  it("offers the wildcard only with an API provider", () => {
    expect(tlsModesFor("rfc2136").map((m) => m.value)).toContain("letsencrypt-wildcard");
    expect(tlsModesFor("manual").map((m) => m.value)).not.toContain("letsencrypt-wildcard");
    expect(tlsModesFor("manual").map((m) => m.value)).toEqual(["letsencrypt", "letsencrypt-staging", "custom", "fallback"]);
  });

  it("custom needs a certificate and a key, unless the domain already has them", () => {
    const v = { ...emptyDomainForm("manual"), domain: "example.com", tlsMode: "custom" as const };
    expect(Object.keys(missingDomainFields(v, null)).sort()).toEqual(["customCertificate", "customKey"]);
    const custom = view({ provider: "manual", providerConfig: null, tlsMode: "custom", hasCustomCertificate: true });
    const edit = domainFormOf(custom);
    expect(missingDomainFields(edit, custom)).toEqual({});
    // nothing new uploaded: the stored pair stays (not sent)
    expect(updateDomainBody(edit)).toEqual({ provider: "manual", tlsMode: "custom" });
    expect(updateDomainBody({ ...edit, customCertificate: "-----BEGIN CERTIFICATE-----\n" })).toEqual({ provider: "manual", tlsMode: "custom", customCertificate: "-----BEGIN CERTIFICATE-----\n" });
    // a domain switching to custom needs both
    const switching = { ...domainFormOf(view()), tlsMode: "custom" as const };
    expect(Object.keys(missingDomainFields(switching, view())).sort()).toEqual(["customCertificate", "customKey"]);
  });
});

describe("certificates in the dashboard", () => {
  it("a wildcard covers one label, never the bare domain or deeper names", () => {
    expect(covers(["*.example.com"], "my.example.com")).toBe(true);
    expect(covers(["*.example.com"], "example.com")).toBe(false);
    expect(covers(["*.example.com"], "a.b.example.com")).toBe(false);
    expect(covers(["*.example.com"], "my.example.org")).toBe(false);
    expect(covers(["my.example.com"], "my.example.com")).toBe(true);
  });

  it("finds the certificate serving a name: its own first, else the wildcard", () => {
    const wild = cert({ id: "w", names: ["*.example.com", "example.com"] });
    const own = cert({ id: "o", names: ["my.example.com"] });
    expect(certificateFor([wild, own], "my.example.com")?.id).toBe("o");
    expect(certificateFor([wild], "my.example.com")?.id).toBe("w");
    expect(certificateFor([wild], "my.example.org")).toBeUndefined();
  });

  it("summarises a domain's certificates, worst first", () => {
    const list = [cert({ status: "valid" }), cert({ status: "valid" }), cert({ status: "failed" }), cert({ domain: "other.org", status: "expired" })];
    expect(certificateSummary(list, "example.com")).toEqual({ text: "1 failed · 2 valid", worst: "failed" });
    expect(certificateSummary(list, "none.org")).toEqual({ text: "", worst: null });
  });
});
