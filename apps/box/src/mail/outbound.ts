import { Resolver } from "node:dns/promises";
import { isIP } from "node:net";
import type { SMTPTransportOptions } from "nodemailer/lib/smtp-transport";
import { z } from "zod";
import { HearthError } from "@hearth/contracts";

/**
 * The server's outbound path, where the relay hands each accepted message:
 *
 * - `smarthost`: one SMTP server the admin names (their provider's submission port, with
 *   credentials), through nodemailer's SMTP transport. Its certificate is verified (a
 *   private CA can be given as `ca`); STARTTLS is required unless `secure` (implicit TLS)
 *   is set or the admin turns `requireTLS` off for a host on a trusted network.
 * - `direct`: to each recipient domain's MX hosts (RFC 5321 §5: by preference, the domain
 *   itself when it has no MX, nothing for a null MX), port 25, STARTTLS when offered
 *   without verifying the peer (what MTAs do; there is no name to verify against without
 *   DANE/MTA-STS). nodemailer dropped its direct transport long ago, so the MX walk is
 *   here and each hop is a plain nodemailer SMTP transport.
 *
 * Delivery is synchronous: the app gets its 250 only once the next hop took the message,
 * and a 4xx otherwise, so the app (or its mail library) keeps the retry. There is no queue
 * on disk: the full mail server of a later issue brings one.
 */
export const outboundConfigSchema = z.discriminatedUnion("mode", [
  z.object({
    mode: z.literal("smarthost"),
    host: z.string().min(1).max(253),
    port: z.number().int().min(1).max(65535).default(587),
    /** implicit TLS (port 465); otherwise STARTTLS */
    secure: z.boolean().default(false),
    /** refuse to send when the smarthost offers no STARTTLS (ignored with `secure`) */
    requireTLS: z.boolean().default(true),
    username: z.string().min(1).optional(),
    password: z.string().min(1).optional(),
    /** PEM of a CA to trust for the smarthost's certificate, besides the system's */
    ca: z.string().optional(),
  }),
  z.object({
    mode: z.literal("direct"),
    /** the name this server greets MX hosts with (EHLO): its public host name */
    heloName: z.string().min(1).max(253),
    /** 25 in real use; tests point it at a sink on a high port */
    port: z.number().int().min(1).max(65535).default(25),
    /** DNS servers to resolve MX records with (ip or ip:port); the system's when absent */
    dnsServers: z.array(z.string().min(1)).optional(),
  }),
]);
export type OutboundConfig = z.input<typeof outboundConfigSchema>;

export interface Envelope {
  from: string;
  to: string[];
}

export interface RecipientFailure {
  rcpt: string;
  /** true for a 5xx answer (retrying will not help), false for 4xx / no answer */
  permanent: boolean;
  message: string;
}

export interface DeliveryResult {
  accepted: string[];
  failed: RecipientFailure[];
  /** the final answer of the next hop(s) that took the message, e.g. "250 2.0.0 Ok: queued" */
  response?: string;
}

export interface Outbound {
  readonly mode: "smarthost" | "direct";
  deliver(envelope: Envelope, raw: Buffer): Promise<DeliveryResult>;
}

const TIMEOUTS = { connectionTimeout: 20_000, greetingTimeout: 20_000, socketTimeout: 60_000 };

interface SmtpErrorLike {
  responseCode?: number;
  response?: string;
  code?: string;
  message?: string;
  rejected?: string[];
}

/** The text of an SMTP error for a log or a reply, without anything of the credentials. */
function describe(e: unknown): string {
  const err = e as SmtpErrorLike;
  return (err.response ?? err.message ?? String(e)).replace(/\s+/g, " ").slice(0, 300);
}
/**
 * A 5xx about the message or a recipient; not a refused login or TLS at the next hop:
 * that is the admin's setting to fix, and the app should retry meanwhile.
 */
const isPermanent = (e: unknown) => {
  const { responseCode: c, code } = e as SmtpErrorLike;
  return typeof c === "number" && c >= 500 && c < 600 && !["EAUTH", "ETLS", "ENOAUTH"].includes(code ?? "");
};

/** One SMTP hop: the recipients it accepted and those it refused. */
async function sendVia(opts: SMTPTransportOptions, envelope: Envelope, raw: Buffer): Promise<DeliveryResult> {
  // loaded when mail is first sent: an idle box does not pay for nodemailer
  const { default: nodemailer } = await import("nodemailer");
  const transport = nodemailer.createTransport(opts);
  try {
    const info = await transport.sendMail({ envelope: { from: envelope.from, to: envelope.to }, raw });
    const rejected = (info.rejected ?? []).map(String);
    const details = (info as { rejectedErrors?: SmtpErrorLike[] }).rejectedErrors ?? [];
    return {
      accepted: (info.accepted ?? []).map(String),
      response: describe(info.response ?? ""),
      failed: rejected.map((rcpt, i) => ({ rcpt, permanent: isPermanent(details[i]), message: describe(details[i] ?? "refused") })),
    };
  } finally {
    transport.close();
  }
}

export function createOutbound(input: OutboundConfig): Outbound {
  const parsed = outboundConfigSchema.safeParse(input);
  if (!parsed.success) {
    throw new HearthError("invalid", `outbound mail settings: ${parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ")}`);
  }
  const config = parsed.data;
  if (config.mode === "smarthost") {
    if ((config.username === undefined) !== (config.password === undefined)) {
      throw new HearthError("invalid", "outbound mail settings: the smarthost username and password go together");
    }
    return {
      mode: "smarthost",
      async deliver(envelope, raw) {
        try {
          return await sendVia(
            {
              host: config.host,
              port: config.port,
              secure: config.secure,
              requireTLS: !config.secure && config.requireTLS,
              ...(config.username !== undefined ? { auth: { user: config.username, pass: config.password! } } : {}),
              tls: { servername: isIP(config.host) ? undefined : config.host, ...(config.ca ? { ca: config.ca } : {}) },
              ...TIMEOUTS,
            },
            envelope,
            raw,
          );
        } catch (e) {
          // the whole message failed at the smarthost: every recipient shares its fate
          const permanent = isPermanent(e);
          return { accepted: [], failed: envelope.to.map((rcpt) => ({ rcpt, permanent, message: `smarthost ${config.host}: ${describe(e)}` })) };
        }
      },
    };
  }

  const resolver = new Resolver({ timeout: 5000, tries: 2 });
  if (config.dnsServers?.length) resolver.setServers(config.dnsServers);

  /** The hosts to try for `domain` in order; [] for a null MX (the domain takes no mail). */
  const hostsOf = async (domain: string): Promise<string[]> => {
    try {
      const mx = await resolver.resolveMx(domain);
      if (mx.length === 1 && (mx[0]!.exchange === "" || mx[0]!.exchange === ".")) return [];
      return mx.sort((a, b) => a.priority - b.priority).map((m) => m.exchange.replace(/\.$/, ""));
    } catch (e) {
      const code = (e as { code?: string }).code;
      // no MX: the domain itself is the implicit MX when it has an address
      if (code === "ENODATA") return [domain];
      throw e;
    }
  };

  return {
    mode: "direct",
    async deliver(envelope, raw) {
      const byDomain = new Map<string, string[]>();
      for (const rcpt of envelope.to) {
        const domain = rcpt.slice(rcpt.lastIndexOf("@") + 1).toLowerCase();
        byDomain.set(domain, [...(byDomain.get(domain) ?? []), rcpt]);
      }
      const result: DeliveryResult = { accepted: [], failed: [] };
      for (const [domain, rcpts] of byDomain) {
        const fail = (permanent: boolean, message: string) => result.failed.push(...rcpts.map((rcpt) => ({ rcpt, permanent, message })));
        let hosts: string[];
        try {
          hosts = await hostsOf(domain);
        } catch (e) {
          const code = (e as { code?: string }).code;
          fail(code === "ENOTFOUND", `${domain}: ${code === "ENOTFOUND" ? "no such domain" : `DNS lookup failed (${code ?? describe(e)})`}`);
          continue;
        }
        if (!hosts.length) {
          fail(true, `${domain} accepts no mail (null MX)`);
          continue;
        }
        let last = `${domain}: no MX host answered`;
        let done = false;
        // each MX name's addresses come from the same resolver (so `dnsServers` is the
        // whole truth); nodemailer gets the IP and the name for SNI
        const targets: Array<{ host: string; ip: string }> = [];
        for (const name of hosts) {
          const ips = [...(await resolver.resolve4(name).catch(() => [] as string[])), ...(await resolver.resolve6(name).catch(() => [] as string[]))];
          if (!ips.length) last = `${name}: no address`;
          targets.push(...ips.map((ip) => ({ host: name, ip })));
        }
        for (const { host, ip } of targets) {
          try {
            const r = await sendVia(
              {
                host: ip,
                port: config.port,
                secure: false,
                name: config.heloName,
                opportunisticTLS: true,
                tls: { rejectUnauthorized: false, servername: isIP(host) ? undefined : host },
                ...TIMEOUTS,
              },
              { from: envelope.from, to: rcpts },
              raw,
            );
            result.accepted.push(...r.accepted);
            if (r.accepted.length) result.response = [result.response, `${host}: ${r.response ?? ""}`].filter(Boolean).join("; ");
            result.failed.push(...r.failed.map((f) => ({ ...f, message: `${host}: ${f.message}` })));
            done = true;
            break;
          } catch (e) {
            last = `${host} [${ip}]: ${describe(e)}`;
            // a 5xx is the domain's answer; anything else (no connection, 4xx): next MX
            if (isPermanent(e)) {
              fail(true, last);
              done = true;
              break;
            }
          }
        }
        if (!done) fail(false, last);
      }
      return result;
    },
  };
}
