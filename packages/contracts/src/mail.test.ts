import { describe, expect, it } from "vitest";
import { isHearthError } from "./errors";
import { DEFAULT_MAIL_OUTBOUND, mailOutboundRequest, mailOutboundStored, mailOutboundView, mailOutboundViewOf, mailTestRequest, nextMailOutbound, type MailOutboundStored } from "./mail";

const PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const issues = (v: unknown) => {
  const r = mailOutboundRequest.safeParse(v);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
};

describe("mail outbound request", () => {
  it("takes direct with or without a HELO name", () => {
    expect(mailOutboundRequest.parse({ mode: "direct" })).toEqual({ mode: "direct" });
    expect(mailOutboundRequest.parse({ mode: "direct", heloName: "Box.Example.COM" })).toEqual({ mode: "direct", heloName: "box.example.com" });
    expect(mailOutboundRequest.parse({ mode: "direct", heloName: null })).toEqual({ mode: "direct", heloName: null });
  });

  it("fills the smarthost defaults: port 587, STARTTLS", () => {
    expect(mailOutboundRequest.parse({ mode: "smarthost", host: "SMTP.example.com" })).toEqual({ mode: "smarthost", host: "smtp.example.com", port: 587, security: "starttls" });
  });

  it("takes every smarthost field, IP addresses and single-label hosts", () => {
    const full = { mode: "smarthost", host: "localhost", port: 465, security: "tls", username: "me@example.com", password: "s3cret", caCertificate: PEM };
    expect(mailOutboundRequest.parse(full)).toEqual(full);
    expect(mailOutboundRequest.parse({ mode: "smarthost", host: "192.0.2.25", security: "none" })).toMatchObject({ host: "192.0.2.25" });
    expect(mailOutboundRequest.parse({ mode: "smarthost", host: "2001:db8::25" })).toMatchObject({ host: "2001:db8::25" });
    expect(mailOutboundRequest.parse({ mode: "smarthost", host: "h", password: null, username: null, caCertificate: null })).toMatchObject({ password: null, username: null, caCertificate: null });
  });

  it.each([
    [{ mode: "smarthost" }, "host"],
    [{ mode: "smarthost", host: "smtp..example.com" }, "host: must be a host name like smtp.example.com or an IP address"],
    [{ mode: "smarthost", host: "smtp.example.com:587" }, "host: must be a host name like smtp.example.com or an IP address"],
    [{ mode: "smarthost", host: "-bad.example.com" }, "host: must be a host name"],
    [{ mode: "smarthost", host: "smtp.example.com", port: 0 }, "port: must be 1–65535"],
    [{ mode: "smarthost", host: "smtp.example.com", port: 70000 }, "port: must be 1–65535"],
    [{ mode: "smarthost", host: "smtp.example.com", port: "587" }, "port: must be a port number"],
    [{ mode: "smarthost", host: "smtp.example.com", port: 58.7 }, "port: must be a port number"],
    [{ mode: "smarthost", host: "smtp.example.com", security: "ssl" }, "security: must be starttls, tls or none"],
    [{ mode: "smarthost", host: "smtp.example.com", password: "" }, "password: must not be empty"],
    [{ mode: "smarthost", host: "smtp.example.com", username: "  " }, "username: must not be empty"],
    [{ mode: "smarthost", host: "smtp.example.com", caCertificate: "not pem" }, "caCertificate: must be PEM text"],
    [{ mode: "smarthost", host: "smtp.example.com", secure: true }, "Unrecognized key"],
    [{ mode: "direct", heloName: "not a name" }, "heloName: must be a host name"],
    [{ mode: "direct", host: "smtp.example.com" }, "Unrecognized key"],
    [{ mode: "queue" }, "mode: must be direct or smarthost"],
    [{}, "mode: must be direct or smarthost"],
  ])("refuses %j (%s)", (input, expected) => {
    expect(issues(input).join("\n")).toContain(expected);
  });
});

describe("the stored row from a PUT", () => {
  const seal = (p: string) => `sealed(${p})`;
  const withPassword: MailOutboundStored = { mode: "smarthost", host: "smtp.example.com", port: 587, security: "starttls", username: "me", passwordEnc: "sealed(old)", caCertificate: null };
  const req = (v: object) => mailOutboundRequest.parse({ mode: "smarthost", host: "smtp.example.com", ...v });
  const refusal = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      if (!isHearthError(e)) throw e;
      return { code: e.code, details: e.details };
    }
    throw new Error("not refused");
  };

  it("seals a new password", () => {
    expect(nextMailOutbound(req({ username: "me", password: "pw" }), DEFAULT_MAIL_OUTBOUND, seal)).toEqual({
      mode: "smarthost",
      host: "smtp.example.com",
      port: 587,
      security: "starttls",
      username: "me",
      passwordEnc: "sealed(pw)",
      caCertificate: null,
    });
  });

  it("keeps the stored password when none is sent, removes it on null", () => {
    expect(nextMailOutbound(req({ username: "me", caCertificate: PEM }), withPassword, seal)).toMatchObject({ passwordEnc: "sealed(old)", caCertificate: PEM });
    expect(nextMailOutbound(req({ username: "me", port: 2525, password: "again" }), withPassword, seal)).toMatchObject({ passwordEnc: "sealed(again)", port: 2525 });
    expect(nextMailOutbound(req({ username: null, password: null }), withPassword, seal)).toMatchObject({ username: null, passwordEnc: null });
    expect(nextMailOutbound(req({ username: "me", password: "new" }), withPassword, seal)).toMatchObject({ passwordEnc: "sealed(new)" });
  });

  it("a kept password is not sent to another server: changing host, port or security needs it again", () => {
    for (const [change, named] of [
      [{ host: "evil.example.net" }, "host"],
      [{ port: 2525 }, "port"],
      [{ security: "none" }, "security"],
      [{ host: "evil.example.net", port: 25 }, "host or port"],
    ] as const) {
      expect(refusal(() => nextMailOutbound(req({ username: "me", ...change }), withPassword, seal))).toEqual({
        code: "invalid",
        details: [{ path: ["password"], code: "custom", message: `must be entered again when ${named} change${named.includes(" or ") ? "" : "s"}` }],
      });
    }
  });

  it("direct forgets the smarthost and its password", () => {
    expect(nextMailOutbound(mailOutboundRequest.parse({ mode: "direct" }), withPassword, seal)).toEqual({ mode: "direct", heloName: null });
  });

  it("a username needs a password and the other way round", () => {
    expect(refusal(() => nextMailOutbound(req({ username: "me" }), DEFAULT_MAIL_OUTBOUND, seal))).toEqual({
      code: "invalid",
      details: [{ path: ["password"], code: "custom", message: "required with a username" }],
    });
    expect(refusal(() => nextMailOutbound(req({ password: "pw" }), DEFAULT_MAIL_OUTBOUND, seal))).toMatchObject({ details: [{ path: ["username"] }] });
    // dropping the username while the stored password stays is refused too
    expect(refusal(() => nextMailOutbound(req({}), withPassword, seal))).toMatchObject({ details: [{ path: ["username"] }] });
  });

  it("the view never holds the password, only whether there is one", () => {
    const v = mailOutboundViewOf(withPassword);
    expect(v).toEqual({ mode: "smarthost", host: "smtp.example.com", port: 587, security: "starttls", username: "me", hasPassword: true, caCertificate: null });
    expect(JSON.stringify(v)).not.toContain("sealed");
    expect(mailOutboundView.parse(v)).toEqual(v);
    expect(mailOutboundViewOf(DEFAULT_MAIL_OUTBOUND)).toEqual({ mode: "direct", heloName: null });
    expect(mailOutboundStored.safeParse({ mode: "smarthost", host: "h" }).success).toBe(false);
  });
});

describe("test mail request", () => {
  it("takes one address", () => {
    expect(mailTestRequest.parse({ to: "admin@example.com" })).toEqual({ to: "admin@example.com" });
    expect(mailTestRequest.safeParse({ to: "nope" }).success).toBe(false);
    expect(mailTestRequest.safeParse({ to: "a@example.com", cc: "b@example.com" }).success).toBe(false);
  });
});

describe("smarthost host", () => {
  const hostOk = (host: string) => mailOutboundRequest.safeParse({ mode: "smarthost", host }).success;
  it("an address-looking host must be a valid address", () => {
    expect(hostOk("256.1.1.1")).toBe(false);
    expect(hostOk("1.2.3")).toBe(false);
    expect(hostOk("10.0.0.999")).toBe(false);
    expect(hostOk("10.0.0.25")).toBe(true);
    expect(hostOk("::1")).toBe(true);
    expect(hostOk("smtp.example.com")).toBe(true);
    expect(hostOk("mail1.example.com")).toBe(true);
    expect(hostOk("localhost")).toBe(true);
  });
});
