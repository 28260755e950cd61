import { describe, expect, it } from "vitest";
import { newTotpSecret, totpCode, totpStep, totpUrl } from "./totp";

describe("TOTP", () => {
  const secret = newTotpSecret();
  const now = Date.parse("2026-01-01T00:00:15Z");
  const step = Math.floor(now / 30_000);

  it("accepts the current code and its neighbours (±1 step)", () => {
    expect(totpStep(secret, totpCode(secret, now), now)).toBe(step);
    expect(totpStep(secret, totpCode(secret, now - 30_000), now)).toBe(step - 1);
    expect(totpStep(secret, totpCode(secret, now + 30_000), now)).toBe(step + 1);
  });

  it("refuses older codes and junk", () => {
    expect(totpStep(secret, totpCode(secret, now - 90_000), now)).toBeNull();
    expect(totpStep(secret, "12345", now)).toBeNull();
    expect(totpStep(secret, "abcdef", now)).toBeNull();
  });

  it("makes an otpauth URL", () => {
    expect(totpUrl(secret, "alice")).toMatch(/^otpauth:\/\/totp\/Hearth:alice\?/);
    expect(totpUrl(secret, "alice")).toContain(`secret=${secret}`);
  });
});
