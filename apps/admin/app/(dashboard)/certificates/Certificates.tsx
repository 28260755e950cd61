"use client";

import Link from "next/link";
import { useCallback, useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { CertificateView } from "@hearth/contracts";
import { api } from "../../../lib/client/api";
import { certificateKindLabel, STATUS_INFO } from "../../../lib/client/domains";
import { fmtDate, fmtDateTime, fmtRelative } from "../../../lib/client/format";
import { ErrorAlert } from "../../components/ErrorAlert";
import { EmptyState, PageHeader } from "../../components/EmptyState";
import { Table } from "../../components/Table";
import { TaskProgress } from "../../components/TaskProgress";
import { AcmeCard } from "./AcmeCard";

interface Watched {
  taskId: string;
  subject: string;
}

/**
 * Every certificate Hearth serves or tries to get: names, domain, kind, issuer, expiry,
 * status, the last attempt and its error. "Renew now" renews one (even when not due),
 * "Renew due certificates" runs what the twice-daily job would; both show the task.
 */
export function Certificates() {
  const qc = useQueryClient();
  const [watched, setWatched] = useState<Watched[]>([]);
  const certificates = useQuery({
    queryKey: ["certificates"],
    queryFn: () => api<{ certificates: CertificateView[] }>("/api/v1/certificates"),
    // pending ones change by themselves (a domain.sync or an install is ordering them)
    refetchInterval: (q) => (watched.length > 0 || q.state.data?.certificates.some((c) => c.status === "pending") ? 3000 : 30_000),
  });
  const watch = (taskId: string, subject: string) => setWatched((w) => (w.some((x) => x.taskId === taskId) ? w : [...w, { taskId, subject }]));
  const onDone = useCallback(() => void qc.invalidateQueries({ queryKey: ["certificates"] }), [qc]);

  const renew = useMutation({
    mutationFn: (c: CertificateView | null) => api<{ taskId: string }>(c ? `/api/v1/certificates/${encodeURIComponent(c.id)}/renew` : "/api/v1/certificates/renew", { method: "POST" }),
    onSuccess: (r, c) => watch(r.taskId, c ? c.names.join(", ") : "all due certificates"),
  });
  const list = certificates.data?.certificates;

  return (
    <>
      <PageHeader title="Certificates" description="The TLS certificates of the dashboard and your apps. Hearth renews them 30 days before they expire, twice a day.">
        <button type="button" className="btn" onClick={() => renew.mutate(null)} disabled={renew.isPending}>
          Renew due certificates
        </button>
      </PageHeader>
      <div className="stack">
        <ErrorAlert error={certificates.error} />
        <ErrorAlert error={renew.error} />
        {watched.map((w) => (
          <TaskProgress key={w.taskId} taskId={w.taskId} subject={w.subject} onDone={onDone} onDismiss={() => setWatched((all) => all.filter((x) => x.taskId !== w.taskId))} />
        ))}
        {certificates.isPending ? <p className="muted">Loading certificates…</p> : null}
        {list && list.length === 0 ? (
          <EmptyState icon="shield" title="No certificates yet">
            <p>
              Certificates are ordered when you add a <Link href="/domains">domain</Link> and install apps on it.
            </p>
          </EmptyState>
        ) : null}
        {list && list.length > 0 ? (
          <Table card="Certificates" className="cert-table" columns={["Names", "Domain", "Kind", "Issuer", "Expires", "Status", "Last attempt"]} actions>
            {list.map((c) => (
              <CertificateRow key={c.id} c={c} onRenew={() => renew.mutate(c)} renewing={renew.isPending && renew.variables?.id === c.id} />
            ))}
          </Table>
        ) : null}
        <AcmeCard />
      </div>
    </>
  );
}

function CertificateRow({ c, onRenew, renewing }: { c: CertificateView; onRenew: () => void; renewing: boolean }) {
  const status = STATUS_INFO[c.status];
  return (
    <tr>
      <td>
        <div className="cell-stack">
          {c.names.map((n) => (
            <span key={n} className="mono nowrap">
              {n}
            </span>
          ))}
        </div>
      </td>
      <td className="nowrap">{c.domain}</td>
      <td className="nowrap">{certificateKindLabel(c)}</td>
      <td className="issuer">{c.issuer ?? <span className="muted">—</span>}</td>
      <td className="nowrap">
        {c.notAfter ? (
          <div className="cell-stack">
            <span>{fmtRelative(c.notAfter)}</span>
            <span className="muted small">{fmtDate(c.notAfter)}</span>
          </div>
        ) : (
          <span className="muted">—</span>
        )}
      </td>
      <td>
        <span className={status.badge}>{status.label}</span>
      </td>
      <td className="attempt">
        {c.lastAttemptAt ? (
          <time className="nowrap" dateTime={c.lastAttemptAt} title={fmtDateTime(c.lastAttemptAt)}>
            {fmtRelative(c.lastAttemptAt)}
          </time>
        ) : (
          <span className="muted">—</span>
        )}
        {c.lastError ? (
          <details className="cert-error">
            <summary>{c.status === "valid" ? "Last renewal failed" : "Error"}</summary>
            <p>{c.lastError}</p>
            {c.nextAttemptAt ? <p className="muted small">Next try {fmtRelative(c.nextAttemptAt)}.</p> : null}
          </details>
        ) : null}
      </td>
      <td className="actions">
        {c.kind === "acme" ? (
          <button type="button" className="btn btn-sm" aria-label={`Renew ${c.names.join(", ")} now`} onClick={onRenew} disabled={renewing}>
            Renew now
          </button>
        ) : null}
      </td>
    </tr>
  );
}
