import { describe, expect, it } from "vitest";
import { checkCsrf, hostOf } from "./csrf";

const base = { host: "my.example.com", origin: null, referer: null } as const;

describe("checkCsrf", () => {
  it("lets safe methods through", () => {
    for (const method of ["GET", "HEAD", "OPTIONS", "get"]) expect(checkCsrf({ ...base, method, auth: "cookie" }).ok).toBe(true);
  });

  it("refuses a cookie POST without Origin or Referer", () => {
    expect(checkCsrf({ ...base, method: "POST", auth: "cookie" })).toEqual({ ok: false, reason: "missing Origin or Referer header" });
  });

  it("refuses a cookie POST from another origin", () => {
    expect(checkCsrf({ ...base, method: "POST", auth: "cookie", origin: "https://evil.example" }).ok).toBe(false);
    expect(checkCsrf({ ...base, method: "DELETE", auth: "cookie", origin: "https://my.example.com.evil.example" }).ok).toBe(false);
    expect(checkCsrf({ ...base, method: "POST", auth: "cookie", origin: "null" }).ok).toBe(false);
    // a different port is a different origin
    expect(checkCsrf({ ...base, method: "POST", auth: "cookie", origin: "https://my.example.com:8443" }).ok).toBe(false);
  });

  it("accepts a cookie POST whose Origin host equals Host", () => {
    expect(checkCsrf({ ...base, method: "POST", auth: "cookie", origin: "https://my.example.com" }).ok).toBe(true);
    expect(checkCsrf({ ...base, method: "POST", auth: "cookie", origin: "https://MY.example.com" }).ok).toBe(true);
    expect(checkCsrf({ method: "PUT", auth: "cookie", host: "127.0.0.1:3000", origin: "http://127.0.0.1:3000", referer: null }).ok).toBe(true);
  });

  it("falls back to Referer when Origin is absent", () => {
    expect(checkCsrf({ ...base, method: "POST", auth: "cookie", referer: "https://my.example.com/settings" }).ok).toBe(true);
    expect(checkCsrf({ ...base, method: "POST", auth: "cookie", referer: "https://evil.example/x" }).ok).toBe(false);
  });

  it("prefers Origin over Referer", () => {
    expect(checkCsrf({ ...base, method: "POST", auth: "cookie", origin: "https://evil.example", referer: "https://my.example.com/" }).ok).toBe(false);
  });

  it("exempts bearer requests", () => {
    expect(checkCsrf({ ...base, method: "POST", auth: "bearer" }).ok).toBe(true);
    expect(checkCsrf({ ...base, method: "POST", auth: "bearer", origin: "https://evil.example" }).ok).toBe(true);
  });

  it("checks uncredentialed requests only when the browser names an origin", () => {
    expect(checkCsrf({ ...base, method: "POST", auth: "none" }).ok).toBe(true);
    expect(checkCsrf({ ...base, method: "POST", auth: "none", origin: "https://evil.example" }).ok).toBe(false);
  });

  it("refuses when Host is missing", () => {
    expect(checkCsrf({ method: "POST", auth: "cookie", host: null, origin: "https://my.example.com", referer: null }).ok).toBe(false);
  });
});

describe("hostOf", () => {
  it("parses http(s) URLs only", () => {
    expect(hostOf("https://a.example:8443/x")).toBe("a.example:8443");
    expect(hostOf("null")).toBeNull();
    expect(hostOf("file:///etc/passwd")).toBeNull();
  });
});
