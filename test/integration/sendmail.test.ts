import { execFileSync, spawn, spawnSync } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import tls from "node:tls";
import nodemailer from "nodemailer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StepContext } from "../../apps/box/src/apps/apps.service";
import type { AddonApp } from "../../apps/box/src/addons/handler";
import { createLogger } from "../../apps/box/src/logger";
import { networkGateways } from "../../apps/box/src/mail/network";
import { createOutbound } from "../../apps/box/src/mail/outbound";
import { MailRelay, type MailRelayOptions } from "../../apps/box/src/mail/relay";
import { ensureRelayCert, type RelayCert } from "../../apps/box/src/mail/relay-cert";
import { mailAccountLookup, SendmailAddon } from "../../apps/box/src/mail/sendmail.addon";
import { startBind9 } from "../helpers/bind9";
import { startMailSink, type MailSink } from "../helpers/mail-sink";

/**
 * The sendmail addon end to end over real SMTP on TCP: box's relay (smtp-server) in
 * smarthost mode, pointed at a second smtp-server in this process that plays the admin's
 * smarthost (STARTTLS with its own certificate, AUTH required, records every message,
 * refuses some recipients). Apps are nodemailer on the host, raw sockets where the protocol
 * itself is the point, and swaks inside a container on a Docker network of this run,
 * using exactly the env the handler returned. A map of credentials plays the provisioner's
 * AppAddon rows (stored after provision, deleted after deprovision).
 */

const RUN = randomBytes(4).toString("hex");
const NETWORK = `hearth-t${RUN}-mail`;
const SWAKS_IMAGE = "hearth-test/swaks:1";
const tmp = mkdtempSync(path.join(os.tmpdir(), "hearth-mail-"));
const logLines: string[] = [];
const log = createLogger("info", "mail-test", { write: (s: string) => void logLines.push(s) });
const taskLines: string[] = [];
const ctx: StepContext = { taskId: "t-mail", progress: async () => {}, log: (l) => void taskLines.push(l), signal: new AbortController().signal };

const SMARTHOST_USER = "relay@provider.test";
const SMARTHOST_PASS = randomBytes(12).toString("hex");

let sink: MailSink;
let sinkPort = 0;
let sinkCert: RelayCert;
let relayCert: RelayCert;
const relays: MailRelay[] = [];
let relay: MailRelay;
let addon: SendmailAddon;
const rows = new Map<string, Record<string, string>>(); // the provisioner's AppAddon rows
const lookup = mailAccountLookup(async (id) => rows.get(id) ?? null);

const app = (subdomain: string): AddonApp => ({ id: randomUUID(), subdomain, domain: "example.test", fqdn: `${subdomain}.example.test`, network: NETWORK });
const appA = app("blog");
const appB = app("wiki");

async function provision(a: AddonApp) {
  const r = await addon.provision(a, {}, rows.get(a.id) ?? null, ctx);
  rows.set(a.id, r.credentials);
  return r;
}
async function deprovision(a: AddonApp, keepRow = false) {
  await addon.deprovision(a, rows.get(a.id) ?? null, ctx);
  if (!keepRow) rows.delete(a.id);
}

async function startRelay(over: Partial<MailRelayOptions> = {}): Promise<MailRelay> {
  const r = new MailRelay({
    host: "0.0.0.0",
    port: 0,
    tls: relayCert,
    lookup,
    log,
    outbound: createOutbound({ mode: "smarthost", host: "localhost", port: sinkPort, username: SMARTHOST_USER, password: SMARTHOST_PASS, ca: sinkCert.cert.toString() }),
    ...over,
  });
  await r.start();
  relays.push(r);
  return r;
}

/** An app's mail library: STARTTLS required, the relay's certificate verified. */
function client(port: number, user: string, pass: string) {
  return nodemailer.createTransport({
    host: "127.0.0.1",
    port,
    secure: false,
    requireTLS: true,
    auth: { user, pass },
    tls: { ca: relayCert.cert.toString(), servername: "hearth-mail-relay" },
  });
}

function sendAs(port: number, creds: Record<string, string>, over: { envelopeFrom?: string; headerFrom?: string; to?: string[]; text?: string; headers?: Record<string, string> } = {}) {
  const to = over.to ?? ["someone@dest.test"];
  return client(port, creds.username!, creds.password!).sendMail({
    envelope: { from: over.envelopeFrom ?? creds.from!, to },
    from: over.headerFrom ?? `"The Blog" <${creds.from}>`,
    to,
    subject: `hello ${RUN}`,
    text: over.text ?? "a message from an app",
    ...(over.headers ? { headers: over.headers } : {}),
  });
}

const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => "sent",
    (e: { responseCode?: number }) => e.responseCode ?? -1,
  );

/** A line-based SMTP conversation on a raw socket (TLS after STARTTLS when asked). */
class RawSmtp {
  private buf = "";
  private waiters: Array<() => void> = [];
  private constructor(private sock: net.Socket | tls.TLSSocket) {
    this.attach(sock);
  }
  private attach(s: net.Socket) {
    s.setEncoding("utf8");
    s.on("data", (d: string) => {
      this.buf += d;
      for (const w of this.waiters.splice(0)) w();
    });
  }
  static async open(port: number): Promise<RawSmtp> {
    const s = net.connect(port, "127.0.0.1");
    await new Promise<void>((res, rej) => s.once("connect", res).once("error", rej));
    const r = new RawSmtp(s);
    await r.reply();
    return r;
  }
  /** The next complete reply (multi-line: up to the "NNN " line). */
  async reply(): Promise<{ code: number; text: string }> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const m = /^((?:\d{3}-[^\n]*\n)*)(\d{3}) ([^\n]*)\n/.exec(this.buf);
      if (m) {
        this.buf = this.buf.slice(m[0].length);
        return { code: Number(m[2]), text: m[0] };
      }
      if (Date.now() > deadline) throw new Error(`no reply; got ${JSON.stringify(this.buf)}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 200);
      });
    }
  }
  async cmd(line: string) {
    this.sock.write(`${line}\r\n`);
    return this.reply();
  }
  async starttls() {
    const r = await this.cmd("STARTTLS");
    expect(r.code).toBe(220);
    this.sock.removeAllListeners("data");
    const t = tls.connect({ socket: this.sock, ca: relayCert.cert, servername: "hearth-mail-relay" });
    await new Promise<void>((res, rej) => t.once("secureConnect", res).once("error", rej));
    this.sock = t;
    this.attach(t);
  }
  close() {
    this.sock.destroy();
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}

const plain = (u: string, p: string) => Buffer.from(`\0${u}\0${p}`).toString("base64");

beforeAll(async () => {
  relayCert = await ensureRelayCert(path.join(tmp, "relay"));
  sinkCert = await ensureRelayCert(path.join(tmp, "sink"), "localhost");
  sink = await startMailSink({
    tls: sinkCert,
    login: { username: SMARTHOST_USER, password: SMARTHOST_PASS },
    onRcptTo(addr, _s, cb) {
      if (addr.address.startsWith("reject@")) return cb(Object.assign(new Error("5.1.1 no such user"), { responseCode: 550 }));
      if (addr.address.startsWith("later@")) return cb(Object.assign(new Error("4.2.0 try later"), { responseCode: 450 }));
      cb();
    },
  });
  sinkPort = sink.port;

  execFileSync("docker", ["network", "create", "--label", "hearth.managed=true", "--label", `hearth.test=${RUN}`, NETWORK], { stdio: "ignore" });
  relay = await startRelay();
  addon = new SendmailAddon({ relay, gatewayOf: networkGateways() });
});

afterAll(async () => {
  for (const r of relays) await r.stop();
  await sink?.close();
  spawnSync("docker", ["network", "rm", NETWORK], { stdio: "ignore" });
  rmSync(tmp, { recursive: true, force: true });
  // no password of any app ever reached a log line or the task log
  const secrets = [...rows.values()].map((c) => c.password!).concat(SMARTHOST_PASS);
  for (const s of secrets) {
    expect(logLines.join("\n")).not.toContain(s);
    expect(taskLines.join("\n")).not.toContain(s);
  }
});

describe("sendmail addon", () => {
  it("provisions an account per app with the env of the issue; again gives the same", async () => {
    const a1 = await provision(appA);
    const gateway = (JSON.parse(execFileSync("docker", ["network", "inspect", NETWORK], { encoding: "utf8" })) as Array<{ IPAM: { Config: Array<{ Gateway: string }> } }>)[0]!.IPAM.Config[0]!.Gateway;
    expect(a1.env).toEqual({
      HEARTH_MAIL_SMTP_SERVER: gateway,
      HEARTH_MAIL_SMTP_PORT: String(relay.port),
      HEARTH_MAIL_SMTP_USERNAME: appA.id,
      HEARTH_MAIL_SMTP_PASSWORD: a1.credentials.password,
      HEARTH_MAIL_FROM: "blog.app@example.test",
      HEARTH_MAIL_DOMAIN: "example.test",
    });
    expect(a1.credentials.password!.length).toBeGreaterThanOrEqual(32); // 192 bits base64url
    expect(a1.credentials.passwordHash).toMatch(/^scrypt\$/);
    expect(a1.credentials.passwordHash).not.toContain(a1.credentials.password!);
    const a2 = await provision(appA);
    expect(a2).toEqual(a1);
    const b = await provision(appB);
    expect(b.env.HEARTH_MAIL_FROM).toBe("wiki.app@example.test");
    expect(b.credentials.password).not.toBe(a1.credentials.password);
  });

  it("(a) delivers an app's own mail through STARTTLS + AUTH to the smarthost, envelope and headers intact", async () => {
    const creds = rows.get(appA.id)!;
    const before = sink.received.length;
    const info = await sendAs(relay.port, creds, { to: ["someone@dest.test", "other@dest.test"] });
    expect(info.response).toMatch(/^250 /);
    expect(sink.received.length).toBe(before + 1);
    const m = sink.received.at(-1)!;
    expect(m.from).toBe("blog.app@example.test");
    expect(m.to).toEqual(["someone@dest.test", "other@dest.test"]);
    expect(m.user).toBe(SMARTHOST_USER); // the relay logged in to the smarthost
    expect(m.secure).toBe(true); // over STARTTLS
    expect(m.raw).toMatch(/^From: "?The Blog"? <blog\.app@example\.test>\r$/m);
    expect(m.raw).toContain(`Subject: hello ${RUN}`);
    expect(m.raw).toMatch(/^Received: from .* \(\[(::ffff:)?127\.0\.0\.1\]\)\r\n\tby hearth-mail-relay \(Hearth\) with ESMTPSA/m);
    expect(m.raw).toMatch(/^Message-ID: </m);
    expect(m.raw).toContain("a message from an app");
  });

  it("(b) a wrong password or an unknown user is 535, and nothing is sent", async () => {
    const creds = rows.get(appA.id)!;
    const before = sink.received.length;
    // a different first character (a fixed "x" is the real one in 1 of 64 base64url passwords)
    const wrong = (creds.password!.startsWith("x") ? "y" : "x") + creds.password!.slice(1);
    expect(await codeOf(sendAs(relay.port, { ...creds, password: wrong }))).toBe(535);
    expect(await codeOf(sendAs(relay.port, { ...creds, username: randomUUID() }))).toBe(535);
    expect(await codeOf(sendAs(relay.port, { ...creds, username: "admin" }))).toBe(535);
    // app B's password does not open app A's account
    expect(await codeOf(sendAs(relay.port, { ...creds, password: rows.get(appB.id)!.password! }))).toBe(535);
    expect(sink.received.length).toBe(before);
  });

  it("(c) an app cannot send as another address: envelope 553, From:/Sender: header 550", async () => {
    const a = rows.get(appA.id)!;
    const before = sink.received.length;
    expect(await codeOf(sendAs(relay.port, a, { envelopeFrom: "wiki.app@example.test" }))).toBe(553);
    expect(await codeOf(sendAs(relay.port, a, { envelopeFrom: "ceo@example.test", headerFrom: "ceo@example.test" }))).toBe(553);
    expect(await codeOf(sendAs(relay.port, a, { headerFrom: '"Blog" <wiki.app@example.test>' }))).toBe(550);
    expect(await codeOf(sendAs(relay.port, a, { headerFrom: "blog.app@example.test, ceo@example.test" }))).toBe(550);
    expect(await codeOf(sendAs(relay.port, a, { headers: { Sender: "ceo@example.test" } }))).toBe(550);
    // case does not matter, a display name is free
    expect(await codeOf(sendAs(relay.port, a, { envelopeFrom: "Blog.App@Example.Test", headerFrom: '"Anything" <BLOG.app@example.TEST>' }))).toBe("sent");
    expect(sink.received.length).toBe(before + 1);
  });

  it("(d) AUTH is refused before STARTTLS; nothing goes without AUTH", async () => {
    const a = rows.get(appA.id)!;
    const s = await RawSmtp.open(relay.port);
    try {
      const ehlo = await s.cmd("EHLO app.test");
      expect(ehlo.code).toBe(250);
      expect(ehlo.text).toContain("STARTTLS");
      expect((await s.cmd(`AUTH PLAIN ${plain(a.username!, a.password!)}`)).code).toBe(538);
      expect((await s.cmd("MAIL FROM:<blog.app@example.test>")).code).toBe(530);
      await s.starttls();
      const ehlo2 = await s.cmd("EHLO app.test");
      expect(ehlo2.text).toMatch(/AUTH PLAIN LOGIN/);
      expect((await s.cmd("MAIL FROM:<blog.app@example.test>")).code).toBe(530);
      expect((await s.cmd(`AUTH PLAIN ${plain(a.username!, a.password!)}`)).code).toBe(235);
      expect((await s.cmd("MAIL FROM:<blog.app@example.test>")).code).toBe(250);
    } finally {
      s.close();
    }
  });

  it("(e) a container on the app's Docker network reaches the relay at the returned server and port", async () => {
    const env = (await provision(appA)).env;
    // a throw-away image with swaks from the Debian base every Hearth server builds
    const dir = path.join(tmp, "swaks");
    execFileSync("mkdir", ["-p", dir]);
    writeFileSync(
      path.join(dir, "Dockerfile"),
      "FROM localhost/hearth/base:bookworm\nRUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends swaks libnet-ssleay-perl libio-socket-ssl-perl libauthen-sasl-perl && rm -rf /var/lib/apt/lists/*\n",
    );
    if (spawnSync("docker", ["image", "inspect", SWAKS_IMAGE], { stdio: "ignore" }).status !== 0) {
      execFileSync("docker", ["build", "-q", "-t", SWAKS_IMAGE, dir], { stdio: "ignore", timeout: 300_000 });
    }
    const before = sink.received.length;
    const script =
      'swaks --server "$HEARTH_MAIL_SMTP_SERVER" --port "$HEARTH_MAIL_SMTP_PORT" --tls --auth PLAIN ' +
      '--auth-user "$HEARTH_MAIL_SMTP_USERNAME" --auth-password "$HEARTH_MAIL_SMTP_PASSWORD" ' +
      '--from "$HEARTH_MAIL_FROM" --h-From "Blog <$HEARTH_MAIL_FROM>" --to "$TO" --h-Subject "$SUBJECT" --body "from a container"';
    // not spawnSync: the relay and the sink live in this process and must keep answering
    const run = (extra: Record<string, string>) =>
      new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve, reject) => {
        // the values go through the environment, not argv (-e NAME takes it from there)
        const p = spawn("docker", ["run", "--rm", "--network", NETWORK, ...Object.keys({ ...env, ...extra }).flatMap((k) => ["-e", k]), SWAKS_IMAGE, "sh", "-c", script], {
          env: { ...process.env, ...env, ...extra },
          timeout: 90_000,
        });
        let stdout = "";
        let stderr = "";
        p.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
        p.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        p.on("error", reject);
        p.on("close", (status) => resolve({ status, stdout, stderr }));
      });
    const ok = await run({ TO: "inbox@dest.test", SUBJECT: `container ${RUN}` });
    expect(ok.status, ok.stdout + ok.stderr).toBe(0);
    expect(sink.received.length).toBe(before + 1);
    const m = sink.received.at(-1)!;
    expect(m.from).toBe("blog.app@example.test");
    expect(m.to).toEqual(["inbox@dest.test"]);
    expect(m.raw).toContain(`Subject: container ${RUN}`);
    // it came from the container's address on that network, not from the host
    const subnet = env.HEARTH_MAIL_SMTP_SERVER!.split(".").slice(0, 2).join(".");
    expect(m.raw).toMatch(new RegExp(`^Received: from .* \\(\\[(::ffff:)?${subnet.replace(/\./g, "\\.")}\\.`, "m"));
    // the same container with app A's credentials cannot pose as app B
    const spoof = await run({ TO: "inbox@dest.test", SUBJECT: "spoof", HEARTH_MAIL_FROM: "wiki.app@example.test" });
    expect(spoof.status).not.toBe(0);
    expect(spoof.stdout).toMatch(/<~\* 553 /);
    expect(sink.received.length).toBe(before + 1);
  }, 400_000);

  it("(f) deprovision disables the account at once, open sessions included; provisioning again makes a new password", async () => {
    const old = rows.get(appB.id)!;
    expect(await codeOf(sendAs(relay.port, old, { headerFrom: old.from }))).toBe("sent");
    // a session logged in before the deprovision
    const s = await RawSmtp.open(relay.port);
    await s.cmd("EHLO app.test");
    await s.starttls();
    await s.cmd("EHLO app.test");
    expect((await s.cmd(`AUTH PLAIN ${plain(old.username!, old.password!)}`)).code).toBe(235);

    await deprovision(appB, true); // the row is still there: the provisioner deletes it afterwards
    expect((await s.cmd(`MAIL FROM:<${old.from}>`)).code).toBe(530);
    s.close();
    expect(await codeOf(sendAs(relay.port, old, { headerFrom: old.from }))).toBe(535);
    rows.delete(appB.id);
    expect(await codeOf(sendAs(relay.port, old, { headerFrom: old.from }))).toBe(535);
    await deprovision(appB); // again: a no-op

    const again = await provision(appB);
    expect(again.credentials.password).not.toBe(old.password);
    expect(await codeOf(sendAs(relay.port, old, { headerFrom: old.from }))).toBe(535);
    expect(await codeOf(sendAs(relay.port, again.credentials, { headerFrom: again.credentials.from }))).toBe("sent");
  });

  it("passes the smarthost's refusals on: 5xx stays 550, 4xx becomes 451", async () => {
    const a = rows.get(appA.id)!;
    const before = sink.received.length;
    expect(await codeOf(sendAs(relay.port, a, { to: ["reject@dest.test"] }))).toBe(550);
    expect(await codeOf(sendAs(relay.port, a, { to: ["later@dest.test"] }))).toBe(451);
    expect(sink.received.length).toBe(before);
  });

  it("a smarthost login the provider refuses is a temporary failure for the app", async () => {
    const r = await startRelay({
      outbound: createOutbound({ mode: "smarthost", host: "localhost", port: sinkPort, username: SMARTHOST_USER, password: "wrong", ca: sinkCert.cert.toString() }),
    });
    const a = rows.get(appA.id)!;
    const err = await sendAs(r.port, a).catch((e: { responseCode?: number; response?: string }) => e);
    expect((err as { responseCode?: number }).responseCode).toBe(451);
    expect((err as { response?: string }).response).toContain("smarthost localhost");
    expect((err as { response?: string }).response).not.toContain("wrong");
  });

  it("limits message size, messages per account and failed logins", async () => {
    const r = await startRelay({ maxMessageBytes: 4000, rateLimit: { messages: 2, windowMs: 60_000 }, authFailureLimit: { failures: 3, windowMs: 60_000 } });
    const a = rows.get(appA.id)!;
    expect(await codeOf(sendAs(r.port, a, { text: "x".repeat(10_000) }))).toBe(552);
    expect(await codeOf(sendAs(r.port, a))).toBe("sent");
    expect(await codeOf(sendAs(r.port, a))).toBe("sent");
    expect(await codeOf(sendAs(r.port, a))).toBe(451);
    const b = rows.get(appB.id)!;
    expect(await codeOf(sendAs(r.port, b, { headerFrom: b.from }))).toBe("sent"); // per account
    for (let i = 0; i < 3; i++) expect(await codeOf(sendAs(r.port, { ...b, password: "nope" }))).toBe(535);
    // the limit is per client address: now even the right password waits
    expect(await codeOf(sendAs(r.port, b, { headerFrom: b.from }))).toBe(454);
  });

  it("direct delivery: each recipient domain's MX by preference (bind9 answers), implicit MX, null MX, no such domain", async () => {
    // an MX host as the internet has them: no AUTH, STARTTLS offered
    const mx = await startMailSink({ tls: sinkCert });
    const mxPort = mx.port;
    const dnsPort = await freePort();
    const dns = await startBind9({
      port: dnsPort,
      zone: "dest.test",
      records: [
        // the preferred MX has nothing listening (refused): the relay goes on to the next
        "@ IN MX 10 mx1.dest.test.",
        "@ IN MX 20 mx2.dest.test.",
        "mx1 IN A 127.0.0.2",
        "mx2 IN A 127.0.0.1",
        "nomx IN A 127.0.0.1",
        "nullmx IN MX 0 .",
      ],
    });
    try {
      const r = await startRelay({ outbound: createOutbound({ mode: "direct", heloName: "box.example.test", port: mxPort, dnsServers: [dns.nameserver] }) });
      const a = rows.get(appA.id)!;
      expect(await codeOf(sendAs(r.port, a, { to: ["one@dest.test", "two@nomx.dest.test"] }))).toBe("sent");
      expect(mx.received.map((m) => m.to)).toEqual([["one@dest.test"], ["two@nomx.dest.test"]]);
      for (const m of mx.received) {
        expect(m.from).toBe("blog.app@example.test");
        expect(m.helo).toBe("box.example.test"); // EHLO name
        expect(m.secure).toBe(true); // STARTTLS taken when offered
        expect(m.raw).toContain("a message from an app");
      }
      const err = await sendAs(r.port, a, { to: ["x@nullmx.dest.test", "y@nowhere.dest.test"] }).catch((e: { responseCode?: number; response?: string }) => e);
      expect((err as { responseCode?: number }).responseCode).toBe(550);
      expect((err as { response?: string }).response).toMatch(/null MX.*no such domain/);
      expect(mx.received.length).toBe(2);
    } finally {
      await dns.stop();
      await mx.close();
    }
  });

  it("refuses to start on a port in use, with the error", async () => {
    const r = new MailRelay({ host: "0.0.0.0", port: relay.port, tls: relayCert, lookup, log, outbound: createOutbound({ mode: "smarthost", host: "localhost" }) });
    await expect(r.start()).rejects.toThrow(/EADDRINUSE/);
  });
});
