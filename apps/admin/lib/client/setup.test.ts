import { describe, expect, it } from "vitest";
import type { CertificateView } from "@hearth/contracts";
import { outcomeOf } from "./setup";

const cert = (status: CertificateView["status"]): CertificateView => ({
  id: "c",
  names: ["my.example.com"],
  domain: "example.com",
  kind: "acme",
  challenge: "dns-01",
  issuer: null,
  serial: null,
  notBefore: null,
  notAfter: null,
  status,
  issuedAt: null,
  lastAttemptAt: null,
  lastError: status === "failed" ? "DNS problem" : null,
  nextAttemptAt: null,
});
const base = { tlsMode: "letsencrypt" as const, cert: undefined, taskDone: false, redirected: false, reachable: null };

describe("the first run's domain step", () => {
  it("waits while the certificate is ordered and nginx is reloaded", () => {
    expect(outcomeOf(base)).toEqual({ kind: "waiting", issued: false });
    expect(outcomeOf({ ...base, cert: cert("pending") })).toEqual({ kind: "waiting", issued: false });
    expect(outcomeOf({ ...base, cert: cert("valid") })).toEqual({ kind: "waiting", issued: true });
  });

  it("once this address redirects, moves on when the browser opens https://my.<domain>/, without the task's end or the certificate list (unreadable by then)", () => {
    expect(outcomeOf({ ...base, redirected: true })).toEqual({ kind: "waiting", issued: true });
    expect(outcomeOf({ ...base, redirected: true, reachable: true })).toEqual({ kind: "trusted" });
    expect(outcomeOf({ ...base, redirected: true, reachable: false })).toEqual({ kind: "unreachable", staging: false });
  });

  it("never calls a self-signed or staging certificate trusted", () => {
    expect(outcomeOf({ ...base, tlsMode: "fallback", taskDone: true }).kind).toBe("untrusted");
    expect(outcomeOf({ ...base, tlsMode: "letsencrypt-staging", redirected: true, reachable: true }).kind).toBe("untrusted");
    expect(outcomeOf({ ...base, tlsMode: "letsencrypt-staging", redirected: true, reachable: false })).toEqual({ kind: "unreachable", staging: true });
  });

  it("says so when the certificate could not be issued, but not before the task is done (it retries within)", () => {
    expect(outcomeOf({ ...base, cert: cert("failed"), taskDone: true })).toMatchObject({ kind: "failed" });
    expect(outcomeOf({ ...base, taskDone: true })).toEqual({ kind: "failed", cert: undefined });
    expect(outcomeOf({ ...base, cert: cert("failed") })).toEqual({ kind: "waiting", issued: false });
  });

  it("a certificate without the redirect: both addresses work", () => {
    expect(outcomeOf({ ...base, cert: cert("valid"), taskDone: true })).toEqual({ kind: "available" });
  });
});
