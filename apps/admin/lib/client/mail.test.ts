import { describe, expect, it } from "vitest";
import { mailOutboundRequest } from "@hearth/contracts";
import { forgetsSmarthost, mailBody, mailFormOf } from "./mail";

const saved = { mode: "smarthost" as const, host: "smtp.example.com", port: 465, security: "tls" as const, username: "me", hasPassword: true, caCertificate: null };

describe("mail relay form", () => {
  it("round-trips a saved smarthost without sending a password (the saved one is kept)", () => {
    const f = mailFormOf(saved);
    expect(f).toMatchObject({ mode: "smarthost", host: "smtp.example.com", port: "465", security: "tls", username: "me", password: "" });
    const body = mailBody(f);
    expect(body).toEqual({ mode: "smarthost", host: "smtp.example.com", port: 465, security: "tls", username: "me", caCertificate: null });
    expect(mailOutboundRequest.safeParse(body).success).toBe(true);
  });

  it("sends a new password; an empty username removes the login", () => {
    expect(mailBody({ ...mailFormOf(saved), password: "new" })).toMatchObject({ password: "new" });
    expect(mailBody({ ...mailFormOf(saved), username: " ", password: "x" })).toMatchObject({ username: null, password: null });
  });

  it("leaves a bad port for the server to name", () => {
    expect(mailBody({ ...mailFormOf(saved), port: "58x" })).toMatchObject({ port: null });
    expect(mailBody({ ...mailFormOf(saved), port: "" })).not.toHaveProperty("port");
  });

  it("direct delivery: the HELO name or null; asks before forgetting a smarthost", () => {
    const d = { ...mailFormOf(saved), mode: "direct" as const };
    expect(mailBody(d)).toEqual({ mode: "direct", heloName: null });
    expect(mailBody({ ...d, heloName: " mail.example.com " })).toEqual({ mode: "direct", heloName: "mail.example.com" });
    expect(forgetsSmarthost(saved, d)).toBe(true);
    expect(forgetsSmarthost({ mode: "direct", heloName: null }, d)).toBe(false);
    expect(forgetsSmarthost(saved, mailFormOf(saved))).toBe(false);
  });
});
