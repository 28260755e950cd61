"use client";

import { useQuery } from "@tanstack/react-query";
import type { DomainView } from "@hearth/contracts";
import { api } from "../../../lib/client/api";
import { Modal } from "../../components/ConfirmDialog";
import { DnsRecords, type DomainRecords } from "../../components/DnsRecords";
import { ErrorAlert } from "../../components/ErrorAlert";

/** The A/AAAA records a domain needs (GET /api/v1/domains/:d/records), in a dialog. */
export function RecordsDialog({ domain, onClose }: { domain: DomainView | null; onClose: () => void }) {
  const records = useQuery({
    queryKey: ["domain-records", domain?.domain],
    queryFn: () => api<DomainRecords>(`/api/v1/domains/${encodeURIComponent(domain!.domain)}/records`),
    enabled: domain !== null,
  });
  return (
    <Modal open={domain !== null} onClose={onClose} labelledBy="records-title" wide>
      <div className="form">
        <h2 id="records-title">DNS records of {domain?.domain}</h2>
        {records.isPending ? <p className="muted">Loading…</p> : null}
        <ErrorAlert error={records.error} />
        {records.data ? <DnsRecords r={records.data} /> : null}
        <div className="row row-end">
          <button type="button" className="btn" onClick={onClose}>
            Close
          </button>
        </div>
      </div>
    </Modal>
  );
}
