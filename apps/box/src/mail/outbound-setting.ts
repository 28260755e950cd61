import { MAIL_SETTINGS_KEY, mailOutboundStored, type MailOutboundStored } from "@hearth/contracts";
import { getSetting, openSecret, type Db } from "@hearth/db";
import type { Logger } from "../logger";
import { createOutbound, type DeliveryResult, type Envelope, type Outbound, type OutboundConfig } from "./outbound";

/**
 * The outbound path as the admin set it (Setting `mail.outbound`, see contracts mail.ts),
 * live: every message reads the row (one primary-key lookup) and the transport is rebuilt
 * only when the stored value changed, so a change in the dashboard applies to the next
 * message without a restart and without admin having to tell box. No row: direct delivery.
 *
 * A row that cannot be used (its password does not open with HEARTH_SECRET_KEY, there is no
 * key, or the value does not parse) fails every message as temporary (the app gets a 4xx
 * and retries) and logs one error per stored value, never the value itself.
 */
export interface SettingOutboundOptions {
  db: Db;
  secretKey: Buffer | null;
  /** the EHLO name for direct delivery when the setting names none (the host name) */
  heloName: string;
  log: Logger;
  /** direct delivery's port and DNS servers (tests point them at loopback) */
  direct?: { port?: number; dnsServers?: string[] };
}

export type ResolvedOutbound = { ok: true; outbound: Outbound; via: string } | { ok: false; reason: string };

const SECURITY_WORDS = { starttls: "STARTTLS", tls: "TLS", none: "no TLS required" } as const;

/** What a stored setting means for nodemailer (outbound.ts), and a line that names it without secrets. */
export function outboundConfigOf(s: MailOutboundStored, password: string | null, o: Pick<SettingOutboundOptions, "heloName" | "direct">): { config: OutboundConfig; via: string } {
  if (s.mode === "direct") {
    const heloName = s.heloName ?? o.heloName;
    return { config: { mode: "direct", heloName, ...o.direct }, via: `direct delivery to the recipients' MX hosts (EHLO ${heloName})` };
  }
  return {
    config: {
      mode: "smarthost",
      host: s.host,
      port: s.port,
      secure: s.security === "tls",
      requireTLS: s.security === "starttls",
      ...(s.username !== null && password !== null ? { username: s.username, password } : {}),
      ...(s.caCertificate ? { ca: s.caCertificate } : {}),
    },
    via: `smarthost ${s.host}:${s.port} (${SECURITY_WORDS[s.security]}${s.username !== null ? ", with a login" : ""})`,
  };
}

export class SettingOutbound implements Outbound {
  private cached: { key: string; resolved: ResolvedOutbound } | null = null;
  private lastMode: "smarthost" | "direct" = "direct";

  constructor(private readonly o: SettingOutboundOptions) {}

  /** The mode of the setting the last message (or resolve) used. */
  get mode(): "smarthost" | "direct" {
    return this.lastMode;
  }

  /** The transport for the setting stored now. */
  async resolve(): Promise<ResolvedOutbound> {
    const value = await getSetting(this.o.db, MAIL_SETTINGS_KEY);
    const key = JSON.stringify(value);
    if (this.cached?.key === key) return this.cached.resolved;
    const resolved = this.build(value);
    if (!resolved.ok) this.o.log.error({ setting: MAIL_SETTINGS_KEY, reason: resolved.reason }, "mail relay: the outbound mail setting cannot be used");
    else this.o.log.info({ setting: MAIL_SETTINGS_KEY, outbound: resolved.outbound.mode }, "mail relay: outbound mail setting loaded");
    this.cached = { key, resolved };
    return resolved;
  }

  async deliver(envelope: Envelope, raw: Buffer): Promise<DeliveryResult> {
    let r: ResolvedOutbound;
    try {
      r = await this.resolve();
    } catch (e) {
      this.o.log.error({ err: e }, "mail relay: cannot read the outbound mail setting");
      r = { ok: false, reason: "the outbound mail setting cannot be read" };
    }
    if (!r.ok) {
      return { accepted: [], failed: envelope.to.map((rcpt) => ({ rcpt, permanent: false, message: `this server's outbound mail setting cannot be used (${r.reason}); the admin must fix it` })) };
    }
    this.lastMode = r.outbound.mode;
    return r.outbound.deliver(envelope, raw);
  }

  private build(value: unknown): ResolvedOutbound {
    const parsed = value === null ? ({ success: true, data: { mode: "direct", heloName: null } } as const) : mailOutboundStored.safeParse(value);
    if (!parsed.success) return { ok: false, reason: "the stored setting is not valid; save it again" };
    const s = parsed.data;
    let password: string | null = null;
    if (s.mode === "smarthost" && s.passwordEnc !== null) {
      if (!this.o.secretKey) return { ok: false, reason: "HEARTH_SECRET_KEY is not configured, so the smarthost password cannot be opened" };
      try {
        password = openSecret(this.o.secretKey, s.passwordEnc);
      } catch {
        return { ok: false, reason: "the smarthost password does not open with this server's HEARTH_SECRET_KEY; enter it again" };
      }
    }
    try {
      const { config, via } = outboundConfigOf(s, password, this.o);
      this.lastMode = s.mode;
      return { ok: true, outbound: createOutbound(config), via };
    } catch (e) {
      return { ok: false, reason: (e as Error).message };
    }
  }
}
