import type Docker from "dockerode";
import type { HearthManifest } from "@hearth/contracts";
import { APP_LABEL, MANAGED_LABEL, MANIFEST_LABEL, OWNER_LABEL } from "../docker/docker";

/**
 * What Docker is asked to create for an app: pure, so every hardening choice is unit-tested
 * here and checked once more against a real engine by test/integration/apps-docker.test.ts.
 */
export interface AppForSpec {
  id: string;
  manifestId: string;
  version: string;
  subdomain: string;
  domain: string;
  memoryLimit: bigint | number;
  /** The admin's variables (HEARTH_* are Hearth's own and never taken from here). */
  env: Record<string, string>;
  httpHostPort: number;
}
export interface PortForSpec {
  envName: string;
  hostPort: number;
  containerPort: number;
}

export const containerNameOf = (appId: string) => `hearth-app-${appId}`;
export const networkNameOf = (appId: string) => `hearth-app-${appId}`;
export const dataVolumeNameOf = (appId: string) => `hearth-app-${appId}-data`;
export const fqdnOf = (app: { subdomain: string; domain: string }) => (app.subdomain ? `${app.subdomain}.${app.domain}` : app.domain);

export const APP_DATA_DIR = "/app/data";
export const PIDS_LIMIT = 256;
export const CAP_ADD = ["CHOWN", "SETUID", "SETGID", "DAC_OVERRIDE", "FOWNER", "NET_BIND_SERVICE", "KILL"] as const;
/** Loopback only: nginx on this host is the one way in to an app's HTTP port. */
export const HTTP_BIND_IP = "127.0.0.1";

/**
 * Labels every Docker object of an app carries. `owner` names the Hearth store (database)
 * the app belongs to, so a box only ever treats its own objects as orphans, even when two
 * Hearth stores share one Docker engine (tests next to an installed Hearth).
 */
export function appLabels(appId: string, owner?: string): Record<string, string> {
  return { [MANAGED_LABEL]: "true", [APP_LABEL]: appId, ...(owner ? { [OWNER_LABEL]: owner } : {}) };
}

/** The environment, in order: Hearth's variables, the enabled TCP ports, then the admin's. */
export function appEnv(app: AppForSpec, ports: readonly PortForSpec[], extra: Record<string, string> = {}): string[] {
  const fqdn = fqdnOf(app);
  const env: [string, string][] = [
    ["HEARTH_APP_ORIGIN", `https://${fqdn}`],
    ["HEARTH_APP_DOMAIN", fqdn],
  ];
  // addons' credentials (HEARTH_MYSQL_URL …) come in as `extra`
  for (const [k, v] of Object.entries(extra)) env.push([k, v]);
  const taken = new Set(env.map(([k]) => k));
  for (const p of [...ports].sort((a, b) => a.envName.localeCompare(b.envName))) {
    if (taken.has(p.envName)) continue;
    env.push([p.envName, String(p.hostPort)]);
    taken.add(p.envName);
  }
  for (const [k, v] of Object.entries(app.env)) {
    if (k.startsWith("HEARTH_") || taken.has(k)) continue; // reserved; the API refuses these too
    env.push([k, v]);
  }
  return env.map(([k, v]) => `${k}=${v}`);
}

export interface ContainerSpecInput {
  app: AppForSpec;
  manifest: Pick<HearthManifest, "id" | "version" | "httpPort" | "tcpPorts">;
  /** Enabled TCP ports (AppPort rows). */
  ports: readonly PortForSpec[];
  /** The image to run (normally manifest.dockerImage). */
  image: string;
  /** Extra HEARTH_* variables (addon credentials). */
  extraEnv?: Record<string, string>;
  /** See appLabels. */
  owner?: string;
}

export function containerSpec(input: ContainerSpecInput): Docker.ContainerCreateOptions {
  const { app, manifest, ports, image } = input;
  const memory = Number(app.memoryLimit);
  if (!Number.isSafeInteger(memory) || memory <= 0) throw new Error(`bad memory limit ${String(app.memoryLimit)}`);
  if (!Number.isInteger(app.httpHostPort) || app.httpHostPort < 1 || app.httpHostPort > 65535) throw new Error(`bad http host port ${app.httpHostPort}`);

  const httpKey = `${manifest.httpPort}/tcp`;
  const exposed: Record<string, object> = { [httpKey]: {} };
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {
    [httpKey]: [{ HostIp: HTTP_BIND_IP, HostPort: String(app.httpHostPort) }],
  };
  for (const p of ports) {
    const key = `${p.containerPort}/tcp`;
    if (key === httpKey) throw new Error(`tcp port ${p.envName} uses the HTTP port ${manifest.httpPort}`);
    exposed[key] = {};
    // TCP ports are for clients outside the machine: published on every host address
    (bindings[key] ??= []).push({ HostIp: "0.0.0.0", HostPort: String(p.hostPort) });
  }

  const name = containerNameOf(app.id);
  return {
    name,
    Image: image,
    Hostname: (app.subdomain || "app").slice(0, 63),
    Env: appEnv(app, ports, input.extraEnv),
    Labels: { ...appLabels(app.id, input.owner), [MANIFEST_LABEL]: `${manifest.id}@${manifest.version}` },
    ExposedPorts: exposed,
    HostConfig: {
      ReadonlyRootfs: true,
      Tmpfs: { "/run": "rw,nosuid,nodev,size=64m", "/tmp": "rw,nosuid,nodev,size=256m" },
      Mounts: [{ Type: "volume", Source: dataVolumeNameOf(app.id), Target: APP_DATA_DIR, ReadOnly: false }],
      SecurityOpt: ["no-new-privileges:true"],
      CapDrop: ["ALL"],
      CapAdd: [...CAP_ADD],
      Memory: memory,
      MemorySwap: memory, // memory + swap = memory: no swap on top
      PidsLimit: PIDS_LIMIT,
      RestartPolicy: { Name: "unless-stopped", MaximumRetryCount: 0 },
      PortBindings: bindings,
      NetworkMode: networkNameOf(app.id),
      LogConfig: { Type: "json-file", Config: { "max-size": "10m", "max-file": "3" } },
      // docker-init (tini) as PID 1: forwards SIGTERM so stops are quick, reaps zombies
      Init: true,
    },
    NetworkingConfig: { EndpointsConfig: { [networkNameOf(app.id)]: { Aliases: [app.subdomain || "app"] } } },
  };
}
