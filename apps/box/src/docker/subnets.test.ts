import { describe, expect, it } from "vitest";
import { isHearthError } from "@hearth/contracts";
import { isPrivateAddress } from "../mail/relay";
import {
  type Allocation,
  cidrsOverlap,
  DEFAULT_NETWORK_POOL,
  networkPlanFrom,
  networkPlanFromEnv,
  parseCidr,
  parseIpRouteJson,
  parseProcNetRoute,
  planCapacity,
  SubnetAllocator,
  type SubnetSources,
} from "./subnets";

const cidr = (s: string) => {
  const c = parseCidr(s);
  if (!c) throw new Error(`bad test cidr ${s}`);
  return c;
};

/** A fake engine: networks are the subnets `make` was given (plus `existing`); overlapping ones are refused like Docker does. */
function fakeEngine(existing: string[] = [], routes: string[] = []) {
  const networks = [...existing];
  const sources: SubnetSources = {
    dockerSubnets: async () => [...networks, "fd00::/64"],
    hostRoutes: async () => routes,
  };
  const make = async (a: Allocation) => {
    await new Promise((r) => setTimeout(r, 1)); // the engine takes its time: another allocation could slip in here
    if (networks.some((n) => cidrsOverlap(cidr(n), cidr(a.subnet))))
      throw Object.assign(new Error("(HTTP code 403) unexpected - Pool overlaps with other one on this address space "), { statusCode: 403 });
    networks.push(a.subnet);
  };
  return { networks, sources, make };
}

describe("the network plan", () => {
  it("defaults to 10.217.0.0/16 in /27 networks: 2048 of them", () => {
    const plan = networkPlanFromEnv({});
    expect(plan).toEqual({ range: cidr(DEFAULT_NETWORK_POOL), size: 27 });
    expect(planCapacity(plan)).toBe(2048);
  });

  it("is configurable, and a wrong value names its variable", () => {
    expect(planCapacity(networkPlanFrom("172.30.0.0/15", "28"))).toBe(8192);
    expect(planCapacity(networkPlanFrom("10.99.0.0/16", "/24"))).toBe(256);
    expect(() => networkPlanFrom("10.217.0.0", undefined)).toThrow(/HEARTH_NETWORK_POOL: "10.217.0.0" is not an IPv4 range/);
    expect(() => networkPlanFrom("10.217.0.1/16", undefined)).toThrow(/HEARTH_NETWORK_POOL: .* host bits set; did you mean 10.217.0.0\/16/);
    expect(() => networkPlanFrom("8.8.0.0/16", undefined)).toThrow(/HEARTH_NETWORK_POOL: 8.8.0.0\/16 is not inside a private range/);
    expect(() => networkPlanFrom("10.217.0.0/16", "30")).toThrow(/HEARTH_NETWORK_SIZE: "30" must be a prefix length from 16/);
    expect(() => networkPlanFrom("10.217.0.0/16", "12")).toThrow(/HEARTH_NETWORK_SIZE/);
    expect(() => networkPlanFrom("10.217.0.0/16", "x")).toThrow(/HEARTH_NETWORK_SIZE/);
  });

  it("lies where the mail relay lets containers in (private addresses)", () => {
    for (const pool of [DEFAULT_NETWORK_POOL, "172.16.0.0/12", "192.168.0.0/16"]) {
      const { range } = networkPlanFrom(pool, "24");
      const last = range.base + 2 ** (32 - range.bits) - 2;
      for (const n of [range.base + 1, last]) expect(isPrivateAddress([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join("."))).toBe(true);
    }
  });
});

describe("the host's routes", () => {
  it("are read from ip's JSON, every table, without the default route", () => {
    const json = JSON.stringify([
      { dst: "default", gateway: "192.0.2.1", dev: "eth0" },
      { dst: "10.217.0.0/24", dev: "wg0" },
      { type: "local", dst: "10.217.3.7", dev: "eth1", table: "local" },
      { dst: "fe80::/64" },
    ]);
    expect(parseIpRouteJson(json)).toEqual(["10.217.0.0/24", "10.217.3.7/32"]);
    expect(parseIpRouteJson("not json")).toEqual([]);
  });

  it("or from /proc/net/route (little-endian hex)", () => {
    const text = [
      "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT",
      "eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0",
      "docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0",
      "wg0\t0000D90A\t00000000\t0001\t0\t0\t0\t00F0FFFF\t0\t0\t0",
      "",
    ].join("\n");
    expect(parseProcNetRoute(text)).toEqual(["172.17.0.0/16", "10.217.0.0/20"]);
  });
});

describe("SubnetAllocator", () => {
  const plan = networkPlanFrom("10.217.0.0/16", "27");

  it("takes the lowest subnet that overlaps no Docker network and no host route, with its first address as gateway", async () => {
    const e = fakeEngine(["10.217.0.0/27", "10.217.0.64/26", "172.17.0.0/16"], ["10.217.0.32/28", "192.0.2.0/24", "0.0.0.0/0"]);
    const a = await new SubnetAllocator(plan, e.sources).allocate("n1", e.make);
    expect(a).toEqual({ subnet: "10.217.0.128/27", gateway: "10.217.0.129" });
  });

  it("skips a host route that covers a whole block of the plan (a VPN on 10.217.0.0/20)", async () => {
    const e = fakeEngine([], ["10.217.0.0/20"]);
    expect((await new SubnetAllocator(plan, e.sources).allocate("n", e.make)).subnet).toBe("10.217.16.0/27");
  });

  it("gives distinct subnets to allocations that run at once, even from separate allocators", async () => {
    const e = fakeEngine();
    const a1 = new SubnetAllocator(plan, e.sources);
    const a2 = new SubnetAllocator(plan, e.sources);
    const got = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a1 : a2).allocate(`n${i}`, e.make)));
    const subnets = got.map((g) => g.subnet);
    expect(new Set(subnets).size).toBe(20);
    for (let i = 0; i < subnets.length; i++) for (let j = i + 1; j < subnets.length; j++) expect(cidrsOverlap(cidr(subnets[i] ?? ""), cidr(subnets[j] ?? ""))).toBe(false);
    expect(e.networks).toHaveLength(20);
  });

  it("moves on to the next subnet when Docker refuses one as overlapping (another process took it first)", async () => {
    const e = fakeEngine();
    let stolen = 0;
    // the listing does not yet show what the other process made
    const sources: SubnetSources = { dockerSubnets: async () => e.networks.slice(stolen), hostRoutes: async () => [] };
    e.networks.push("10.217.0.0/27", "10.217.0.32/27");
    stolen = 2;
    const a = await new SubnetAllocator(plan, sources).allocate("n", e.make);
    expect(a.subnet).toBe("10.217.0.64/27");
  });

  it("rethrows any other error of the engine as it is", async () => {
    const e = fakeEngine();
    const boom = new Error("no space left on device");
    await expect(
      new SubnetAllocator(plan, e.sources).allocate("n", async () => {
        throw boom;
      }),
    ).rejects.toBe(boom);
  });

  it("when the plan is used up, fails with bad_state naming the range, what uses it and what to do", async () => {
    const small = networkPlanFrom("10.217.0.0/26", "28"); // 4 networks
    const e = fakeEngine(["10.217.0.0/28", "10.217.0.16/28"], ["10.217.0.32/27"]);
    const err = await new SubnetAllocator(small, e.sources, { settingHint: "/etc/hearth/hearth.env" }).allocate("hearth-app-x", e.make).catch((x: unknown) => x);
    expect(isHearthError(err)).toBe(true);
    const he = err as { code: string; message: string; details: unknown };
    expect(he.code).toBe("bad_state");
    expect(he.message).toContain("no free subnet left for the network hearth-app-x");
    expect(he.message).toContain("10.217.0.0/26 in /28 networks (4 networks)");
    expect(he.message).toContain("2 Docker networks");
    expect(he.message).toContain("the host's route to 10.217.0.32/27");
    expect(he.message).toMatch(/set HEARTH_NETWORK_POOL .* in \/etc\/hearth\/hearth.env and restart box/);
    expect(he.details).toMatchObject({ range: "10.217.0.0/26", size: 28, capacity: 4, dockerNetworks: 2, hostRoutes: ["10.217.0.32/27"] });
    expect(e.networks).toHaveLength(2);
  });

  it("fills the plan to its last subnet, then refuses the next", async () => {
    const small = networkPlanFrom("192.168.77.0/24", "27"); // 8 networks
    const e = fakeEngine();
    const alloc = new SubnetAllocator(small, e.sources);
    for (let i = 0; i < 8; i++) await alloc.allocate(`n${i}`, e.make);
    expect(e.networks.at(-1)).toBe("192.168.77.224/27");
    await expect(alloc.allocate("n8", e.make)).rejects.toMatchObject({ code: "bad_state" });
  });
});
