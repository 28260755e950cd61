import type net from "node:net";
import { SMTPServer, type SMTPServerOptions } from "smtp-server";

export interface SinkMessage {
  from: string;
  to: string[];
  raw: string;
  /** The login it was sent with (none on an MX host). */
  user: string | undefined;
  /** Whether it came over TLS (STARTTLS). */
  secure: boolean;
  /** The sender's EHLO/HELO name. */
  helo: string;
}

export interface MailSink {
  server: SMTPServer;
  port: number;
  /** Every message it took, in order. */
  received: SinkMessage[];
  close(): Promise<void>;
}

/**
 * An SMTP server on 127.0.0.1 that records every message, with STARTTLS on `tls`: a smarthost
 * when `login` is given (AUTH PLAIN/LOGIN only after STARTTLS, other logins refused with 535
 * and `login.refusal`), else an MX host as the internet has them (no AUTH). `onRcptTo` refuses
 * recipients of the test's choice; `reply` is what it answers to a message taken.
 */
export async function startMailSink(o: {
  tls: { key: Buffer; cert: Buffer };
  login?: { username: string; password: string; refusal?: string };
  onRcptTo?: SMTPServerOptions["onRcptTo"];
  reply?: string;
}): Promise<MailSink> {
  const received: SinkMessage[] = [];
  const { login } = o;
  const server = new SMTPServer({
    key: o.tls.key,
    cert: o.tls.cert,
    ...(login
      ? {
          authMethods: ["PLAIN", "LOGIN"],
          allowInsecureAuth: false, // AUTH only after STARTTLS
          onAuth(auth, _s, cb) {
            if (auth.username === login.username && auth.password === login.password) return cb(null, { user: auth.username });
            cb(Object.assign(new Error(login.refusal ?? "bad smarthost login"), { responseCode: 535 }));
          },
        }
      : { authOptional: true }),
    disableReverseLookup: true,
    logger: false,
    ...(o.onRcptTo ? { onRcptTo: o.onRcptTo } : {}),
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        const f = session.envelope.mailFrom;
        received.push({
          from: f ? f.address : "",
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString("utf8"),
          user: session.user as string | undefined,
          secure: session.secure,
          helo: session.hostNameAppearsAs,
        });
        if (o.reply) cb(null, o.reply);
        else cb();
      });
    },
  });
  await new Promise<void>((res, rej) => server.listen(0, "127.0.0.1", () => res()).once("error", rej));
  return {
    server,
    port: (server.server.address() as net.AddressInfo).port,
    received,
    close: () => new Promise<void>((res) => server.close(() => res())),
  };
}
