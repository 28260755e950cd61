import { validateCustomCertificate } from "@hearth/contracts/x509";
import { inspectCertificate, type CertificateInfo } from "./inspect";
import { certificateSlug, normalizeNames } from "./names";
import type { CertificatePaths, CertificateStore } from "./store";

/**
 * An admin's own certificate (tlsMode `custom`): validated with the same rules admin applies
 * at upload (@hearth/contracts/x509: pair, validity, names, chain) and only then stored like an ACME one, atomically. A refused
 * upload throws HearthError `invalid` and leaves whatever was stored untouched. Stored under
 * `_custom.<slug>` so switching a domain between custom and ACME keeps both pairs.
 */
export function customCertificateSlug(names: readonly string[]): string {
  return `_custom.${certificateSlug(names)}`;
}

export interface InstalledCustomCertificate extends CertificatePaths {
  slug: string;
  info: CertificateInfo;
}

export async function installCustomCertificate(store: CertificateStore, input: { names: string[]; certPem: string; keyPem: string; now: Date; slug?: string }): Promise<InstalledCustomCertificate> {
  const names = normalizeNames(input.names);
  const slug = input.slug ?? customCertificateSlug(names);
  store.paths(slug);
  const v = validateCustomCertificate({ certificate: input.certPem, key: input.keyPem, names, now: input.now });
  const paths = await store.write(slug, { certPem: v.chainPem, keyPem: v.keyPem });
  return { ...paths, slug, info: inspectCertificate(v.chainPem) };
}
