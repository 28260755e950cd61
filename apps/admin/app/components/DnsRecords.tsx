"use client";

import type { DnsRecordView, DomainProvider } from "@hearth/contracts";
import { providerShortLabel } from "../../lib/client/domains";
import { CopyButton } from "./CopyButton";

/** GET /api/v1/domains/:d/records */
export interface DomainRecords {
  domain: string;
  provider: DomainProvider;
  managed: boolean;
  addresses: { ipv4: string | null; ipv6: string | null; source: "settings" | "detected" };
  records: DnsRecordView[];
}

export function recordsIntro(r: Pick<DomainRecords, "provider">): string {
  switch (r.provider) {
    case "manual":
      return "Create these records at your DNS host. Hearth does not check them; a name's certificate can only be issued once its record points here.";
    case "wildcard":
      return "One wildcard record covers every app. Create it at your DNS host if it does not exist yet.";
    case "noop":
      return "Hearth does nothing with DNS for this domain. For reference, these are the names it serves and where they should point.";
    default:
      return `Hearth creates and removes these records itself through ${providerShortLabel(r.provider)}: nothing to do here.`;
  }
}

/**
 * The A/AAAA records a domain needs, each name and value with a copy button: for a manual
 * domain the admin's to-do list, for an API provider what Hearth keeps in the zone.
 */
export function DnsRecords({ r }: { r: DomainRecords }) {
  return (
    <>
      <p className={r.provider === "manual" || r.provider === "wildcard" ? "alert alert-info" : "muted"}>{recordsIntro(r)}</p>
      {r.records.length === 0 ? (
        <p className="muted">
          {r.addresses.ipv4 || r.addresses.ipv6
            ? "No names are served on this domain yet: install an app on it first."
            : "This server has no address to point records at: set one under Server address on the Domains page."}
        </p>
      ) : (
        <div className="table-wrap">
          <table className="table records-table" aria-label={`DNS records of ${r.domain}`}>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Type</th>
                <th scope="col">Value</th>
              </tr>
            </thead>
            <tbody>
              {r.records.map((rec) => (
                <tr key={`${rec.name}-${rec.type}`}>
                  <td>
                    <span className="copy-cell">
                      <code>{rec.name}</code>
                      <CopyButton text={rec.name} label={`Copy the name ${rec.name}`} />
                    </span>
                  </td>
                  <td>{rec.type}</td>
                  <td>
                    <span className="copy-cell">
                      <code>{rec.value}</code>
                      <CopyButton text={rec.value} label={`Copy the ${rec.type} value of ${rec.name}`} />
                    </span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <p className="hint">
        {r.addresses.source === "settings"
          ? "The records point at the address set under Server address."
          : "The records point at the address detected on this server's network interfaces; set another under Server address (Domains page) if the server is behind NAT."}
        {r.provider === "manual" ? " Names are fully qualified; some DNS hosts want only the part before the domain." : ""}
      </p>
    </>
  );
}
