import type { MailOutboundRequest, MailOutboundView, SmtpSecurity } from "@hearth/contracts";

/** The mail relay form (Settings page): values, the PUT body, presets. */

export const SECURITY_OPTIONS: { value: SmtpSecurity; label: string; port: number }[] = [
  { value: "starttls", label: "STARTTLS (usually port 587)", port: 587 },
  { value: "tls", label: "TLS from the start (usually port 465)", port: 465 },
  { value: "none", label: "No TLS required (trusted network only)", port: 25 },
];

export interface MailFormValues {
  mode: "direct" | "smarthost";
  heloName: string;
  host: string;
  port: string;
  security: SmtpSecurity;
  username: string;
  /** empty: keep the saved one (if any) */
  password: string;
  caCertificate: string;
}

/** The fields the form shows beside their inputs (ErrorAlert shows the rest). */
export const MAIL_FORM_FIELDS = ["heloName", "host", "port", "security", "username", "password", "caCertificate"] as const;

export function mailFormOf(v: MailOutboundView): MailFormValues {
  if (v.mode === "direct") return { mode: "direct", heloName: v.heloName ?? "", host: "", port: "587", security: "starttls", username: "", password: "", caCertificate: "" };
  return { mode: "smarthost", heloName: "", host: v.host, port: String(v.port), security: v.security, username: v.username ?? "", password: "", caCertificate: v.caCertificate ?? "" };
}

/**
 * PUT /api/v1/settings/mail body. An empty password keeps the saved one; an empty username
 * means no login, so the saved password goes too. A port that is not a number is sent as
 * null for the server to refuse beside the field.
 */
export function mailBody(v: MailFormValues): MailOutboundRequest | Record<string, unknown> {
  if (v.mode === "direct") return { mode: "direct", heloName: v.heloName.trim() || null };
  const username = v.username.trim() || null;
  const port = v.port.trim() === "" ? undefined : /^\d+$/.test(v.port.trim()) ? Number(v.port.trim()) : null;
  return {
    mode: "smarthost",
    host: v.host.trim(),
    ...(port !== undefined ? { port } : {}),
    security: v.security,
    username,
    ...(username === null ? { password: null } : v.password ? { password: v.password } : {}),
    caCertificate: v.caCertificate.trim() ? v.caCertificate : null,
  };
}

/** Switching a saved smarthost to direct delivery forgets it and its password: worth a question. */
export function forgetsSmarthost(saved: MailOutboundView | undefined, v: MailFormValues): boolean {
  return saved?.mode === "smarthost" && v.mode === "direct";
}
