import { execFile, execFileSync, spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hearthManifest } from "@hearth/contracts";
import type { Db } from "@hearth/db";
import { AppService, noopVhostSync, type StepContext } from "../../apps/box/src/apps/apps.service";
import { containerNameOf, dataVolumeNameOf, networkNameOf } from "../../apps/box/src/apps/container-spec";
import { prismaRegistryCredentials } from "../../apps/box/src/apps/images";
import { bridgeNameOf, createDocker } from "../../apps/box/src/docker/docker";
import { migratedDatabase, REPO_ROOT, type TestDatabase } from "../helpers/db";
import { ensureTestImages, testHttpdManifest } from "../helpers/test-images";

/**
 * setup/lib/app-firewall.sh on the real host, seen from inside a real app container that
 * box installed (its network's host interface is hth…): the metadata address 169.254.169.254
 * is refused by the rule in DOCKER-USER before anything leaves the host (the rule is
 * checked to be in place before the first packet, and its counter must rise), a host port
 * Hearth does not give apps is refused, and the one it gives (the relay's) answers. The
 * script is idempotent. Only 127.0.0.1 and this machine's own addresses are contacted.
 * When the chains existed before (a real install here), they are put back with the default
 * relay port afterwards; otherwise they are removed.
 */

const SCRIPT = path.join(REPO_ROOT, "setup/lib/app-firewall.sh");
const DOMAIN = "firewall.test";
const tmpRoot = mkdtempSync(path.join(os.tmpdir(), "hearth-firewall-"));
let t: TestDatabase & { db: Db };
let db: Db;
let service: AppService;
let appId = "";
let gateway = "";
let hadChains = false;
const servers: net.Server[] = [];
const received: Record<number, number> = {};

const ipt = (...args: string[]) => execFileSync("iptables", ["-w", "10", ...args], { encoding: "utf8" });
const runScript = (...args: string[]) => execFileSync(SCRIPT, args, { encoding: "utf8" });
/** Packets the metadata REJECT rules of HEARTH-APPS-FWD have matched so far. */
function metadataHits(): number {
  return ipt("-L", "HEARTH-APPS-FWD", "-v", "-x", "-n")
    .split("\n")
    .filter((l) => l.includes("169.254.0.0/16"))
    .reduce((n, l) => n + Number(l.trim().split(/\s+/)[0]), 0);
}
/** A shell command run inside the app's container (busybox); asynchronous, so this process's listeners can answer meanwhile. */
function inApp(script: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile("docker", ["exec", containerNameOf(appId), "/bin/busybox", "sh", "-c", script], { encoding: "utf8", timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : -1) : 0, out: `${stdout}${stderr}`.trim() });
    });
  });
}
async function listen(): Promise<number> {
  const s = net.createServer((c) => {
    const port = (s.address() as net.AddressInfo).port;
    received[port] = (received[port] ?? 0) + 1;
    c.end("hello from the host\n");
  });
  await new Promise<void>((resolve) => s.listen(0, "0.0.0.0", resolve));
  servers.push(s);
  return (s.address() as net.AddressInfo).port;
}
function ctx(): StepContext {
  return { taskId: randomUUID(), signal: new AbortController().signal, log: () => {}, progress: async () => {} };
}

let givenPort = 0;
let otherPort = 0;

beforeAll(async () => {
  ensureTestImages();
  hadChains = spawnSync("iptables", ["-w", "10", "-S", "HEARTH-APPS-IN"], { stdio: "ignore" }).status === 0;
  givenPort = await listen();
  otherPort = await listen();
  // the test's own rules: the "relay" is this test's listener (only hth… interfaces are
  // filtered, so other runs' networks are not touched; without --existing older bridges are left alone)
  runScript("--relay-port", String(givenPort));

  t = await migratedDatabase("firewall");
  db = t.db;
  await db.domain.create({ data: { domain: DOMAIN, provider: "noop", isDashboardDomain: true } });
  service = new AppService({
    db,
    docker: createDocker(),
    vhosts: noopVhostSync,
    registries: prismaRegistryCredentials(db, undefined),
    catalogDirs: [],
    healthTimeoutMs: 30_000,
    healthIntervalMs: 200,
  });
  const m = hearthManifest.parse(testHttpdManifest("org.hearth.test.firewall", "Firewall test"));
  appId = randomUUID();
  await db.app.create({
    data: { id: appId, manifestId: m.id, manifest: m as object, version: m.version, subdomain: "fw", domain: DOMAIN, installState: "pending_install", memoryLimit: BigInt(m.memoryLimit), env: {} },
  });
  await service.install(appId, ctx());
  gateway = JSON.parse(execFileSync("docker", ["network", "inspect", networkNameOf(appId)], { encoding: "utf8" }))[0].IPAM.Config[0].Gateway;
}, 300_000);

afterAll(async () => {
  if (appId) {
    spawnSync("docker", ["rm", "-f", containerNameOf(appId)], { stdio: "ignore" });
    spawnSync("docker", ["network", "rm", networkNameOf(appId)], { stdio: "ignore" });
    spawnSync("docker", ["volume", "rm", "-f", dataVolumeNameOf(appId)], { stdio: "ignore" });
  }
  for (const s of servers) s.close();
  if (hadChains) runScript();
  else runScript("--remove");
  await t?.drop();
  rmSync(tmpRoot, { recursive: true, force: true });
}, 120_000);

describe("the host firewall for app containers", () => {
  it("the app's network has an hth… interface, and the rules are in place, first in DOCKER-USER and INPUT", () => {
    const br = JSON.parse(execFileSync("docker", ["network", "inspect", networkNameOf(appId)], { encoding: "utf8" }))[0].Options["com.docker.network.bridge.name"];
    expect(br).toBe(bridgeNameOf(networkNameOf(appId)));
    expect(spawnSync("ip", ["link", "show", br], { stdio: "ignore" }).status).toBe(0);
    expect(ipt("-S", "DOCKER-USER").split("\n")[1]).toBe("-A DOCKER-USER -i hth+ -j HEARTH-APPS-FWD");
    expect(
      ipt("-S", "INPUT")
        .split("\n")
        .find((l) => l.startsWith("-A ")),
    ).toBe("-A INPUT -i hth+ -j HEARTH-APPS-IN");
    expect(ipt("-S", "HEARTH-APPS-FWD")).toContain("-A HEARTH-APPS-FWD -d 169.254.0.0/16 -p tcp -j REJECT --reject-with tcp-reset");
  });

  it("from inside the app container: 169.254.169.254 is refused by Hearth's rule, before it leaves the host", async () => {
    // the rule must be there before the first packet is sent (see the test above)
    ipt("-C", "DOCKER-USER", "-i", "hth+", "-j", "HEARTH-APPS-FWD");
    ipt("-C", "HEARTH-APPS-FWD", "-d", "169.254.0.0/16", "-p", "tcp", "-j", "REJECT", "--reject-with", "tcp-reset");
    const before = metadataHits();
    const r = await inApp("printf 'GET /latest/meta-data/ HTTP/1.0\\r\\n\\r\\n' | /bin/busybox nc -w 5 169.254.169.254 80; echo rc=$?");
    expect(r.out).toMatch(/can't connect to remote host \(169\.254\.169\.254\): Connection refused/);
    expect(r.out).toMatch(/(^|\n)rc=1($|\n)/);
    expect(metadataHits()).toBeGreaterThan(before);
  });

  it("from inside the app container: a host port Hearth does not give apps is refused; the relay port answers", async () => {
    const other = await inApp(`echo hi | /bin/busybox nc -w 5 ${gateway} ${otherPort}; echo rc=$?`);
    expect(other.out).toMatch(/Connection refused/);
    expect(other.out).not.toContain("hello from the host");
    expect(received[otherPort] ?? 0).toBe(0);
    const given = await inApp(`echo hi | /bin/busybox nc -w 5 ${gateway} ${givenPort}; echo rc=$?`);
    expect(given.out).toContain("hello from the host");
    expect(received[givenPort]).toBe(1);
    // the host itself still reaches that other port (the rule is only for app containers)
    const fromHost = await new Promise<string>((resolve, reject) => {
      const c = net.connect(otherPort, gateway);
      let data = "";
      c.on("data", (d) => (data += d.toString()));
      c.on("end", () => resolve(data));
      c.on("error", reject);
    });
    expect(fromHost).toContain("hello from the host");
  });

  it("is idempotent: a second run leaves the same rules, each jump once", () => {
    const snapshot = () => ["DOCKER-USER", "INPUT", "HEARTH-APPS-FWD", "HEARTH-APPS-IN"].map((c) => ipt("-S", c)).join("\n");
    const before = snapshot();
    runScript("--relay-port", String(givenPort));
    expect(snapshot()).toBe(before);
    expect(
      ipt("-S", "DOCKER-USER")
        .split("\n")
        .filter((l) => l.includes("HEARTH-APPS-FWD")).length,
    ).toBe(1);
    expect(
      ipt("-S", "INPUT")
        .split("\n")
        .filter((l) => l.includes("HEARTH-APPS-IN")).length,
    ).toBe(1);
  });
});
