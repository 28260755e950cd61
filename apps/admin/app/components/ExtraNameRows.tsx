"use client";

import type { ApiError } from "../../lib/client/api";
import { LocationFields } from "./LocationFields";

export interface ExtraName {
  subdomain: string;
  domain: string;
}

/**
 * An app's aliases (served like its main address) or redirects (301 to the main address, path
 * kept): rows of subdomain . domain, each with its own labels ("Alias 1 subdomain") so the
 * server's error for ["aliases", 0, …] lands on the right row.
 */
export function ExtraNameRows({
  kind,
  rows,
  onChange,
  domains,
  idPrefix,
  error,
}: {
  kind: "aliases" | "redirects";
  rows: ExtraName[];
  onChange: (rows: ExtraName[]) => void;
  domains: readonly string[];
  idPrefix: string;
  error: ApiError | null;
}) {
  const noun = kind === "aliases" ? "Alias" : "Redirect";
  const set = (i: number, patch: Partial<ExtraName>) => onChange(rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  const listError = error?.errorAt([kind]) && rows.every((_, i) => !error.errorAt([kind, i])) ? error.errorAt([kind]) : undefined;
  return (
    <fieldset className="env-rows">
      <legend>{kind === "aliases" ? "Aliases" : "Redirects"}</legend>
      <p className="hint">{kind === "aliases" ? "More addresses that show the same app." : "Addresses that send visitors to the app's main address (301, the path is kept)."}</p>
      {rows.map((r, i) => (
        <div key={i} className="env-row extra-name-row">
          <LocationFields
            idPrefix={`${idPrefix}-${i}`}
            subdomain={r.subdomain}
            onSubdomain={(v) => set(i, { subdomain: v })}
            domain={r.domain}
            onDomain={(v) => set(i, { domain: v })}
            domains={domains}
            error={error?.errorAt([kind, i])}
            subdomainLabel={`${noun} ${i + 1} subdomain`}
            domainLabel={`${noun} ${i + 1} domain`}
          />
          <button type="button" className="btn btn-danger-ghost btn-sm" aria-label={`Remove ${noun.toLowerCase()} ${i + 1}`} onClick={() => onChange(rows.filter((_, j) => j !== i))}>
            Remove
          </button>
        </div>
      ))}
      {listError ? <p className="field-error">{listError}</p> : null}
      <button type="button" className="btn btn-sm" disabled={domains.length === 0 || rows.length >= 20} onClick={() => onChange([...rows, { subdomain: "", domain: domains[0] ?? "" }])}>
        Add {noun.toLowerCase()}
      </button>
    </fieldset>
  );
}

/** What to send: rows with a domain, subdomains trimmed (an empty subdomain is the bare domain). */
export function extraNamesOf(rows: ExtraName[]): ExtraName[] {
  return rows.filter((r) => r.domain).map((r) => ({ subdomain: r.subdomain.trim().toLowerCase(), domain: r.domain }));
}
