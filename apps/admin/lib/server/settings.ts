import { ACME_SETTINGS_KEY, acmeSettings, LETSENCRYPT_PRODUCTION } from "@hearth/contracts";
import { getSetting, type Db } from "@hearth/db";

/** What GET /api/v1/settings/acme answers: the stored settings, or the defaults with email null. */
export interface AcmeSettingsView {
  directoryUrl: string;
  /** null until an admin sets it (ACME accounts need a contact address) */
  email: string | null;
  caCertificate: string | null;
}

export async function readAcmeSettings(db: Db): Promise<AcmeSettingsView> {
  const r = acmeSettings.safeParse(await getSetting(db, ACME_SETTINGS_KEY));
  if (!r.success) return { directoryUrl: LETSENCRYPT_PRODUCTION, email: null, caCertificate: null };
  return { directoryUrl: r.data.directoryUrl, email: r.data.email, caCertificate: r.data.caCertificate ?? null };
}
