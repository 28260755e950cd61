import { describe, expect, it } from "vitest";
import { sourceNetOf } from "./net";

describe("sourceNetOf", () => {
  it("keeps an IPv4 address", () => {
    expect(sourceNetOf("203.0.113.7")).toBe("203.0.113.7");
    expect(sourceNetOf("127.0.0.1")).toBe("127.0.0.1");
  });

  it("counts an IPv6 address by its /64, however it is written", () => {
    expect(sourceNetOf("2001:db8:0:1:aaaa::5")).toBe("2001:db8:0:1::/64");
    expect(sourceNetOf("2001:0DB8:0000:0001:ffff:ffff:ffff:ffff")).toBe("2001:db8:0:1::/64");
    expect(sourceNetOf("2001:db8:0:1::")).toBe("2001:db8:0:1::/64");
    expect(sourceNetOf("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(sourceNetOf("::1")).toBe("0:0:0:0::/64");
    expect(sourceNetOf("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
    expect(sourceNetOf("64:ff9b::192.0.2.33")).toBe("64:ff9b:0:0::/64");
  });

  it("two addresses of one /64 are one network, of neighbouring /64s two", () => {
    expect(sourceNetOf("2001:db8:1:2::a")).toBe(sourceNetOf("2001:db8:1:2:ffff:1:2:3"));
    expect(sourceNetOf("2001:db8:1:2::a")).not.toBe(sourceNetOf("2001:db8:1:3::a"));
  });

  it("counts an IPv4-mapped IPv6 address as its IPv4 address", () => {
    expect(sourceNetOf("::ffff:198.51.100.4")).toBe("198.51.100.4");
    expect(sourceNetOf("::FFFF:198.51.100.4")).toBe("198.51.100.4");
  });

  it("fits the 45-character column and leaves anything else as it is", () => {
    expect(sourceNetOf("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff").length).toBeLessThanOrEqual(45);
    expect(sourceNetOf("")).toBe("");
    expect(sourceNetOf("not an address")).toBe("not an address");
  });
});
