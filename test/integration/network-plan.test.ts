import { execFileSync, spawn, spawnSync } from "node:child_process";
import { randomBytes, randomInt, randomUUID } from "node:crypto";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@hearth/db";
import { AppService } from "../../apps/box/src/apps/apps.service";
import { appLabels, dataVolumeNameOf, networkNameOf } from "../../apps/box/src/apps/container-spec";
import { prismaRegistryCredentials } from "../../apps/box/src/apps/images";
import { createDocker, MANAGED_LABEL, type DockerApi } from "../../apps/box/src/docker/docker";
import { hostRoutes } from "../../apps/box/src/docker/host-routes";
import { cidrContains, cidrsOverlap, type Cidr, networkPlanFrom, networkPlanFromEnv, parseCidr, parseProcNetRoute } from "../../apps/box/src/docker/subnets";
import { networkGateways } from "../../apps/box/src/mail/network";
import { migratedDatabase, REPO_ROOT, type TestDatabase } from "../helpers/db";
import { ensureTestImages, TEST_HTTPD_IMAGE } from "../helpers/test-images";

/**
 * Hearth's network plan on the real Docker engine: box's DockerApi.createNetwork gives every
 * network a subnet of its own plan (docker/subnets.ts), so Hearth is not bound by Docker's
 * default address pools (about 30 bridge networks). Networks made here carry a label of this
 * run, and only those are removed.
 */
const RUN = randomBytes(4).toString("hex");
const TEST_LABEL = "hearth.test.network-plan";
const labels = { [MANAGED_LABEL]: "true", [TEST_LABEL]: RUN };
let docker: DockerApi;

const cidr = (s: string): Cidr => {
  const c = parseCidr(s);
  if (!c) throw new Error(`not a CIDR: ${s}`);
  return c;
};
const inspect = (name: string) => {
  const r = spawnSync("docker", ["network", "inspect", name], { encoding: "utf8" });
  return r.status === 0 ? (JSON.parse(r.stdout)[0] as { Id: string; IPAM: { Config: { Subnet?: string; Gateway?: string }[] }; Options: Record<string, string> }) : null;
};
/** Every IPv4 subnet of every network on the engine, by network name. */
function allSubnets(): Map<string, string[]> {
  const ids = execFileSync("docker", ["network", "ls", "-q"], { encoding: "utf8" }).split("\n").filter(Boolean);
  const out = new Map<string, string[]>();
  for (const id of ids) {
    const n = inspect(id) as ({ Name: string } & ReturnType<typeof inspect>) | null;
    if (n)
      out.set(
        n.Name,
        (n.IPAM.Config ?? []).map((c) => c.Subnet ?? "").filter((s) => s.includes(".")),
      );
  }
  return out;
}
const ourNetworks = () =>
  execFileSync("docker", ["network", "ls", "-q", "--filter", `label=${TEST_LABEL}=${RUN}`], { encoding: "utf8" })
    .split("\n")
    .filter(Boolean);

beforeAll(async () => {
  docker = createDocker();
  await docker.ping();
});

afterAll(() => {
  for (const id of ourNetworks()) spawnSync("docker", ["network", "rm", id], { stdio: "ignore" });
});

describe("Hearth's network plan on the real engine", () => {
  it("reads the host's routes: every route of the kernel's main table is among them", async () => {
    // other tests add and remove Docker networks meanwhile: a route counts when the kernel had
    // it both before and after hostRoutes read the table
    const kernel = () => parseProcNetRoute(execFileSync("cat", ["/proc/net/route"], { encoding: "utf8" }));
    const before = kernel();
    const routes = await hostRoutes();
    const after = new Set(kernel());
    const main = before.filter((r) => after.has(r));
    expect(main.length).toBeGreaterThan(0);
    for (const r of main) expect(routes).toContain(r);
    expect(routes).not.toContain("0.0.0.0/0");
  });

  it("creates 40 networks at once (more than Docker's default pools hold), each a distinct subnet of the plan overlapping no other network and no host route; removes them", async () => {
    const plan = networkPlanFromEnv();
    const names = Array.from({ length: 40 }, (_, i) => `hearth-test-net-${RUN}-${i}`);
    // two DockerApi clients in one process, all at once: box serializes allocations
    const other = createDocker();
    const got = await Promise.all(names.map((n, i) => (i % 2 ? docker : other).createNetwork(n, labels)));
    const subnets = got.map((g) => g.subnet);
    expect(new Set(subnets).size).toBe(40);
    for (const s of subnets) expect(cidrContains(plan.range, cidr(s)), s).toBe(true);

    const routes = (await hostRoutes()).map(cidr).filter((r) => r.bits > 0);
    const everyone = allSubnets();
    for (const [i, name] of names.entries()) {
      const n = inspect(name);
      expect(n?.IPAM.Config).toEqual([{ Subnet: subnets[i], Gateway: got[i]?.gateway }]);
      expect(n?.Options["com.docker.network.bridge.name"]).toMatch(/^hth[0-9a-f]{12}$/);
      // no other network of the engine overlaps it, whoever made it
      for (const [other, theirs] of everyone) if (other !== name) for (const s of theirs) expect(cidrsOverlap(cidr(s), cidr(subnets[i] ?? "")), `${name} ${subnets[i]} vs ${other} ${s}`).toBe(false);
      // nor a host route other than its own bridge's
      const own = routes.filter((r) => cidrsOverlap(r, cidr(subnets[i] ?? "")));
      for (const r of own) expect(cidrContains(cidr(subnets[i] ?? ""), r), `route ${r.base}/${r.bits}`).toBe(true);
    }
    // the mail relay's address for an app on such a network: its gateway, the subnet's first address
    const gatewayOf = networkGateways();
    const first = cidr(subnets[0] ?? "");
    expect(await gatewayOf(names[0] ?? "")).toBe(got[0]?.gateway);
    expect(cidr(`${got[0]?.gateway}/32`).base).toBe(first.base + 1);

    await Promise.all(names.map((n) => docker.removeNetwork(n)));
    for (const n of names) expect(inspect(n)).toBeNull();
  }, 180_000);

  it("two box processes creating networks at the same moment get distinct subnets (Docker's overlap refusal moves the loser on)", async () => {
    const runChild = (prefix: string) =>
      new Promise<Record<string, string>>((resolve, reject) => {
        const child = spawn(process.execPath, ["--import", "tsx", path.join(REPO_ROOT, "test/helpers/create-networks.ts"), prefix, "12", `${TEST_LABEL}=${RUN}`], {
          cwd: REPO_ROOT,
          stdio: ["ignore", "pipe", "pipe"],
        });
        let out = "";
        let err = "";
        child.stdout.on("data", (d) => (out += d));
        child.stderr.on("data", (d) => (err += d));
        child.on("exit", (code) => (code === 0 ? resolve(JSON.parse(out.trim().split("\n").at(-1) ?? "{}")) : reject(new Error(`create-networks exited ${code}: ${err}`))));
      });
    const [a, b] = await Promise.all([runChild(`hearth-test-neta-${RUN}`), runChild(`hearth-test-netb-${RUN}`)]);
    const all = { ...a, ...b };
    expect(Object.keys(all)).toHaveLength(24);
    const subnets = Object.values(all);
    for (let i = 0; i < subnets.length; i++) for (let j = i + 1; j < subnets.length; j++) expect(cidrsOverlap(cidr(subnets[i] ?? ""), cidr(subnets[j] ?? ""))).toBe(false);
    for (const [name, s] of Object.entries(all)) expect(inspect(name)?.IPAM.Config[0]?.Subnet).toBe(s);
    for (const name of Object.keys(all)) await docker.removeNetwork(name);
  }, 180_000);

  it("a container on such a network gets an address of its subnet and reaches the host at the gateway (where the mail relay is)", async () => {
    ensureTestImages();
    const name = `hearth-test-net-${RUN}-reach`;
    const { subnet, gateway } = await docker.createNetwork(name, labels);
    try {
      const r = spawnSync("docker", ["run", "--rm", "--network", name, TEST_HTTPD_IMAGE, "/bin/busybox", "sh", "-c", `ip -4 -o addr show eth0; ping -c1 -W5 ${gateway} >/dev/null && echo reached`], {
        encoding: "utf8",
        timeout: 60_000,
      });
      expect(r.status, r.stderr).toBe(0);
      const addr = /inet (\d+\.\d+\.\d+\.\d+)\//.exec(r.stdout)?.[1] ?? "";
      expect(cidrContains(cidr(subnet), cidr(addr)), `${addr} in ${subnet}`).toBe(true);
      expect(r.stdout).toContain("reached");
    } finally {
      await docker.removeNetwork(name);
    }
  }, 120_000);

  it("skips a subnet the host routes elsewhere (a real route added for the test)", async () => {
    const base = `10.219.${randomInt(0, 256)}`;
    const blocked = `${base}.0/28`;
    const add = spawnSync("ip", ["route", "add", "blackhole", blocked], { encoding: "utf8" });
    expect(add.status, add.stderr).toBe(0);
    try {
      const d = createDocker(undefined, { plan: networkPlanFrom(`${base}.0/26`, "28") });
      const name = `hearth-test-net-${RUN}-routed`;
      const got = await d.createNetwork(name, labels);
      expect(got).toEqual({ subnet: `${base}.16/28`, gateway: `${base}.17` });
      await d.removeNetwork(name);
    } finally {
      spawnSync("ip", ["route", "del", "blackhole", blocked]);
    }
  });

  it("when the plan is used up, the next network fails with bad_state naming the range and what to do, and nothing is made", async () => {
    const base = `10.218.${randomInt(0, 256)}`;
    const d = createDocker(undefined, { plan: networkPlanFrom(`${base}.0/28`, "29") });
    const names = [0, 1, 2].map((i) => `hearth-test-net-${RUN}-full-${i}`);
    expect((await d.createNetwork(names[0] ?? "", labels)).subnet).toBe(`${base}.0/29`);
    expect((await d.createNetwork(names[1] ?? "", labels)).subnet).toBe(`${base}.8/29`);
    const err = await d.createNetwork(names[2] ?? "", labels).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: "HearthError", code: "bad_state" });
    const msg = (err as Error).message;
    expect(msg).toContain(`no free subnet left for the network ${names[2]}`);
    expect(msg).toContain(`${base}.0/28 in /29 networks (2 networks) is used up by 2 Docker networks`);
    expect(msg).toContain("set HEARTH_NETWORK_POOL");
    expect(msg).toContain("/etc/hearth/hearth.env");
    expect(inspect(names[2] ?? "")).toBeNull();
    for (const n of names.slice(0, 2)) await d.removeNetwork(n);
  });
});

describe("existing installs", () => {
  let t: TestDatabase & { db: Db };
  beforeAll(async () => {
    t = await migratedDatabase("netplan");
  });
  afterAll(async () => {
    await t?.drop();
  });

  it("keep an app network made from Docker's default pools as it is: box does not recreate it or change its subnet", async () => {
    const appId = randomUUID();
    const owner = `netplan-${RUN}`;
    const name = networkNameOf(appId);
    // as box made it before the plan: no subnet given, Docker picks one from its default pools
    const args = ["network", "create", "--driver", "bridge", ...Object.entries({ ...appLabels(appId, owner), [TEST_LABEL]: RUN }).flatMap(([k, v]) => ["--label", `${k}=${v}`]), name];
    const made = spawnSync("docker", args, { encoding: "utf8" });
    expect(made.status, made.stderr).toBe(0);
    const before = inspect(name);
    const service = new AppService({ db: t.db, docker, vhosts: { syncVhosts: async () => {} }, registries: prismaRegistryCredentials(t.db, undefined), catalogDirs: [], owner });
    const log: string[] = [];
    await service.ensureNetworkAndVolume(appId, { log: (l) => void log.push(l) });
    const after = inspect(name);
    expect(after?.Id).toBe(before?.Id);
    expect(after?.IPAM.Config).toEqual(before?.IPAM.Config);
    expect(log.join("\n")).not.toContain("creating the network");
    await docker.removeNetwork(name);
    await docker.removeVolume(dataVolumeNameOf(appId));
  });
});
