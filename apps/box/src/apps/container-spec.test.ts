import { describe, expect, it } from "vitest";
import { appEnv, containerSpec, dataVolumeNameOf, fqdnOf, networkNameOf, type ContainerSpecInput } from "./container-spec";

const base = (over: Partial<ContainerSpecInput> = {}): ContainerSpecInput => ({
  app: {
    id: "a1b2",
    manifestId: "org.example.wiki",
    version: "1.2.3",
    subdomain: "wiki",
    domain: "example.com",
    memoryLimit: 256n * 1024n * 1024n,
    env: { FOO: "bar" },
    httpHostPort: 20001,
  },
  manifest: { id: "org.example.wiki", version: "1.2.3", httpPort: 8080, tcpPorts: {} },
  ports: [],
  image: "example/wiki:1.2.3",
  ...over,
});

describe("containerSpec", () => {
  it("names and labels the container after the app", () => {
    const s = containerSpec(base());
    expect(s.name).toBe("hearth-app-a1b2");
    expect(s.Image).toBe("example/wiki:1.2.3");
    expect(s.Labels).toEqual({ "hearth.managed": "true", "hearth.app": "a1b2", "hearth.manifest": "org.example.wiki@1.2.3" });
  });

  it("hardens the container", () => {
    const h = containerSpec(base()).HostConfig!;
    expect(h.ReadonlyRootfs).toBe(true);
    expect(Object.keys(h.Tmpfs!).sort()).toEqual(["/run", "/tmp"]);
    expect(h.SecurityOpt).toEqual(["no-new-privileges:true"]);
    expect(h.CapDrop).toEqual(["ALL"]);
    expect(h.CapAdd).toEqual(["CHOWN", "SETUID", "SETGID", "DAC_OVERRIDE", "FOWNER", "NET_BIND_SERVICE", "KILL"]);
    expect(h.Memory).toBe(268435456);
    expect(h.MemorySwap).toBe(268435456);
    expect(h.PidsLimit).toBe(256);
    expect(h.RestartPolicy).toEqual({ Name: "unless-stopped", MaximumRetryCount: 0 });
    expect(h.Privileged).toBeUndefined();
    expect(h.Init).toBe(true);
  });

  it("bounds the app's log history: Docker keeps at most 3 json-file logs of 10 MiB (box keeps none of its own)", () => {
    expect(containerSpec(base()).HostConfig!.LogConfig).toEqual({ Type: "json-file", Config: { "max-size": "10m", "max-file": "3" } });
  });

  it("mounts the data volume at /app/data and joins the app's own network", () => {
    const s = containerSpec(base());
    expect(s.HostConfig!.Mounts).toEqual([{ Type: "volume", Source: dataVolumeNameOf("a1b2"), Target: "/app/data", ReadOnly: false }]);
    expect(s.HostConfig!.NetworkMode).toBe(networkNameOf("a1b2"));
    expect(Object.keys(s.NetworkingConfig!.EndpointsConfig!)).toEqual(["hearth-app-a1b2"]);
  });

  it("publishes the HTTP port on 127.0.0.1 only", () => {
    const s = containerSpec(base());
    expect(s.ExposedPorts).toEqual({ "8080/tcp": {} });
    expect(s.HostConfig!.PortBindings).toEqual({ "8080/tcp": [{ HostIp: "127.0.0.1", HostPort: "20001" }] });
  });

  it("publishes enabled TCP ports on the host and tells the app their host port", () => {
    const s = containerSpec(
      base({
        manifest: { id: "org.example.wiki", version: "1.2.3", httpPort: 8080, tcpPorts: { SSH_PORT: { title: "ssh", description: "", containerPort: 22, defaultValue: 2222 } } },
        ports: [{ envName: "SSH_PORT", hostPort: 2222, containerPort: 22 }],
      }),
    );
    expect(s.HostConfig!.PortBindings!["22/tcp"]).toEqual([{ HostIp: "0.0.0.0", HostPort: "2222" }]);
    expect(s.ExposedPorts!["22/tcp"]).toEqual({});
    expect(s.Env).toContain("SSH_PORT=2222");
  });

  it("refuses a TCP port on the HTTP port, a bad memory limit or host port", () => {
    expect(() => containerSpec(base({ ports: [{ envName: "X", hostPort: 3000, containerPort: 8080 }] }))).toThrow(/HTTP port/);
    expect(() => containerSpec(base({ app: { ...base().app, memoryLimit: 0 } }))).toThrow(/memory/);
    expect(() => containerSpec(base({ app: { ...base().app, httpHostPort: 0 } }))).toThrow(/port/);
  });

  it("passes a bigint memory limit above 4 GiB exactly", () => {
    const s = containerSpec(base({ app: { ...base().app, memoryLimit: 8n * 1024n * 1024n * 1024n } }));
    expect(s.HostConfig!.Memory).toBe(8589934592);
  });
});

describe("appEnv", () => {
  const app = base().app;
  it("puts Hearth's variables first, then ports, then the admin's", () => {
    expect(appEnv(app, [{ envName: "SSH_PORT", hostPort: 2222, containerPort: 22 }])).toEqual([
      "HEARTH_APP_ORIGIN=https://wiki.example.com",
      "HEARTH_APP_DOMAIN=wiki.example.com",
      "SSH_PORT=2222",
      "FOO=bar",
    ]);
  });
  it("never lets the admin's env set HEARTH_* or override a port variable", () => {
    const env = appEnv({ ...app, env: { HEARTH_APP_DOMAIN: "evil.com", SSH_PORT: "1", OK: "x=y" } }, [{ envName: "SSH_PORT", hostPort: 2222, containerPort: 22 }]);
    expect(env).toEqual(["HEARTH_APP_ORIGIN=https://wiki.example.com", "HEARTH_APP_DOMAIN=wiki.example.com", "SSH_PORT=2222", "OK=x=y"]);
  });
  it("adds addon variables after Hearth's own", () => {
    expect(appEnv({ ...app, env: {} }, [], { HEARTH_MYSQL_URL: "mysql://u:p@h/db" })).toContain("HEARTH_MYSQL_URL=mysql://u:p@h/db");
  });
  it("uses the bare domain when the subdomain is empty", () => {
    expect(fqdnOf({ subdomain: "", domain: "example.com" })).toBe("example.com");
    expect(appEnv({ ...app, subdomain: "", env: {} }, [])[0]).toBe("HEARTH_APP_ORIGIN=https://example.com");
  });
});
