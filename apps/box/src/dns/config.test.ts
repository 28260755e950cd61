import { describe, expect, it } from "vitest";
import { isHearthError, type HearthError } from "@hearth/contracts";
import { DNS_PROVIDER_SECRET_FIELDS, DnsProviderConfig, Rfc2136Config, Route53Config, parseHostPort } from "@hearth/contracts";
import { createDnsProvider } from "./index.ts";

function rejected(zone: string, config: unknown): HearthError {
  try {
    createDnsProvider(zone, config);
  } catch (e) {
    if (isHearthError(e)) return e;
    throw e;
  }
  throw new Error("expected the config to be rejected");
}

const SECRET = "K+TeFRwNX2E043omaloOH4B31f9o8fYmj10SQTEpwrE=";
const rfc = { kind: "rfc2136", nameserver: "ns1.example.com", tsigKeyName: "hearth-key", tsigSecret: SECRET };

describe("parseHostPort", () => {
  it.each([
    ["ns1.example.com", { host: "ns1.example.com", port: 53 }],
    ["NS1.Example.com.:5353", { host: "ns1.example.com", port: 5353 }],
    ["192.0.2.53", { host: "192.0.2.53", port: 53 }],
    ["127.0.0.1:21053", { host: "127.0.0.1", port: 21053 }],
    ["[2001:db8::53]:53", { host: "2001:db8::53", port: 53 }],
    ["[::1]", { host: "::1", port: 53 }],
    ["2001:db8::53", { host: "2001:db8::53", port: 53 }],
  ])("%s", (input, want) => {
    expect(parseHostPort(input)).toEqual(want);
  });

  it.each(["", "host name", "ns1.example.com:0", "ns1.example.com:65536", "ns1.example.com:x", "http://ns1.example.com", "[nothex]:53", "300.1.1.1", "ns1..example.com", "-bad.example.com"])(
    "rejects %j",
    (input) => {
      expect(parseHostPort(input)).toBeNull();
    },
  );
});

describe("provider config validation", () => {
  it("accepts a minimal rfc2136 config and fills in the algorithm", () => {
    expect(Rfc2136Config.parse({ nameserver: "ns1.example.com", tsigKeyName: "hearth-key", tsigSecret: SECRET })).toEqual({
      nameserver: "ns1.example.com",
      tsigKeyName: "hearth-key",
      tsigAlgorithm: "hmac-sha256",
      tsigSecret: SECRET,
    });
    expect(createDnsProvider("Example.COM.", rfc)).toMatchObject({ kind: "rfc2136", zone: "example.com" });
  });

  it("a bad nameserver says what form it must have", () => {
    const e = rejected("example.com", { ...rfc, nameserver: "ns1 example com" });
    expect(e.code).toBe("invalid");
    expect(e.message).toBe('invalid rfc2136 DNS provider configuration for example.com: nameserver: must be "host" or "host:port" (e.g. "ns1.example.com", "192.0.2.53:53", "[2001:db8::53]:53")');
    expect(e.details).toEqual([{ path: ["nameserver"], message: expect.stringContaining("host:port") }]);
  });

  it("a missing key name, a missing secret and a non-base64 secret are named", () => {
    const { tsigKeyName: _k, tsigSecret: _s, ...noKey } = rfc;
    const e = rejected("example.com", noKey);
    expect(e.message).toContain("tsigKeyName: is required");
    expect(e.message).toContain("tsigSecret: is required");
    const notB64 = "this is not base64!";
    const e2 = rejected("example.com", { ...rfc, tsigSecret: notB64 });
    expect(e2.message).toBe('invalid rfc2136 DNS provider configuration for example.com: tsigSecret: must be base64, as printed by tsig-keygen (the secret "…" value)');
    // the rejected secret is not echoed anywhere
    expect(JSON.stringify(e2.details) + e2.message).not.toContain(notB64);
    expect(rejected("example.com", { ...rfc, tsigSecret: "abc" }).message).toContain("tsigSecret: must be base64");
  });

  it("an unknown algorithm, an unknown field and an unknown kind are refused", () => {
    expect(rejected("example.com", { ...rfc, tsigAlgorithm: "hmac-sha999" }).message).toContain("tsigAlgorithm: must be one of hmac-sha256, hmac-sha384, hmac-sha512");
    expect(rejected("example.com", { ...rfc, tsigkey: "typo" }).message).toMatch(/Unrecognized key.*tsigkey/);
    expect(rejected("example.com", { ...rfc, kind: "godaddy" }).message).toContain("kind must be one of rfc2136, powerdns, cloudflare, route53");
    expect(rejected("example.com", null).code).toBe("invalid");
  });

  it("a bad zone name is refused", () => {
    expect(rejected("not a zone", rfc).message).toBe('zone "not a zone" is not a valid DNS name');
  });

  it("powerdns needs an http(s) URL and a key; serverId defaults to localhost", () => {
    const ok = DnsProviderConfig.parse({ kind: "powerdns", apiUrl: "http://127.0.0.1:8081", apiKey: "k3y" });
    expect(ok).toEqual({ kind: "powerdns", apiUrl: "http://127.0.0.1:8081", apiKey: "k3y", serverId: "localhost" });
    expect(rejected("example.com", { kind: "powerdns", apiUrl: "ftp://x", apiKey: "k" }).message).toContain("apiUrl: must be an http:// or https:// URL");
    expect(rejected("example.com", { kind: "powerdns", apiUrl: "http://user:pw@x", apiKey: "k" }).message).toContain("without user:password");
    expect(rejected("example.com", { kind: "powerdns", apiUrl: "http://x" }).message).toContain("apiKey: is required");
    expect(rejected("example.com", { kind: "powerdns", apiUrl: "http://x", apiKey: "has space" }).message).toContain("apiKey: must be the api-key");
  });

  it("cloudflare needs a token; a zone id must be 32 hex digits", () => {
    expect(createDnsProvider("example.com", { kind: "cloudflare", apiToken: "tok" }).kind).toBe("cloudflare");
    expect(rejected("example.com", { kind: "cloudflare" }).message).toContain("apiToken: is required");
    expect(rejected("example.com", { kind: "cloudflare", apiToken: "t", zoneId: "example.com" }).message).toContain("zoneId: must be the 32 hex digits");
  });

  it("route53 checks the key id, region and hosted zone id", () => {
    const base = { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" };
    expect(Route53Config.parse(base)).toEqual({ ...base, region: "us-east-1" });
    expect(Route53Config.parse({ ...base, hostedZoneId: "/hostedzone/Z0123456789ABCDEFGHIJ" }).hostedZoneId).toBe("/hostedzone/Z0123456789ABCDEFGHIJ");
    expect(rejected("example.com", { kind: "route53", ...base, accessKeyId: "short" }).message).toContain("accessKeyId: must be an AWS access key id");
    expect(rejected("example.com", { kind: "route53", ...base, region: "Europe" }).message).toContain("region: must be an AWS region");
    expect(rejected("example.com", { kind: "route53", ...base, hostedZoneId: "zone-1" }).message).toContain("hostedZoneId: must be a hosted zone id");
    expect(rejected("example.com", { kind: "route53", accessKeyId: base.accessKeyId }).message).toContain("secretAccessKey: is required");
  });

  it("lists the secret fields of every kind", () => {
    expect(DNS_PROVIDER_SECRET_FIELDS).toEqual({ rfc2136: ["tsigSecret"], powerdns: ["apiKey"], cloudflare: ["apiToken"], route53: ["secretAccessKey"] });
  });
});
