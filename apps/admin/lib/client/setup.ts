import type { CertificateView, TlsMode } from "@hearth/contracts";

/** Where the first run's domain step stands (app/setup/domain/DomainStep.tsx). */
export type SetupOutcome =
  | { kind: "waiting"; issued: boolean }
  /** moved: this address redirects to my.<domain>, which this browser opens */
  | { kind: "trusted" }
  /** moved, but this browser cannot open the new address */
  | { kind: "unreachable"; staging: boolean }
  /** my.<domain> has its certificate but this address does not redirect: both work */
  | { kind: "available" }
  | { kind: "untrusted"; why: string }
  | { kind: "failed"; cert: CertificateView | undefined };

export const isValid = (c: CertificateView | undefined): boolean => c !== undefined && (c.status === "valid" || c.status === "expiring");

/**
 * Where the step stands. The catch: once my.<domain> has a certificate, box makes this
 * address (the IP URL) redirect there, in the same nginx reload that serves the certificate;
 * from then on this page's API calls fail (the redirect leaves the origin), often before the
 * page has seen the certificate or the task's end. So the page asks directly:
 *  - redirected: does this address now answer with a redirect (a fetch with redirect:
 *    "manual" sees an opaque redirect)?
 *  - reachable: does this browser open https://my.<domain>/ (a no-cors request, which fails
 *    on a certificate the browser does not trust or a name it cannot resolve)? null: not
 *    known yet.
 */
export function outcomeOf(s: { tlsMode: TlsMode; cert: CertificateView | undefined; taskDone: boolean; redirected: boolean; reachable: boolean | null }): SetupOutcome {
  if (s.tlsMode === "fallback") return { kind: "untrusted", why: "The domain uses a self-signed certificate: browsers warn about it." };
  const staging = s.tlsMode === "letsencrypt-staging";
  if (s.redirected) {
    if (s.reachable === null) return { kind: "waiting", issued: true };
    if (!s.reachable) return { kind: "unreachable", staging };
    return staging ? { kind: "untrusted", why: "Its certificate comes from Let's Encrypt staging, which browsers do not trust." } : { kind: "trusted" };
  }
  if (!s.taskDone) return { kind: "waiting", issued: isValid(s.cert) };
  if (isValid(s.cert)) return staging ? { kind: "untrusted", why: "Its certificate comes from Let's Encrypt staging, which browsers do not trust." } : { kind: "available" };
  return { kind: "failed", cert: s.cert };
}
