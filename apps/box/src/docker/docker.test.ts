import { describe, expect, it } from "vitest";
import { bridgeNameOf, createDocker, demuxBuffer, NotManagedError, splitTag } from "./docker";

describe("splitTag", () => {
  it.each([
    ["nginx", ["nginx", "latest"]],
    ["nginx:1.25", ["nginx", "1.25"]],
    ["host:5000/team/app", ["host:5000/team/app", "latest"]],
    ["host:5000/team/app:2", ["host:5000/team/app", "2"]],
    ["app@sha256:" + "a".repeat(64), ["app", "latest"]],
  ] as const)("%s", (ref, parts) => expect(splitTag(ref)).toEqual(parts));
});

describe("demuxBuffer", () => {
  const frame = (kind: number, text: string) => {
    const body = Buffer.from(text);
    const h = Buffer.alloc(8);
    h[0] = kind;
    h.writeUInt32BE(body.length, 4);
    return Buffer.concat([h, body]);
  };
  it("joins stdout and stderr frames in order", () => {
    expect(demuxBuffer(Buffer.concat([frame(1, "out\n"), frame(2, "err\n"), frame(1, "more\n")])).toString()).toBe("out\nerr\nmore\n");
  });
  it("passes TTY output through", () => {
    expect(demuxBuffer(Buffer.from("plain text output\n")).toString()).toBe("plain text output\n");
  });
});

describe("createDocker", () => {
  // the guards run before any request, so no engine is needed
  const docker = createDocker({ socketPath: "/nonexistent/docker.sock" });
  it("refuses to create objects without the managed label", async () => {
    await expect(docker.createContainer({ name: "x", Image: "y", Labels: {} })).rejects.toBeInstanceOf(NotManagedError);
    await expect(docker.createNetwork("x", { "hearth.app": "a" })).rejects.toBeInstanceOf(NotManagedError);
    await expect(docker.createVolume("x", {})).rejects.toBeInstanceOf(NotManagedError);
  });
  it("never pulls one of Hearth's own images, under its name or the legacy one", async () => {
    for (const ref of ["localhost/hearth/base:bookworm", "localhost/hearth/org.wordpress:1.0.0", "hearth/org.wordpress:1.0.0"]) {
      await expect(docker.pullImage(ref, null, () => {})).rejects.toThrow(/one of Hearth's own images: it is built on this server, never pulled/);
    }
  });
});

describe("bridgeNameOf", () => {
  it("names a network's host interface hth + 12 hex digits: a valid Linux name the firewall matches with hth+", () => {
    const a = bridgeNameOf("hearth-app-0b7c2e1a-1111-4222-8333-444455556666");
    expect(a).toMatch(/^hth[0-9a-f]{12}$/);
    expect(a.length).toBeLessThanOrEqual(15);
    expect(bridgeNameOf("hearth-app-0b7c2e1a-1111-4222-8333-444455556666")).toBe(a);
    expect(bridgeNameOf("hearth-services")).not.toBe(a);
  });
});
