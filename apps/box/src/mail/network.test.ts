import type Docker from "dockerode";
import { describe, expect, it } from "vitest";
import { networkGateways } from "./network";

/** dockerode's getNetwork(name).inspect() answering `info` (the real engine is in test/integration/network-plan.test.ts). */
const engine = (info: unknown) => ({ getNetwork: () => ({ inspect: async () => info }) }) as unknown as Docker;

describe("networkGateways", () => {
  it("gives the gateway Docker names", async () => {
    expect(await networkGateways(engine({ IPAM: { Config: [{ Subnet: "10.217.0.32/27", Gateway: "10.217.0.33" }] } }))("n")).toBe("10.217.0.33");
  });

  it("gives the subnet's first address when Docker names no gateway (a network made with only a subnet)", async () => {
    expect(await networkGateways(engine({ IPAM: { Config: [{ Subnet: "fd00::/64" }, { Subnet: "10.217.1.64/27" }] } }))("n")).toBe("10.217.1.65");
  });

  it("refuses a network without IPv4 and an internal one", async () => {
    await expect(networkGateways(engine({ IPAM: { Config: [{ Subnet: "fd00::/64" }] } }))("n")).rejects.toMatchObject({ code: "bad_state" });
    await expect(networkGateways(engine({ Internal: true, IPAM: { Config: [{ Subnet: "10.217.0.0/27" }] } }))("n")).rejects.toMatchObject({ code: "bad_state" });
  });
});
