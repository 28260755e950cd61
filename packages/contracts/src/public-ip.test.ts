import { networkInterfaces, type NetworkInterfaceInfo } from "node:os";
import { isIPv4, isIPv6 } from "node:net";
import { describe, expect, it } from "vitest";
import { defaultRouteSource, detectPublicIp, isPublicAddress, pickPublicIps } from "./public-ip";

function v4(address: string, internal = false): NetworkInterfaceInfo {
  return { address, netmask: "255.255.255.0", family: "IPv4", mac: "02:00:00:00:00:01", internal, cidr: `${address}/24` };
}
function v6(address: string, scopeid = 0): NetworkInterfaceInfo {
  return { address, netmask: "ffff:ffff:ffff:ffff::", family: "IPv6", mac: "02:00:00:00:00:01", internal: false, cidr: `${address}/64`, scopeid };
}

describe("public address detection", () => {
  it("classifies addresses", () => {
    for (const ip of ["8.8.8.8", "1.1.1.1", "100.128.0.1", "172.32.0.1", "2a01:4f8::1", "2600::1"]) expect(isPublicAddress(ip), ip).toBe(true);
    for (const ip of ["10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "127.0.0.1", "169.254.1.1", "100.64.0.1", "192.0.2.2", "198.51.100.1", "203.0.113.9", "0.0.0.0", "224.0.0.1", "::1", "fe80::1", "fd00::2", "fc00::1", "2001:db8::1", "::ffff:8.8.8.8", "not an ip"]) {
      expect(isPublicAddress(ip), ip).toBe(false);
    }
  });

  it("picks the first global address of each family, skipping docker bridges, loopback and link-local", () => {
    const ifs = {
      lo: [v4("127.0.0.1", true), { ...v6("::1"), internal: true }],
      docker0: [v4("172.17.0.1"), v6("fe80::42:acff:fe11:1", 3)],
      eth0: [v4("10.0.0.5"), v4("203.0.113.7"), v4("198.51.100.20"), v4("5.9.10.11"), v6("fe80::1", 2), v6("fd00::5"), v6("2A01:4F8:0:0::2")],
      eth1: [v4("5.9.10.12"), v6("2a01:4f8::3")],
    };
    expect(pickPublicIps(ifs)).toEqual({ ipv4: "5.9.10.11", ipv6: "2a01:4f8::2" });
    expect(pickPublicIps({ eth0: [v4("192.168.1.10"), v6("fd00::1")] })).toEqual({});
  });

  it("on this machine: returns addresses the machine really has, or the default-route source", async () => {
    const r = await detectPublicIp();
    const own = Object.values(networkInterfaces())
      .flat()
      .map((i) => i!.address);
    if (r.ipv4) {
      expect(isIPv4(r.ipv4)).toBe(true);
      expect(own).toContain(r.ipv4);
      expect(r.source.ipv4).toBe(isPublicAddress(r.ipv4) && pickPublicIps(networkInterfaces()).ipv4 === r.ipv4 ? "interface" : "default-route");
    }
    if (r.ipv6) {
      expect(isIPv6(r.ipv6)).toBe(true);
      expect(r.source.ipv6).toBeDefined();
    }
    // the fallback agrees with the kernel's choice for the default route
    if (r.source.ipv4 === "default-route") expect(r.ipv4).toBe(await defaultRouteSource(4));
  });
});
