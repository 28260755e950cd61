import { describe, expect, it } from "vitest";
import { HearthError } from "@hearth/contracts";
import { checkEndpointHost, forbiddenAddressReason, hostOfUrl, type Resolver } from "./endpoints";

describe("forbiddenAddressReason", () => {
  it("refuses loopback, link-local, unspecified and metadata addresses, in every spelling", () => {
    for (const a of [
      "127.0.0.1",
      "127.1.2.3",
      "0.0.0.0",
      "169.254.169.254",
      "169.254.10.1",
      "100.100.100.200",
      "168.63.129.16",
      "::1",
      "0:0:0:0:0:0:0:1",
      "::",
      "fe80::1",
      "fe80::1%eth0",
      "febf::1",
      "fd00:ec2::254",
      "::ffff:127.0.0.1",
      "::ffff:7f00:1",
      "::ffff:169.254.169.254",
      "::127.0.0.1",
      "[::1]",
    ]) {
      expect(forbiddenAddressReason(a), a).not.toBeNull();
    }
    expect(forbiddenAddressReason("169.254.169.254")).toBe("the cloud metadata address");
  });

  it("allows public and private-LAN addresses", () => {
    for (const a of ["192.0.2.53", "10.0.0.53", "192.168.1.1", "172.16.0.1", "100.64.0.1", "2001:db8::53", "fd12:3456::1", "fec0::1", "::ffff:192.0.2.1"]) {
      expect(forbiddenAddressReason(a), a).toBeNull();
    }
  });
});

describe("checkEndpointHost", () => {
  const resolver =
    (map: Record<string, string[]>): Resolver =>
    async (h) => {
      const r = map[h];
      if (!r) throw new Error("ENOTFOUND");
      return r;
    };
  const refusal = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (e) {
      if (!(e instanceof HearthError)) throw e;
      return { code: e.code, message: e.message, details: e.details };
    }
    return null;
  };

  it("refuses an address literal or localhost, naming the field", async () => {
    const r = await refusal(checkEndpointHost("169.254.169.254", ["providerConfig", "apiUrl"], resolver({})));
    expect(r).toMatchObject({ code: "invalid", details: [{ path: ["providerConfig", "apiUrl"] }] });
    expect(r!.message).toMatch(/metadata/);
    expect(r!.message).toMatch(/network\.allowPrivateEndpoints/);
    expect(await refusal(checkEndpointHost("localhost", ["host"], resolver({})))).toMatchObject({ details: [{ path: ["host"] }] });
    expect(await refusal(checkEndpointHost("[::1]", ["server"], resolver({})))).not.toBeNull();
  });

  it("refuses a name when any of its addresses is forbidden", async () => {
    const dns = resolver({ "sneaky.example.com": ["192.0.2.1", "127.0.0.1"], "ok.example.com": ["192.0.2.1", "2001:db8::1"] });
    const r = await refusal(checkEndpointHost("sneaky.example.com", ["host"], dns));
    expect(r!.message).toMatch(/resolves to 127\.0\.0\.1/);
    expect(await refusal(checkEndpointHost("ok.example.com", ["host"], dns))).toBeNull();
  });

  it("lets a name through that does not resolve (nothing to reach there now)", async () => {
    expect(await refusal(checkEndpointHost("nowhere.invalid", ["host"], resolver({})))).toBeNull();
  });

  it("takes the host out of a URL", () => {
    expect(hostOfUrl("http://[::1]:8081/api")).toBe("::1");
    expect(hostOfUrl("https://acme.example.com/dir")).toBe("acme.example.com");
  });
});
