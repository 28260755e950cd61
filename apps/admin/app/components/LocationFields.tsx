import { Field } from "./Field";

/** Where an app (or one of its aliases) lives: "subdomain . domain", the domain chosen from the server's domains. */
export function LocationFields({
  idPrefix,
  subdomain,
  onSubdomain,
  domain,
  onDomain,
  domains,
  error,
  hint,
  subdomainLabel = "Subdomain",
  domainLabel = "Domain",
}: {
  idPrefix: string;
  subdomain: string;
  onSubdomain: (v: string) => void;
  domain: string;
  onDomain: (v: string) => void;
  domains: readonly string[];
  error?: string;
  hint?: string;
  /** labels for several rows of names on one form ("Alias 1 subdomain") */
  subdomainLabel?: string;
  domainLabel?: string;
}) {
  return (
    <div className="location-row">
      <Field id={`${idPrefix}-subdomain`} label={subdomainLabel} value={subdomain} onChange={(e) => onSubdomain(e.target.value)} error={error} hint={hint} />
      <span className="location-dot" aria-hidden="true">
        .
      </span>
      <div className="field">
        <label htmlFor={`${idPrefix}-domain`}>{domainLabel}</label>
        <select id={`${idPrefix}-domain`} value={domain} onChange={(e) => onDomain(e.target.value)} required>
          {domains.map((d) => (
            <option key={d} value={d}>
              {d}
            </option>
          ))}
        </select>
      </div>
    </div>
  );
}
