import { describe, expect, it } from "vitest";
import { HearthError } from "@hearth/contracts";
import { authorProblem, hashRelayPassword, newRelayPassword, senderAddressFor, usernameFor, verifyRelayPassword } from "./accounts";
import { createOutbound } from "./outbound";
import { isPrivateAddress } from "./relay";
import { accountFromCredentials } from "./sendmail.addon";

const msg = (head: string) => Buffer.from(`${head.replace(/\n/g, "\r\n")}\r\n\r\nbody\r\nFrom: ceo@example.test\r\n`);
const ME = "blog.app@example.test";

describe("mail relay accounts", () => {
  it("sender addresses are <subdomain>.app@<domain>, app@<domain> on the bare domain", () => {
    expect(senderAddressFor({ subdomain: "Blog", domain: "Example.Test." })).toBe(ME);
    expect(senderAddressFor({ subdomain: "a.b", domain: "example.test" })).toBe("a.b.app@example.test");
    expect(senderAddressFor({ subdomain: "", domain: "example.test" })).toBe("app@example.test");
    expect(() => senderAddressFor({ subdomain: "x y", domain: "example.test" })).toThrow(HearthError);
    expect(() => senderAddressFor({ subdomain: "x", domain: "localhost" })).toThrow(/not a domain/);
  });

  it("usernames are app ids", () => {
    expect(usernameFor("0F8FAD5B-D9CB-469F-A165-70867728950E")).toBe("0f8fad5b-d9cb-469f-a165-70867728950e");
    expect(() => usernameFor("admin")).toThrow(/not a UUID/);
  });

  it("passwords: 192 random bits, scrypt-hashed, verified in constant time", async () => {
    const p = newRelayPassword();
    expect(Buffer.from(p, "base64url").length).toBe(24);
    expect(newRelayPassword()).not.toBe(p);
    const h = await hashRelayPassword(p);
    expect(h).not.toContain(p);
    expect(await verifyRelayPassword(p, h)).toBe(true);
    expect(await verifyRelayPassword(p + "x", h)).toBe(false);
    expect(await verifyRelayPassword(p, await hashRelayPassword(p))).toBe(true); // salted: new hash, same answer
    expect(await verifyRelayPassword(p, "scrypt$1$1$1$x$y")).toBe(false);
    expect(await verifyRelayPassword(p, "plain")).toBe(false);
  });

  it("the From: header must be exactly the account's address (and Sender: too); only the header block counts", () => {
    expect(authorProblem(msg(`From: ${ME}\nSubject: x`), ME)).toBeNull();
    expect(authorProblem(msg(`From: "Blog, the" <BLOG.app@example.test>`), ME)).toBeNull();
    expect(authorProblem(msg(`From: =?UTF-8?B?w4lsaXNl?=\n <${ME}>`), ME)).toBeNull(); // folded, encoded name
    expect(authorProblem(msg(`Subject: x`), ME)).toMatch(/no From/);
    expect(authorProblem(msg(`From: ${ME}\nFrom: ${ME}`), ME)).toMatch(/more than one/);
    expect(authorProblem(msg(`From: ${ME}, ceo@example.test`), ME)).toMatch(/exactly one/);
    expect(authorProblem(msg(`From: ceo@example.test`), ME)).toMatch(/must be/);
    expect(authorProblem(msg(`From: "${ME}" <ceo@example.test>`), ME)).toMatch(/must be/);
    expect(authorProblem(msg(`From: ${ME}\nSender: ceo@example.test`), ME)).toMatch(/Sender/);
    expect(authorProblem(msg(`From: ${ME}\nSender: ${ME}`), ME)).toBeNull();
  });

  it("credentials become a relay account only when complete", () => {
    const ok = { username: "0f8fad5b-d9cb-469f-a165-70867728950e", password: "p", passwordHash: "scrypt$…", from: ME };
    expect(accountFromCredentials(ok)).toEqual({ username: ok.username, passwordHash: ok.passwordHash, from: ME });
    expect(accountFromCredentials({ ...ok, passwordHash: "" })).toBeNull();
    expect(accountFromCredentials({ ...ok, username: "root" })).toBeNull();
    expect(accountFromCredentials(null)).toBeNull();
  });

  it("only loopback and private ranges may connect", () => {
    for (const a of ["127.0.0.1", "::ffff:172.18.0.5", "10.1.2.3", "192.168.0.9", "::1", "fd00::1"]) expect(isPrivateAddress(a), a).toBe(true);
    for (const a of ["8.8.8.8", "::ffff:1.2.3.4", "172.32.0.1", "2001:db8::1", "garbage"]) expect(isPrivateAddress(a), a).toBe(false);
  });

  it("outbound settings are validated", () => {
    expect(() => createOutbound({ mode: "smarthost", host: "" })).toThrow(/host/);
    expect(() => createOutbound({ mode: "smarthost", host: "smtp.test", username: "u" })).toThrow(/go together/);
    expect(() => createOutbound({ mode: "direct" } as never)).toThrow(/heloName/);
    expect(() => createOutbound({ mode: "pigeon" } as never)).toThrow(HearthError);
    expect(createOutbound({ mode: "smarthost", host: "smtp.test", username: "u", password: "p" }).mode).toBe("smarthost");
  });
});
