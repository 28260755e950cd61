import { mkdtempSync, readdirSync, statSync, utimesSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { DnsProvider } from "../dns/provider";
import { AcmeEngine, DEFAULT_DIRECTORY_URL, LETSENCRYPT_PRODUCTION, LETSENCRYPT_STAGING } from "./acme";

/** Input checks that refuse before anything is sent (the protocol itself is tested against Pebble in test/integration/acme.test.ts). */

const tmp = () => mkdtempSync(path.join(os.tmpdir(), "hearth-acme-unit-"));
// an unreachable directory: any request would fail with `external`, so `invalid` proves nothing was sent
const engine = () => new AcmeEngine({ certDir: tmp(), acmeChallengeDir: tmp(), settings: { directoryUrl: "https://127.0.0.1:1/dir" } });
const zoneProvider = (zone: string): DnsProvider => ({
  kind: "test",
  zone,
  get: async () => null,
  upsert: async () => undefined,
  remove: async () => undefined,
  verify: async () => undefined,
});
const invalid = (message: RegExp) => expect.objectContaining({ name: "HearthError", code: "invalid", message: expect.stringMatching(message) });

describe("AcmeEngine settings", () => {
  it("defaults to Let's Encrypt production and validates the directory URL and email", () => {
    expect(DEFAULT_DIRECTORY_URL).toBe(LETSENCRYPT_PRODUCTION);
    expect(LETSENCRYPT_STAGING).toMatch(/^https:\/\/acme-staging-v02\.api\.letsencrypt\.org\/directory$/);
    expect(new AcmeEngine({ certDir: tmp(), acmeChallengeDir: tmp() }).directoryUrl).toBe(LETSENCRYPT_PRODUCTION);
    expect(() => new AcmeEngine({ certDir: tmp(), acmeChallengeDir: tmp(), settings: { directoryUrl: "http://ca.example/dir" } })).toThrow(invalid(/must use https/));
    expect(() => new AcmeEngine({ certDir: tmp(), acmeChallengeDir: tmp(), settings: { directoryUrl: "not a url" } })).toThrow(invalid(/is not a URL/));
    expect(() => engine().updateSettings({ directoryUrl: LETSENCRYPT_STAGING, email: "nobody" })).toThrow(invalid(/not an email address/));
    const e = engine();
    e.updateSettings({ directoryUrl: LETSENCRYPT_STAGING, email: " admin@example.com " });
    expect(e.directoryUrl).toBe(LETSENCRYPT_STAGING);
  });
});

describe("issueCertificate input", () => {
  it("refuses wildcards without dns-01", () => {
    expect(() => engine().issueCertificate({ names: ["*.example.com", "example.com"], challenge: "http-01" })).toThrow(
      invalid(/wildcard names \(\*\.example\.com\) can only be validated with dns-01/),
    );
  });

  it("refuses dns-01 without provider or propagation check, and names outside the zone", () => {
    const wait = async () => undefined;
    expect(() => engine().issueCertificate({ names: ["a.example.com"], challenge: "dns-01", waitForPropagation: wait })).toThrow(invalid(/needs the domain's DNS provider/));
    expect(() => engine().issueCertificate({ names: ["a.example.com"], challenge: "dns-01", dnsProvider: zoneProvider("example.com") })).toThrow(invalid(/propagation/));
    expect(() =>
      engine().issueCertificate({ names: ["*.example.com", "a.example.org", "badexample.com"], challenge: "dns-01", dnsProvider: zoneProvider("example.com"), waitForPropagation: wait }),
    ).toThrow(invalid(/a\.example\.org, badexample\.com not in the DNS zone example\.com/));
  });

  it("refuses bad names, unknown challenges and bad slugs", () => {
    expect(() => engine().issueCertificate({ names: ["localhost"], challenge: "http-01" })).toThrow(invalid(/needs a domain/));
    expect(() => engine().issueCertificate({ names: [], challenge: "http-01" })).toThrow(invalid(/at least one name/));
    expect(() => engine().issueCertificate({ names: ["a.example.com"], challenge: "tls-alpn-01" as never })).toThrow(invalid(/unknown ACME challenge/));
    expect(() => engine().issueCertificate({ names: ["a.example.com"], challenge: "http-01", slug: "../etc" })).toThrow(invalid(/invalid certificate slug/));
  });
});

describe("sweepStaleTokens", () => {
  it("removes token files older than an hour, keeps fresh ones", async () => {
    const dir = tmp();
    const e = new AcmeEngine({ certDir: tmp(), acmeChallengeDir: dir, settings: { directoryUrl: "https://127.0.0.1:1/dir" } });
    writeFileSync(path.join(dir, "old-token"), "x");
    writeFileSync(path.join(dir, "new-token"), "y");
    const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000);
    utimesSync(path.join(dir, "old-token"), twoHoursAgo, twoHoursAgo);
    expect(await e.sweepStaleTokens()).toEqual(["old-token"]);
    expect(readdirSync(dir)).toEqual(["new-token"]);
    expect(statSync(path.join(dir, "new-token")).isFile()).toBe(true);
    const gone = new AcmeEngine({ certDir: tmp(), acmeChallengeDir: path.join(dir, "missing") });
    expect(await gone.sweepStaleTokens()).toEqual([]);
  });
});
