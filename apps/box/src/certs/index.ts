/**
 * Certificates: the ACME engine (acme.ts), reading and validating PEM (inspect.ts), custom
 * uploads (custom.ts), atomic pair storage (store.ts) and renewal planning (renewal.ts).
 * No database access here: box's certificate service wires these to its tables, tasks,
 * the nginx vhosts and node-cron.
 */
export {
  AcmeEngine,
  DEFAULT_DIRECTORY_URL,
  LETSENCRYPT_PRODUCTION,
  LETSENCRYPT_STAGING,
  type AcmeEngineOptions,
  type AcmeSettings,
  type ChallengeType,
  type IssueRequest,
  type IssuedCertificate,
  type WaitForPropagation,
} from "./acme";
export { accountKeyPath } from "./account";
export { customCertificateSlug, installCustomCertificate, type InstalledCustomCertificate } from "./custom";
export {
  inspectCertificate,
  needsRenewal,
  parseChain,
  RENEW_BEFORE_DAYS,
  splitPemCertificates,
  type CertificateInfo,
} from "./inspect";
export { certificateSlug, isWildcard, nameCovers, namesKey, normalizeNames, uncoveredNames } from "./names";
export {
  DEFAULT_RENEWAL_POLICY,
  planRenewals,
  renewalCronExpression,
  retryDelayMs,
  type RenewalCandidate,
  type RenewalDecision,
  type RenewalPlan,
  type RenewalPolicy,
} from "./renewal";
export { FileCertificateStore, type CertificatePair, type CertificatePaths, type CertificateStore } from "./store";
