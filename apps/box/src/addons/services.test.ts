import { describe, expect, it } from "vitest";
import { HearthError } from "@hearth/contracts";
import type { ContainerState, DockerApi } from "../docker/docker";
import type { ServiceDockerExtras } from "./service-docker";
import { INFRA } from "./infra";
import { INFRA_LABEL, MiB, outdatedReasons, SERVICE_LABEL, SERVICE_VERSION_LABEL, serviceContainerSpec, ServiceManager, type ServiceSpecInput } from "./services";

const input = (over: Partial<ServiceSpecInput> = {}): ServiceSpecInput => ({
  service: "mariadb",
  containerName: "hearth-mariadb",
  image: "localhost/hearth/mariadb:10.11",
  version: "10.11",
  infraVersion: "1",
  controlDir: "/var/lib/hearth/services/mariadb",
  dataPath: "/var/lib/hearth/services/mariadb/data-10.11",
  network: "hearth-services",
  alias: "mariadb",
  memory: 768 * MiB,
  owner: "abc",
  ...over,
});

describe("serviceContainerSpec", () => {
  it("hardens the container and keeps the password out of its configuration", () => {
    const s = serviceContainerSpec(input());
    expect(s.name).toBe("hearth-mariadb");
    expect(s.Labels).toEqual({ "hearth.managed": "true", [SERVICE_LABEL]: "mariadb", [SERVICE_VERSION_LABEL]: "10.11", [INFRA_LABEL]: "1", "hearth.owner": "abc" });
    // no admin password at all: root / postgres only over the socket inside the container
    expect(s.Env).toEqual([]);
    const h = s.HostConfig!;
    expect(h.ReadonlyRootfs).toBe(true);
    expect(h.CapDrop).toEqual(["ALL"]);
    expect(h.CapAdd).toEqual(["CHOWN", "SETUID", "SETGID", "DAC_OVERRIDE", "FOWNER", "KILL"]);
    expect(h.SecurityOpt).toEqual(["no-new-privileges:true"]);
    expect(h.Memory).toBe(768 * MiB);
    expect(h.MemorySwap).toBe(768 * MiB);
    expect(h.RestartPolicy).toEqual({ Name: "unless-stopped", MaximumRetryCount: 0 });
    expect(h.PortBindings).toBeUndefined(); // reached over the services network only
    expect(h.NetworkMode).toBe("hearth-services");
    expect(s.NetworkingConfig?.EndpointsConfig?.["hearth-services"]?.Aliases).toEqual(["mariadb"]);
    expect(h.Mounts).toEqual([
      { Type: "bind", Source: "/var/lib/hearth/services/mariadb", Target: "/etc/hearth", ReadOnly: true },
      { Type: "bind", Source: "/var/lib/hearth/services/mariadb/data-10.11", Target: "/var/lib/mysql", ReadOnly: false },
    ]);
    expect(h.Init).toBe(true);
    expect(h.LogConfig).toEqual({ Type: "json-file", Config: { "max-size": "10m", "max-file": "3" } });
    expect(s.StopTimeout).toBeGreaterThanOrEqual(30);
  });

  it("mounts each service's data where its image expects it", () => {
    expect(serviceContainerSpec(input({ service: "postgresql" })).HostConfig!.Mounts![1]!.Target).toBe("/var/lib/postgresql");
    expect(serviceContainerSpec(input({ service: "postgresql" })).HostConfig!.ShmSize).toBe(128 * MiB);
    const r = serviceContainerSpec(input({ service: "redis" }));
    expect(r.HostConfig!.Mounts![1]!.Target).toBe("/var/lib/redis");
    expect(r.Env).toEqual(["HEARTH_PASSWORD_FILE=/etc/hearth/password"]);
  });

  it("does not let extra labels replace Hearth's own", () => {
    const s = serviceContainerSpec(input({ labels: { "hearth.managed": "false", [SERVICE_LABEL]: "x", "hearth.app": "a1" } }));
    expect(s.Labels).toMatchObject({ "hearth.managed": "true", [SERVICE_LABEL]: "mariadb", "hearth.app": "a1" });
  });

  it("refuses relative folders and tiny memory limits", () => {
    expect(() => serviceContainerSpec(input({ dataPath: "data" }))).toThrow(HearthError);
    expect(() => serviceContainerSpec(input({ memory: 1024 }))).toThrow(/at least 32 MiB/);
  });
});

describe("outdatedReasons", () => {
  const container = (labels: Record<string, string>, image: string, dataSource: string): ContainerState =>
    ({
      id: "c1",
      name: "hearth-mariadb",
      labels,
      running: true,
      status: "running",
      oomKilled: false,
      exitCode: 0,
      raw: { Image: image, Mounts: [{ Destination: "/var/lib/mysql", Source: dataSource }] },
    }) as unknown as ContainerState;
  const want = { version: "10.11", infraVersion: "2", imageId: "sha256:new", dataPath: "/d/data-10.11" };

  it("is empty for a container made from what is wanted", () => {
    expect(outdatedReasons(container({ [SERVICE_VERSION_LABEL]: "10.11", [INFRA_LABEL]: "2" }, "sha256:new", "/d/data-10.11"), want, "mariadb")).toEqual([]);
  });
  it("names the version, infra, image and data folder differences", () => {
    expect(outdatedReasons(container({ [SERVICE_VERSION_LABEL]: "10.6", [INFRA_LABEL]: "1" }, "sha256:old", "/d/data-10.6"), want, "mariadb")).toEqual([
      "version 10.6 → 10.11",
      "infra 1 → 2",
      "image rebuilt",
      "data folder /d/data-10.6 → /d/data-10.11",
    ]);
    expect(outdatedReasons(container({}, "sha256:new", "/d/data-10.11"), want, "mariadb")).toEqual(["version ? → 10.11", "infra ? → 2"]);
  });
});

describe("ServiceManager input checks", () => {
  // the checks run before any Docker call: these stand-ins fail the test if one is made
  const unreachable = new Proxy({}, { get: (_t, p) => () => Promise.reject(new Error(`unexpected docker call ${String(p)}`)) });
  const m = new ServiceManager({
    docker: unreachable as DockerApi,
    extras: unreachable as ServiceDockerExtras,
    dataDir: "/nonexistent",
    log: { info: () => {}, warn: () => {}, error: () => {} } as never,
  });

  it("names objects with the prefix", () => {
    expect(m.containerName("mariadb")).toBe("hearth-mariadb");
    expect(m.containerName("redis", "app1")).toBe("hearth-redis-app1");
    expect(m.network).toBe("hearth-services");
    expect(m.dataPath("postgresql", INFRA.services.postgresql.version)).toBe(`/nonexistent/services/postgresql/data-${INFRA.services.postgresql.version}`);
  });

  it("refuses a bad prefix", () => {
    expect(() => new ServiceManager({ docker: unreachable as DockerApi, extras: unreachable as ServiceDockerExtras, dataDir: "/x", prefix: "Bad/", log: {} as never })).toThrow(/prefix/);
  });

  it("refuses bad redis owners and weak passwords", async () => {
    const ok = { ownerId: "app1", password: "0123456789abcdef", network: "n" };
    await expect(m.ensureRedis({ ...ok, ownerId: "../etc" })).rejects.toMatchObject({ code: "invalid" });
    await expect(m.ensureRedis({ ...ok, ownerId: "" })).rejects.toMatchObject({ code: "invalid" });
    await expect(m.ensureRedis({ ...ok, password: "short" })).rejects.toMatchObject({ code: "invalid" });
    await expect(m.ensureRedis({ ...ok, password: "0123456789abcdef\nx" })).rejects.toMatchObject({ code: "invalid" });
    await expect(m.ensureRedis({ ...ok, memoryLimit: 10 })).rejects.toMatchObject({ code: "invalid" });
    await expect(m.removeRedis("A/B")).rejects.toMatchObject({ code: "invalid" });
  });
});
