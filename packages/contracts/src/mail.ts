import { z } from "zod";
import { HearthError } from "./errors";

/**
 * The sendmail relay's outbound path (settings/mail): where box hands each message an app
 * submitted.
 *
 *  - direct      to each recipient domain's MX hosts on port 25; `heloName` is the name box
 *                greets them with (null: the server's host name).
 *  - smarthost   one SMTP server the admin names (their provider's submission service), with
 *                optional credentials. `security`:
 *                  starttls  plain connect, STARTTLS required before anything is sent (587)
 *                  tls       implicit TLS from the first byte (465)
 *                  none      TLS not required, for a relay on a trusted network; STARTTLS is
 *                            still used when the host offers it
 *                Whenever TLS is used the host's certificate is verified, against the system's
 *                CAs plus `caCertificate` (PEM) when given.
 *
 * The password is write-only. On PUT: absent keeps the stored one (if the stored setting is a
 * smarthost), `null` removes it, a string replaces it. Switching to direct forgets the whole
 * smarthost, password included. A username needs a password and the other way round.
 */
export const MAIL_SETTINGS_KEY = "mail.outbound";
export const SMTP_SECURITY = ["starttls", "tls", "none"] as const;
export type SmtpSecurity = (typeof SMTP_SECURITY)[number];

const HOST_NAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
/**
 * A host name (one label such as `localhost` is fine) in lower case. Its last label may not
 * be all digits (no top-level domain is): `256.1.1.1` looks like an address, and an
 * address must be a valid one.
 */
export const mailHostName = z
  .string()
  .trim()
  .toLowerCase()
  .regex(HOST_NAME, "must be a host name like smtp.example.com")
  .refine((h) => !/(^|\.)\d+$/.test(h), "a numeric host must be a valid IPv4 address");
/** A host name or an IPv4/IPv6 address. */
const mailHost = z.union([z.ipv4(), z.ipv6(), mailHostName], { error: "must be a host name like smtp.example.com or an IP address" });
const pemText = z
  .string()
  .max(64 * 1024)
  .regex(/-----BEGIN CERTIFICATE-----/, "must be PEM text (-----BEGIN CERTIFICATE-----)");

/** PUT /api/v1/settings/mail */
export const mailOutboundRequest = z.discriminatedUnion(
  "mode",
  [
    z.strictObject({
      mode: z.literal("direct"),
      heloName: mailHostName.nullable().optional(),
    }),
    z.strictObject({
      mode: z.literal("smarthost"),
      host: mailHost,
      port: z.number({ error: "must be a port number" }).int("must be a port number").min(1, "must be 1–65535").max(65535, "must be 1–65535").default(587),
      security: z.enum(SMTP_SECURITY, { error: "must be starttls, tls or none" }).default("starttls"),
      username: z.string().trim().min(1, "must not be empty").max(254).nullable().optional(),
      /** write-only: absent keeps the stored one, null removes it */
      password: z.string().min(1, "must not be empty").max(512).nullable().optional(),
      caCertificate: pemText.nullable().optional(),
    }),
  ],
  { error: "must be direct or smarthost" },
);
export type MailOutboundRequest = z.infer<typeof mailOutboundRequest>;

/** GET/PUT /api/v1/settings/mail answer: the setting without the password. */
export const mailOutboundView = z.discriminatedUnion("mode", [
  z.object({ mode: z.literal("direct"), heloName: z.string().nullable() }),
  z.object({
    mode: z.literal("smarthost"),
    host: z.string(),
    port: z.number(),
    security: z.enum(SMTP_SECURITY),
    username: z.string().nullable(),
    hasPassword: z.boolean(),
    caCertificate: z.string().nullable(),
  }),
]);
export type MailOutboundView = z.infer<typeof mailOutboundView>;

/** The Setting row's value: the view with the password sealed (packages/db sealSecret). */
export const mailOutboundStored = z.discriminatedUnion("mode", [
  z.object({ mode: z.literal("direct"), heloName: z.string().nullable() }),
  z.object({
    mode: z.literal("smarthost"),
    host: z.string(),
    port: z.number().int().min(1).max(65535),
    security: z.enum(SMTP_SECURITY),
    username: z.string().nullable(),
    passwordEnc: z.string().nullable(),
    caCertificate: z.string().nullable(),
  }),
]);
export type MailOutboundStored = z.infer<typeof mailOutboundStored>;

export const DEFAULT_MAIL_OUTBOUND: MailOutboundStored = { mode: "direct", heloName: null };

export function mailOutboundViewOf(s: MailOutboundStored): MailOutboundView {
  if (s.mode === "direct") return { mode: "direct", heloName: s.heloName };
  const { passwordEnc, ...rest } = s;
  return { ...rest, hasPassword: passwordEnc !== null };
}

/**
 * The row a PUT stores, from the request and the stored row (for the kept password).
 * `seal` turns a new password into its sealed form. A username without a password or the
 * other way round (after keeping) is HearthError("invalid") with the field in details.
 */
export function nextMailOutbound(req: MailOutboundRequest, stored: MailOutboundStored, seal: (password: string) => string): MailOutboundStored {
  if (req.mode === "direct") return { mode: "direct", heloName: req.heloName ?? null };
  const username = req.username ?? null;
  const passwordEnc = req.password === null ? null : req.password !== undefined ? seal(req.password) : stored.mode === "smarthost" ? stored.passwordEnc : null;
  const refuse = (field: string, message: string) => new HearthError("invalid", "Request body is invalid", { details: [{ path: [field], code: "custom", message }] });
  // a kept password is never sent to another server than the one it was entered for
  if (req.password === undefined && passwordEnc !== null && stored.mode === "smarthost") {
    const moved = (["host", "port", "security"] as const).filter((f) => req[f] !== stored[f]);
    if (moved.length > 0) throw refuse("password", `must be entered again when ${moved.join(" or ")} change${moved.length === 1 ? "s" : ""}`);
  }
  if (username !== null && passwordEnc === null) throw refuse("password", "required with a username");
  if (username === null && passwordEnc !== null) throw refuse("username", "required with a password (or remove the password)");
  return { mode: "smarthost", host: req.host, port: req.port, security: req.security, username, passwordEnc, caCertificate: req.caCertificate ?? null };
}

/** POST /api/v1/settings/mail/test: box sends a short message to `to` (task `mail.test`). */
export const mailTestRequest = z.strictObject({ to: z.email("must be an email address").max(254) });
export const mailTestTaskArgs = z.object({ to: z.string() });
