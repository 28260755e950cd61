import type Docker from "dockerode";
import { HearthError } from "@hearth/contracts";
import { dockerode } from "../docker/client";
import { dockerStatusOf } from "../docker/docker";
import { numberToIp, parseCidr } from "../docker/subnets";

/**
 * The IPv4 gateway of a Docker network: the host's own address on that bridge, which is
 * where the app's containers reach box's mail relay (it listens on 0.0.0.0). Read-only: the
 * network is the app's, made and removed by the app service.
 */
export function networkGateways(docker: Docker = dockerode()) {
  return async function gatewayOf(network: string): Promise<string> {
    let info: { Driver?: string; Internal?: boolean; IPAM?: { Config?: Array<{ Gateway?: string; Subnet?: string }> } };
    try {
      info = (await docker.getNetwork(network).inspect()) as typeof info;
    } catch (e) {
      if (dockerStatusOf(e) === 404) throw new HearthError("bad_state", `the app's network ${network} does not exist yet`);
      throw new HearthError("external", `could not inspect the network ${network}: ${(e as Error).message}`, { cause: e });
    }
    if (info.Internal) throw new HearthError("bad_state", `the network ${network} is internal: its containers cannot reach the host`);
    const configs = info.IPAM?.Config ?? [];
    // Docker's inspect names no gateway for a network made with only a subnet: then it is the subnet's first address
    const firstOf = (subnet: string | undefined) => {
      const c = subnet?.includes(".") ? parseCidr(subnet) : null;
      return c && c.bits <= 30 ? numberToIp(c.base + 1) : undefined;
    };
    const gw = configs.map((c) => c.Gateway || firstOf(c.Subnet)).find((g): g is string => !!g && /^\d+\.\d+\.\d+\.\d+$/.test(g));
    if (!gw) throw new HearthError("bad_state", `the network ${network} has no IPv4 gateway`);
    return gw;
  };
}
