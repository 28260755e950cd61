import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { openSecret, parseSecretKey, sealSecret } from "./secrets";

describe("secrets at rest", () => {
  const key = randomBytes(32);
  it("round-trips and never stores the plaintext", () => {
    const sealed = sealSecret(key, "registry p4ssword ✓");
    expect(sealed).not.toContain("p4ssword");
    expect(openSecret(key, sealed)).toBe("registry p4ssword ✓");
    expect(sealSecret(key, "same")).not.toBe(sealSecret(key, "same"));
  });
  it("refuses a wrong key or a changed byte", () => {
    const sealed = sealSecret(key, "secret");
    expect(() => openSecret(randomBytes(32), sealed)).toThrow();
    const parts = sealed.split(":");
    const body = Buffer.from(parts[3]!, "base64");
    body[0]! ^= 1;
    expect(() => openSecret(key, [...parts.slice(0, 3), body.toString("base64")].join(":"))).toThrow();
    expect(() => openSecret(key, "plain")).toThrow(/not a sealed secret/);
  });
  it("wants a 32-byte base64 key", () => {
    expect(parseSecretKey(randomBytes(32).toString("base64")).length).toBe(32);
    expect(() => parseSecretKey("c2hvcnQ=")).toThrow(/32 bytes/);
  });
});
