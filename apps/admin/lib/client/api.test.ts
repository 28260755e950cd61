import { describe, expect, it } from "vitest";
import { addRegistryRequest } from "@hearth/contracts";
import { issuesOf } from "../api";
import { ApiError, errorText } from "./api";

/** The ApiError the browser gets for a body the server's schema rejects (same issues as the route sends). */
function invalid(body: unknown): ApiError {
  const r = addRegistryRequest.safeParse(body);
  if (r.success) throw new Error("expected the body to be rejected");
  return new ApiError(400, "invalid", "Invalid request body", issuesOf(r.error));
}

describe("ApiError for forms", () => {
  it("finds the issue of one field", () => {
    const e = invalid({ server: "not a host!", username: "bot", password: "x" });
    expect(e.fieldError("server")).toMatch(/registry host/);
    expect(e.fieldError("username")).toBeUndefined();
  });

  it("says when every issue is shown beside a field the form has", () => {
    const e = invalid({ server: "not a host!", username: "", password: "x" });
    expect(e.onlyAtFields(["server", "username", "password"])).toBe(true);
    // an issue on a field the form does not show still needs the general alert
    expect(e.onlyAtFields(["server"])).toBe(false);
  });

  it("an issue without a field (unknown keys, a refine on the whole body) needs the general alert", () => {
    const e = invalid({ server: "r.example.com", username: "bot", password: "x", extra: 1 });
    expect(e.onlyAtFields(["server", "username", "password"])).toBe(false);
  });

  it("other errors are never 'at fields'", () => {
    expect(new ApiError(409, "conflict", "Credentials for r.example.com exist").onlyAtFields(["server"])).toBe(false);
    expect(new ApiError(400, "invalid", "Invalid JSON").onlyAtFields(["server"])).toBe(false);
    expect(errorText(new ApiError(409, "conflict", "exists"))).toBe("exists");
    expect(errorText("boom")).toBe("Something went wrong");
  });
});

describe("ApiError paths inside objects and lists", () => {
  const e = new ApiError(400, "invalid", "The rfc2136 settings are invalid", [
    { path: ["providerConfig", "tsigSecret"], message: "must be base64" },
    { path: ["aliases", 1, "subdomain"], message: "must be one DNS label" },
  ]);

  it("finds the issue at a nested path or inside it", () => {
    expect(e.errorAt(["providerConfig", "tsigSecret"])).toBe("must be base64");
    expect(e.errorAt(["providerConfig", "nameserver"])).toBeUndefined();
    expect(e.errorAt(["aliases", 1])).toBe("must be one DNS label");
    expect(e.errorAt(["aliases", 0])).toBeUndefined();
    expect(e.fieldError("providerConfig")).toBe("must be base64");
  });

  it("is 'at fields' when dotted fields or whole lists cover every issue", () => {
    expect(e.onlyAtFields(["providerConfig.tsigSecret", "aliases"])).toBe(true);
    expect(e.onlyAtFields(["providerConfig.nameserver", "aliases"])).toBe(false);
    // an issue on the settings as a whole (no field) is not shown beside any field
    const whole = new ApiError(400, "invalid", "x", [{ path: ["providerConfig"], message: "the manual provider takes no settings" }]);
    expect(whole.onlyAtFields(["providerConfig.nameserver"])).toBe(false);
  });
});
