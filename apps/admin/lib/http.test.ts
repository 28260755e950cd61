import { describe, expect, it } from "vitest";
import { PROXY_SECRET_HEADER, sourceIpOf } from "./http";

const SECRET = "0123456789abcdef0123456789abcdef";
const h = (o: Record<string, string>) => new Headers(o);

describe("sourceIpOf: X-Real-IP is believed only from nginx", () => {
  it("believes X-Real-IP when nginx's secret header matches", () => {
    expect(sourceIpOf(h({ "x-real-ip": "203.0.113.9", [PROXY_SECRET_HEADER]: SECRET }), SECRET)).toBe("203.0.113.9");
    expect(sourceIpOf(h({ "x-real-ip": "2001:db8::1", [PROXY_SECRET_HEADER]: SECRET }), SECRET)).toBe("2001:db8::1");
  });

  it("a local process sending X-Real-IP without the secret, or a wrong one, is the socket's peer", () => {
    expect(sourceIpOf(h({ "x-real-ip": "203.0.113.9" }), SECRET)).toBe("127.0.0.1");
    expect(sourceIpOf(h({ "x-real-ip": "203.0.113.9", [PROXY_SECRET_HEADER]: "guess" }), SECRET)).toBe("127.0.0.1");
    expect(sourceIpOf(h({ "x-real-ip": "203.0.113.9", [PROXY_SECRET_HEADER]: `${SECRET}0` }), SECRET)).toBe("127.0.0.1");
    expect(sourceIpOf(h({ "x-real-ip": "203.0.113.9", [PROXY_SECRET_HEADER]: "" }), "")).toBe("127.0.0.1");
  });

  it("without a configured secret X-Real-IP is never believed", () => {
    expect(sourceIpOf(h({ "x-real-ip": "203.0.113.9", [PROXY_SECRET_HEADER]: SECRET }), undefined)).toBe("127.0.0.1");
  });

  it("ignores an X-Real-IP that is not an address even with the secret", () => {
    expect(sourceIpOf(h({ "x-real-ip": "evil; drop", [PROXY_SECRET_HEADER]: SECRET }), SECRET)).toBe("127.0.0.1");
  });
});
