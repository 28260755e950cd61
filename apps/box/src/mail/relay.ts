import { randomBytes } from "node:crypto";
import { BlockList, isIPv4 } from "node:net";
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from "smtp-server";
import type { Logger } from "../logger";
import { authorProblem, headerBlockOf, isRelayUsername, parseHeaders, sameAddress, verifyRelayPassword, type MailAccountLookup } from "./accounts";
import type { Outbound } from "./outbound";

/**
 * The sendmail addon's relay: a small SMTP submission service inside box that apps reach
 * on their Docker network's gateway address. Rules, in protocol order:
 *
 * - clients from public addresses are turned away at connect (554): the relay listens on
 *   0.0.0.0 so every app network's gateway reaches it, and only containers (private
 *   ranges) and the host itself have any business here;
 * - AUTH (PLAIN, LOGIN) only after STARTTLS (smtp-server answers 538 before it), accounts
 *   from `lookup` (no cache: an account removed from the store is gone at the next AUTH),
 *   scrypt-verified; a wrong password is 535; too many failures from one address in a
 *   window is 454 without checking anything;
 * - MAIL FROM must be the account's address (553), at most `rateLimit.messages` per
 *   account per window (451), at most `maxRecipients` recipients;
 * - DATA: at most `maxMessageBytes` (552), exactly one From: mailbox that is the account's
 *   address and any Sender: the same (550); Received/Date/Message-ID are added, then the
 *   message goes to `outbound` and the app gets 250 only when it was taken.
 */
export interface MailRelayOptions {
  /** default 0.0.0.0 */
  host?: string;
  /** default 2525; 0 picks a free one (tests) */
  port?: number;
  /** the STARTTLS certificate (ensureRelayCert) */
  tls: { key: Buffer | string; cert: Buffer | string };
  lookup: MailAccountLookup;
  outbound: Outbound;
  log: Logger;
  /** the name in the greeting and Received: headers; default "hearth-mail-relay" */
  name?: string;
  /** default 25 MiB */
  maxMessageBytes?: number;
  /** default 100 */
  maxRecipients?: number;
  /** per account; default 200 messages an hour */
  rateLimit?: { messages: number; windowMs: number };
  /** per client address; default 10 failed logins in 15 minutes */
  authFailureLimit?: { failures: number; windowMs: number };
  /** who may connect at all; default loopback and private ranges (containers) */
  allowClient?: (remoteAddress: string) => boolean;
}

interface SessionUser {
  username: string;
  from: string;
}

const PRIVATE = new BlockList();
for (const [net, bits] of [
  ["127.0.0.0", 8],
  ["10.0.0.0", 8],
  ["172.16.0.0", 12],
  ["192.168.0.0", 16],
  ["100.64.0.0", 10],
] as const) {
  PRIVATE.addSubnet(net, bits, "ipv4");
}
PRIVATE.addAddress("::1", "ipv6");
PRIVATE.addSubnet("fc00::", 7, "ipv6");

/** Loopback, RFC 1918, CGNAT and IPv6 ULA addresses (IPv4-mapped IPv6 included). */
export function isPrivateAddress(addr: string): boolean {
  const a = addr.replace(/^::ffff:/i, "");
  try {
    return PRIVATE.check(a, isIPv4(a) ? "ipv4" : "ipv6");
  } catch {
    return false;
  }
}

const smtpError = (code: number, message: string) => Object.assign(new Error(message), { responseCode: code });

/** A sliding window counter per key. */
class Window {
  private hits = new Map<string, number[]>();
  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}
  private live(key: string, now: number): number[] {
    const list = (this.hits.get(key) ?? []).filter((t) => now - t < this.windowMs);
    if (list.length) this.hits.set(key, list);
    else this.hits.delete(key);
    return list;
  }
  full(key: string, now = Date.now()): boolean {
    return this.live(key, now).length >= this.limit;
  }
  add(key: string, now = Date.now()): void {
    // keys are client addresses too: forget the stale ones before the map grows large
    if (this.hits.size > 10_000) for (const k of [...this.hits.keys()]) this.live(k, now);
    this.hits.set(key, [...this.live(key, now), now]);
  }
}

export class MailRelay {
  private server: SMTPServer | null = null;
  private boundPort = 0;
  private readonly revoked = new Set<string>();
  private readonly sent: Window;
  private readonly authFailures: Window;
  private readonly opts: Required<Omit<MailRelayOptions, "tls" | "lookup" | "outbound" | "log">> & MailRelayOptions;

  constructor(opts: MailRelayOptions) {
    this.opts = {
      host: "0.0.0.0",
      port: 2525,
      name: "hearth-mail-relay",
      maxMessageBytes: 25 * 1024 * 1024,
      maxRecipients: 100,
      rateLimit: { messages: 200, windowMs: 3_600_000 },
      authFailureLimit: { failures: 10, windowMs: 15 * 60_000 },
      allowClient: isPrivateAddress,
      ...opts,
    };
    this.sent = new Window(this.opts.rateLimit.messages, this.opts.rateLimit.windowMs);
    this.authFailures = new Window(this.opts.authFailureLimit.failures, this.opts.authFailureLimit.windowMs);
  }

  /** The port it listens on (after start). */
  get port(): number {
    if (!this.server) throw new Error("the mail relay is not started");
    return this.boundPort;
  }

  /** Ends an account now: open sessions can send nothing more and AUTH fails, until restore(). */
  revoke(username: string): void {
    this.revoked.add(username.toLowerCase());
  }

  /** Undoes revoke() (the app got the addon again). */
  restore(username: string): void {
    this.revoked.delete(username.toLowerCase());
  }

  async start(): Promise<{ host: string; port: number }> {
    if (this.server) return { host: this.opts.host, port: this.boundPort };
    const o = this.opts;
    const server = new SMTPServer({
      name: o.name,
      banner: "Hearth mail relay",
      key: o.tls.key,
      cert: o.tls.cert,
      minVersion: "TLSv1.2",
      authMethods: ["PLAIN", "LOGIN"],
      allowInsecureAuth: false,
      authOptional: false,
      size: o.maxMessageBytes,
      maxRecipients: o.maxRecipients,
      hideENHANCEDSTATUSCODES: false,
      disableReverseLookup: true,
      disabledCommands: [],
      socketTimeout: 60_000,
      closeTimeout: 5_000,
      logger: false,
      onConnect: (session, cb) => {
        if (!o.allowClient(session.remoteAddress)) {
          o.log.warn({ remote: session.remoteAddress }, "mail relay: refused a client from outside");
          return cb(smtpError(554, "5.7.1 This relay takes mail from Hearth's apps only"));
        }
        cb();
      },
      onAuth: (auth, session, cb) => {
        void this.authenticate(auth.username ?? "", auth.password ?? "", session).then(
          (user) => (user ? cb(null, { user }) : cb(smtpError(535, "5.7.8 Authentication credentials invalid"))),
          (e: Error & { responseCode?: number }) => cb(e.responseCode ? e : smtpError(454, "4.7.0 Temporary authentication failure")),
        );
      },
      onMailFrom: (address, session, cb) => {
        const user = this.userOf(session);
        if (!user) return cb(smtpError(530, "5.7.0 Authentication required"));
        if (!sameAddress(address.address, user.from)) {
          return cb(smtpError(553, `5.7.1 Sender address rejected: this account sends as <${user.from}> only`));
        }
        if (this.sent.full(user.username)) {
          o.log.warn({ username: user.username }, "mail relay: rate limit reached");
          return cb(smtpError(451, "4.7.1 Too many messages from this account; try again later"));
        }
        cb();
      },
      onRcptTo: (address, session, cb) => {
        if (!this.userOf(session)) return cb(smtpError(530, "5.7.0 Authentication required"));
        if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(address.address)) return cb(smtpError(501, "5.1.3 Bad recipient address syntax"));
        cb();
      },
      onData: (stream, session, cb) => {
        void this.receive(stream, session).then(
          (msg) => cb(null, msg),
          (e: Error) => cb(e),
        );
      },
    });
    server.on("error", (e) => o.log.error({ err: e }, "mail relay error"));
    await new Promise<void>((resolve, reject) => {
      const onError = (e: Error) => reject(e);
      server.server.once("error", onError);
      server.listen(o.port, o.host, () => {
        server.server.off("error", onError);
        resolve();
      });
    });
    this.server = server;
    this.boundPort = (server.server.address() as { port: number }).port;
    o.log.info({ host: o.host, port: this.boundPort, outbound: o.outbound.mode }, "mail relay listening");
    return { host: o.host, port: this.boundPort };
  }

  async stop(): Promise<void> {
    const s = this.server;
    if (!s) return;
    this.server = null;
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  private userOf(session: SMTPServerSession): SessionUser | null {
    const user = session.user as SessionUser | undefined;
    if (!user || this.revoked.has(user.username)) return null;
    return user;
  }

  private async authenticate(usernameIn: string, password: string, session: SMTPServerSession): Promise<SessionUser | null> {
    const remote = session.remoteAddress;
    if (this.authFailures.full(remote)) {
      this.opts.log.warn({ remote }, "mail relay: too many failed logins");
      throw smtpError(454, "4.7.0 Too many failed logins; try again later");
    }
    const username = usernameIn.trim().toLowerCase();
    const account = isRelayUsername(username) && !this.revoked.has(username) ? await this.opts.lookup(username) : null;
    // a missing account costs the same scrypt as a wrong password, so timing tells nothing
    const ok = await verifyRelayPassword(password, account?.passwordHash ?? DUMMY_HASH);
    if (!account || !ok || account.username !== username) {
      this.authFailures.add(remote);
      this.opts.log.warn({ remote, username: username.slice(0, 64) }, "mail relay: failed login");
      return null;
    }
    return { username, from: account.from };
  }

  private async receive(stream: SMTPServerDataStream, session: SMTPServerSession): Promise<string> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      size += chunk.length;
      // past the limit the rest is drained, not kept
      if (size <= this.opts.maxMessageBytes) chunks.push(chunk);
    }
    if (stream.sizeExceeded || size > this.opts.maxMessageBytes) {
      throw smtpError(552, `5.3.4 Message too big (limit ${this.opts.maxMessageBytes} bytes)`);
    }
    const user = this.userOf(session);
    if (!user) throw smtpError(530, "5.7.0 Authentication required");
    const raw = Buffer.concat(chunks);
    const problem = authorProblem(raw, user.from);
    if (problem) throw smtpError(550, `5.7.1 ${problem}`);

    const mailFrom = session.envelope.mailFrom;
    const envelope = { from: mailFrom ? mailFrom.address : user.from, to: session.envelope.rcptTo.map((r) => r.address) };
    const id = randomBytes(8).toString("hex");
    const message = Buffer.concat([Buffer.from(this.traceHeaders(raw, session, user, id), "utf8"), raw]);
    this.sent.add(user.username);
    const result = await this.opts.outbound.deliver(envelope, message);
    const log = { id, username: user.username, rcpts: envelope.to.length, bytes: raw.length, outbound: this.opts.outbound.mode };
    if (!result.failed.length) {
      this.opts.log.info(log, "mail relay: message delivered");
      return `2.0.0 Delivered (${id})`;
    }
    const summary = result.failed
      .map((f) => `<${f.rcpt}>: ${f.message}`)
      .join("; ")
      .slice(0, 400);
    this.opts.log.warn({ ...log, accepted: result.accepted.length, failed: result.failed.length, reason: summary }, "mail relay: delivery failed");
    // SMTP has one answer per DATA: any recipient that may still work makes it a retry (4xx)
    if (result.failed.every((f) => f.permanent)) throw smtpError(550, `5.0.0 Not delivered: ${summary}`);
    throw smtpError(451, `4.4.0 Not delivered yet (accepted by ${result.accepted.length}): ${summary}`);
  }

  /** Received: always; Date: and Message-ID: when the app left them out (RFC 6409 §8). */
  private traceHeaders(raw: Buffer, session: SMTPServerSession, user: SessionUser, id: string): string {
    const names = new Set(parseHeaders(headerBlockOf(raw)).map(([n]) => n));
    const now = new Date();
    const helo = (session.hostNameAppearsAs || "unknown").replace(/[^A-Za-z0-9.:[\]-]/g, "");
    const lines = [
      `Received: from ${helo} ([${session.remoteAddress}])\r\n\tby ${this.opts.name} (Hearth) with ESMTPSA id ${id}\r\n\tfor app ${user.username}; ${now.toUTCString().replace("GMT", "+0000")}`,
    ];
    if (!names.has("date")) lines.push(`Date: ${now.toUTCString().replace("GMT", "+0000")}`);
    if (!names.has("message-id")) lines.push(`Message-ID: <${id}.${randomBytes(6).toString("hex")}@${user.from.slice(user.from.indexOf("@") + 1)}>`);
    return lines.map((l) => `${l}\r\n`).join("");
  }
}

// a valid hash of a random password nobody knows, for logins of unknown users
const DUMMY_HASH = "scrypt$32768$8$1$ZHVtbXlzYWx0ZHVtbXlzYQ==$" + Buffer.alloc(32, 7).toString("base64");
