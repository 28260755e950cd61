import { LETSENCRYPT_PRODUCTION, LETSENCRYPT_STAGING } from "@hearth/contracts";

/** The ACME settings form (Certificates page, first run): presets, values, the PUT body. */

export const ACME_PRESETS = [
  { value: "letsencrypt", label: "Let's Encrypt", url: LETSENCRYPT_PRODUCTION },
  { value: "letsencrypt-staging", label: "Let's Encrypt staging (untrusted, for testing)", url: LETSENCRYPT_STAGING },
  { value: "custom", label: "Another ACME directory (ZeroSSL, step-ca, …)", url: "" },
] as const;
export type AcmePreset = (typeof ACME_PRESETS)[number]["value"];

export function acmePresetOf(url: string): AcmePreset {
  return ACME_PRESETS.find((p) => p.url !== "" && p.url === url)?.value ?? "custom";
}

export function acmeUrlOf(preset: AcmePreset, custom: string): string {
  return ACME_PRESETS.find((p) => p.value === preset)?.url || custom.trim();
}

export interface AcmeFormValues {
  preset: AcmePreset;
  customUrl: string;
  email: string;
  caCertificate: string;
}

export const ACME_FORM_FIELDS = ["directoryUrl", "email", "caCertificate"] as const;

export function acmeFormOf(s: { directoryUrl: string; email: string | null; caCertificate: string | null }, fallbackEmail = ""): AcmeFormValues {
  const preset = acmePresetOf(s.directoryUrl);
  return { preset, customUrl: preset === "custom" ? s.directoryUrl : "", email: s.email ?? fallbackEmail, caCertificate: s.caCertificate ?? "" };
}

/** PUT /api/v1/settings/acme body. */
export function acmeBody(v: AcmeFormValues): { directoryUrl: string; email: string; caCertificate: string | null } {
  return { directoryUrl: acmeUrlOf(v.preset, v.customUrl), email: v.email.trim(), caCertificate: v.caCertificate.trim() ? v.caCertificate : null };
}

/** Enough to send: an email, and a URL when the directory is custom. */
export function missingAcmeFields(v: AcmeFormValues): Record<string, string> {
  const out: Record<string, string> = {};
  if (!v.email.trim()) out.email = "Enter an email address";
  if (v.preset === "custom" && !v.customUrl.trim()) out.directoryUrl = "Enter the ACME directory URL";
  return out;
}

/**
 * The notice above the ACME form while no email is saved. The field is filled in with the
 * admin's own address as a suggestion, so the notice says that address is not saved yet
 * rather than "no email" beside a field that shows one. Null once an email is saved.
 */
export function acmeEmailNotice(savedEmail: string | null, fieldEmail: string): string | null {
  if (savedEmail !== null) return null;
  const shown = fieldEmail.trim();
  if (shown) return `The email ${shown} is filled in but not saved yet: certificates cannot be ordered until you save it.`;
  return "No email is set yet: certificates cannot be ordered until you save one.";
}
