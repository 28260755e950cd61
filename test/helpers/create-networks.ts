import { createDocker, MANAGED_LABEL } from "../../apps/box/src/docker/docker";

/**
 * A second process that makes networks through box's DockerApi (network-plan.test.ts runs
 * two of them at once): `node --import tsx create-networks.ts <prefix> <count> <label=value>`.
 * Prints one JSON line: the subnets it got, by network name.
 */
const [prefix, count, label] = process.argv.slice(2);
if (!prefix || !count || !label?.includes("=")) throw new Error("usage: create-networks.ts <prefix> <count> <label=value>");
const [key = "", value = ""] = label.split("=");
const docker = createDocker();
const got: Record<string, string> = {};
await Promise.all(
  Array.from({ length: Number(count) }, async (_, i) => {
    const name = `${prefix}-${i}`;
    got[name] = (await docker.createNetwork(name, { [MANAGED_LABEL]: "true", [key]: value })).subnet;
  }),
);
console.log(JSON.stringify(got));
