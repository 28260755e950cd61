import { spawnSync } from "node:child_process";
import { networkInterfaces, type NetworkInterfaceInfo } from "node:os";
import { describe, expect, it } from "vitest";
import { defaultRouteSource, detectPublicIp, isPublicAddress, pickPublicIps } from "./public-ip";

function v4(address: string, internal = false): NetworkInterfaceInfo {
  return { address, netmask: "255.255.255.0", family: "IPv4", mac: "02:00:00:00:00:01", internal, cidr: `${address}/24` };
}
function v6(address: string, scopeid = 0): NetworkInterfaceInfo {
  return { address, netmask: "ffff:ffff:ffff:ffff::", family: "IPv6", mac: "02:00:00:00:00:01", internal: false, cidr: `${address}/64`, scopeid };
}

/** The source address iproute2 reports for the route to the same targets defaultRouteSource uses; undefined when there is none. */
function kernelRouteSource(family: 4 | 6): string | undefined {
  const target = family === 4 ? "8.8.8.8" : "2001:4860:4860::8888";
  const r = spawnSync("ip", [`-${family}`, "route", "get", target], { encoding: "utf8" });
  if (r.error) throw new Error(`ip (iproute2) is needed by this test: ${r.error.message}`);
  const src = / src (\S+)/.exec(r.stdout)?.[1];
  return src ? new URL(`http://${family === 6 ? `[${src}]` : src}/`).hostname.replace(/^\[|\]$/g, "") : undefined;
}

describe("public address detection", () => {
  it("classifies addresses", () => {
    for (const ip of ["8.8.8.8", "1.1.1.1", "100.128.0.1", "172.32.0.1", "2a01:4f8::1", "2600::1"]) expect(isPublicAddress(ip), ip).toBe(true);
    for (const ip of [
      "10.1.2.3",
      "172.16.0.1",
      "172.31.255.255",
      "192.168.1.1",
      "127.0.0.1",
      "169.254.1.1",
      "100.64.0.1",
      "192.0.2.2",
      "198.51.100.1",
      "203.0.113.9",
      "0.0.0.0",
      "224.0.0.1",
      "::1",
      "fe80::1",
      "fd00::2",
      "fc00::1",
      "2001:db8::1",
      "::ffff:8.8.8.8",
      "not an ip",
    ]) {
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

  it("on this machine: matches what the kernel and the interfaces say, family by family", async () => {
    // the expectation comes from outside the module: iproute2's answer for the default route
    // (`ip route get`), and the interfaces' global addresses; compared whole, no branches
    const ifs = pickPublicIps(networkInterfaces());
    const v4Route = kernelRouteSource(4);
    const v6Route = kernelRouteSource(6);
    const usable6 = v6Route && !v6Route.startsWith("fe80") && v6Route !== "::1" ? v6Route : undefined;
    const expected: Record<string, unknown> = { source: {} };
    const source = expected.source as Record<string, string>;
    if (ifs.ipv4) [expected.ipv4, source.ipv4] = [ifs.ipv4, "interface"];
    else if (v4Route) [expected.ipv4, source.ipv4] = [v4Route, "default-route"];
    if (ifs.ipv6) [expected.ipv6, source.ipv6] = [ifs.ipv6, "interface"];
    else if (usable6) [expected.ipv6, source.ipv6] = [usable6, "default-route"];
    // a machine that runs the tests has a way out (the npm registry): there is an IPv4 answer
    expect(expected.ipv4, "this machine has no IPv4 default route and no global IPv4 address").toBeDefined();
    expect(await detectPublicIp()).toEqual(expected);
    // and the UDP-connect trick agrees with the kernel's route table for both families
    expect(await defaultRouteSource(4)).toBe(v4Route);
    expect(await defaultRouteSource(6)).toBe(v6Route);
  });
});
