import { describe, expect, it } from "vitest";
import { acmeSettings, LETSENCRYPT_PRODUCTION, LETSENCRYPT_STAGING } from "@hearth/contracts";
import { acmeBody, acmeEmailNotice, acmeFormOf, missingAcmeFields } from "./acme";

describe("the ACME settings form", () => {
  it("never says no email is set beside a field that shows one", () => {
    const form = acmeFormOf({ directoryUrl: LETSENCRYPT_PRODUCTION, email: null, caCertificate: null }, "owner@example.com");
    const notice = acmeEmailNotice(null, form.email);
    expect(notice).toBe("The email owner@example.com is filled in but not saved yet: certificates cannot be ordered until you save it.");
    expect(notice).not.toMatch(/No email/);
    expect(acmeEmailNotice(null, "  ")).toBe("No email is set yet: certificates cannot be ordered until you save one.");
    expect(acmeEmailNotice("a@example.com", "a@example.com")).toBeNull();
    expect(acmeEmailNotice("a@example.com", "")).toBeNull();
  });

  it("recognises the presets and keeps any other directory as custom", () => {
    expect(acmeFormOf({ directoryUrl: LETSENCRYPT_PRODUCTION, email: null, caCertificate: null }, "owner@example.com")).toEqual({
      preset: "letsencrypt",
      customUrl: "",
      email: "owner@example.com",
      caCertificate: "",
    });
    expect(acmeFormOf({ directoryUrl: LETSENCRYPT_STAGING, email: "a@example.com", caCertificate: null }).preset).toBe("letsencrypt-staging");
    expect(acmeFormOf({ directoryUrl: "https://127.0.0.1:14000/dir", email: "a@example.com", caCertificate: "PEM" })).toMatchObject({
      preset: "custom",
      customUrl: "https://127.0.0.1:14000/dir",
      caCertificate: "PEM",
    });
  });

  it("sends what the server's schema accepts; an empty CA certificate is null", () => {
    const body = acmeBody({ preset: "custom", customUrl: " https://ca.example.com/acme/directory ", email: " admin@example.com ", caCertificate: "  " });
    expect(body).toEqual({ directoryUrl: "https://ca.example.com/acme/directory", email: "admin@example.com", caCertificate: null });
    expect(acmeSettings.safeParse(body).success).toBe(true);
    expect(acmeBody({ preset: "letsencrypt", customUrl: "ignored", email: "a@example.com", caCertificate: "" }).directoryUrl).toBe(LETSENCRYPT_PRODUCTION);
  });

  it("asks for the email, and for the URL of a custom directory", () => {
    expect(missingAcmeFields({ preset: "custom", customUrl: "", email: "", caCertificate: "" })).toEqual({ email: expect.any(String), directoryUrl: expect.any(String) });
    expect(missingAcmeFields({ preset: "letsencrypt", customUrl: "", email: "a@example.com", caCertificate: "" })).toEqual({});
  });
});
