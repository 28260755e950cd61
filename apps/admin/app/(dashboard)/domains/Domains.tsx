"use client";

import Link from "next/link";
import { useCallback, useEffect, useState } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import type { AppView, CertificateView, DomainView } from "@hearth/contracts";
import { api, ApiError } from "../../../lib/client/api";
import { certificateSummary, providerShortLabel, STATUS_INFO, tlsModeShortLabel } from "../../../lib/client/domains";
import { ConfirmDialog, useConfirm } from "../../components/ConfirmDialog";
import { ErrorAlert } from "../../components/ErrorAlert";
import { EmptyState, PageHeader } from "../../components/EmptyState";
import { Table } from "../../components/Table";
import { TaskProgress } from "../../components/TaskProgress";
import { DomainDialog } from "./DomainDialog";
import { NetworkCard } from "./NetworkCard";
import { RecordsDialog } from "./RecordsDialog";

/** A domain.sync task on screen: kept after it finished (with its result) until dismissed. */
interface Watched {
  taskId: string;
  domain: string;
}

/**
 * Domains: each with its DNS provider and TLS mode, the state of its certificates, the
 * domain.sync task that applies a change (progress and log), its DNS records, and the
 * server's address the records point at.
 */
export function Domains() {
  const qc = useQueryClient();
  const domains = useQuery({
    queryKey: ["domains"],
    queryFn: () => api<{ domains: DomainView[] }>("/api/v1/domains"),
    // while box applies a change, so that a new task (or its end) shows without a reload
    refetchInterval: (q) => (q.state.data?.domains.some((d) => d.taskId) ? 2000 : 30_000),
  });
  const certificates = useQuery({ queryKey: ["certificates"], queryFn: () => api<{ certificates: CertificateView[] }>("/api/v1/certificates"), refetchInterval: 30_000 });
  const [watched, setWatched] = useState<Watched[]>([]);
  const [dialog, setDialog] = useState<{ mode: "add" } | { mode: "edit"; domain: DomainView } | null>(null);
  const [records, setRecords] = useState<DomainView | null>(null);
  const list = domains.data?.domains;

  const watch = useCallback((taskId: string, domain: string) => {
    setWatched((w) => (w.some((x) => x.taskId === taskId) ? w : [...w.filter((x) => x.domain !== domain || x.taskId === taskId), { taskId, domain }]));
  }, []);
  // a task started elsewhere (another admin, the network settings, a removed dashboard domain)
  useEffect(() => {
    for (const d of list ?? []) if (d.taskId) watch(d.taskId, d.domain);
  }, [list, watch]);

  // /domains?edit=<domain> (a notification's "use a self-signed or uploaded certificate") opens that domain's settings once
  const [editParam, setEditParam] = useState<string | null>(null);
  useEffect(() => {
    setEditParam(new URLSearchParams(window.location.search).get("edit"));
  }, []);
  useEffect(() => {
    if (!editParam || !list) return;
    const d = list.find((x) => x.domain === editParam);
    if (d) setDialog({ mode: "edit", domain: d });
    setEditParam(null);
  }, [editParam, list]);

  const onTaskDone = useCallback(() => {
    void qc.invalidateQueries({ queryKey: ["domains"] });
    void qc.invalidateQueries({ queryKey: ["certificates"] });
  }, [qc]);

  const remove = useConfirm(
    (d: DomainView) => api(`/api/v1/domains/${encodeURIComponent(d.domain)}`, { method: "DELETE" }),
    (_r, d) => {
      setWatched((w) => w.filter((x) => x.domain !== d.domain));
      void qc.invalidateQueries({ queryKey: ["domains"] });
      void qc.invalidateQueries({ queryKey: ["certificates"] });
    },
  );
  const modalOpen = dialog !== null || records !== null || remove.target !== null;

  return (
    <>
      <PageHeader title="Domains" description="Domains your apps are served from, how their DNS records are made and where their certificates come from.">
        <button type="button" className="btn btn-primary" onClick={() => setDialog({ mode: "add" })}>
          Add domain
        </button>
      </PageHeader>
      <div className="stack" aria-hidden={modalOpen ? true : undefined}>
        <ErrorAlert error={domains.error} />
        {domains.isPending ? <p className="muted">Loading domains…</p> : null}
        {list && list.length === 0 ? (
          <EmptyState icon="globe" title="No domains yet">
            <p>Add a domain to install apps on it. The first one also serves this dashboard at my.&lt;domain&gt;.</p>
            <button type="button" className="btn btn-primary empty-action" onClick={() => setDialog({ mode: "add" })}>
              Add domain
            </button>
          </EmptyState>
        ) : null}

        {watched.map((w) => (
          <TaskProgress key={w.taskId} taskId={w.taskId} subject={w.domain} onDone={onTaskDone} onDismiss={() => setWatched((all) => all.filter((x) => x.taskId !== w.taskId))} />
        ))}

        {list && list.length > 0 ? (
          <Table card="Domains" columns={["Domain", "DNS provider", "Certificates", "Status"]} actions>
            {list.map((d) => (
              <DomainRow
                key={d.domain}
                d={d}
                certificates={certificates.data?.certificates}
                onRecords={() => setRecords(d)}
                onEdit={() => setDialog({ mode: "edit", domain: d })}
                onDelete={() => remove.ask(d)}
              />
            ))}
          </Table>
        ) : null}

        <NetworkCard onQueued={() => void qc.invalidateQueries({ queryKey: ["domains"] })} />
      </div>

      <DomainDialog
        state={dialog}
        onClose={() => setDialog(null)}
        onSaved={(d) => {
          setDialog(null);
          if (d.taskId) watch(d.taskId, d.domain);
          void qc.invalidateQueries({ queryKey: ["domains"] });
          void qc.invalidateQueries({ queryKey: ["certificates"] });
        }}
      />
      <RecordsDialog domain={records} onClose={() => setRecords(null)} />
      <ConfirmDialog id="remove-domain" title={`Delete ${remove.target?.domain ?? ""}?`} confirmLabel="Delete" {...remove.dialog} error={null}>
        {remove.target ? <DeleteExplanation d={remove.target} others={(list ?? []).filter((x) => x.domain !== remove.target!.domain)} error={remove.dialog.error} /> : null}
      </ConfirmDialog>
    </>
  );
}

function DomainRow({ d, certificates, onRecords, onEdit, onDelete }: { d: DomainView; certificates: CertificateView[] | undefined; onRecords: () => void; onEdit: () => void; onDelete: () => void }) {
  const summary = certificates ? certificateSummary(certificates, d.domain) : null;
  return (
    <tr>
      <td>
        <div className="cell-stack">
          <strong>{d.domain}</strong>
          {d.isDashboardDomain ? (
            <span className="badge badge-info" title="This domain also serves the dashboard">
              Dashboard: my.{d.domain}
            </span>
          ) : null}
        </div>
      </td>
      <td>{providerShortLabel(d.provider)}</td>
      <td>
        <div className="cell-stack">
          <span>{tlsModeShortLabel(d.tlsMode)}</span>
          {summary?.text ? (
            <Link href="/certificates" className={`${STATUS_INFO[summary.worst!].badge} badge-link`} title="See the Certificates page">
              {summary.text}
            </Link>
          ) : certificates ? (
            <span className="muted small">{d.tlsMode === "fallback" ? "Self-signed" : "None yet"}</span>
          ) : null}
        </div>
      </td>
      <td>
        {d.taskId ? (
          <span className="badge badge-info">Applying changes…</span>
        ) : summary?.worst === "failed" || summary?.worst === "expired" ? (
          // the settings are applied, but not everything works: never "Up to date" beside failures
          <Link href="/notifications" className={`${STATUS_INFO[summary.worst].badge} badge-link`}>
            Needs attention
          </Link>
        ) : (
          <span className="badge badge-ok">Up to date</span>
        )}
      </td>
      <td className="actions">
        <div className="row row-end row-tight">
          <button type="button" className="btn btn-sm" aria-label={`DNS records of ${d.domain}`} onClick={onRecords}>
            DNS records
          </button>
          <button type="button" className="btn btn-sm" aria-label={`Edit ${d.domain}`} onClick={onEdit}>
            Edit
          </button>
          <button type="button" className="btn btn-danger-ghost btn-sm" aria-label={`Delete ${d.domain}`} onClick={onDelete}>
            Delete
          </button>
        </div>
      </td>
    </tr>
  );
}

/** What deleting does, and (after a 409) which apps still use the domain. */
function DeleteExplanation({ d, others, error }: { d: DomainView; others: DomainView[]; error: unknown }) {
  const inUse = error instanceof ApiError && error.status === 409 ? ((error.details as { apps?: string[] } | undefined)?.apps ?? []) : null;
  const apps = useQuery({ queryKey: ["apps"], queryFn: () => api<{ apps: AppView[] }>("/api/v1/apps"), enabled: inUse !== null && inUse.length > 0 });
  const next = [...others].sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.domain.localeCompare(b.domain))[0];
  return (
    <>
      <p className="muted">Its certificates and settings are deleted with it. A domain that apps still use cannot be deleted: move or uninstall them first.</p>
      {d.isDashboardDomain ? (
        <p className="alert alert-warn">
          It serves this dashboard at my.{d.domain}. {next ? `The dashboard moves to my.${next.domain}.` : "The dashboard is then only reachable at the server's IP address."}
        </p>
      ) : null}
      {error ? (
        <div className="alert alert-error" role="alert">
          {error instanceof Error ? error.message : "Deleting failed"}
          {inUse && inUse.length > 0 ? (
            <ul className="plain-list">
              {inUse.map((id) => {
                const a = apps.data?.apps.find((x) => x.id === id);
                return (
                  <li key={id}>
                    <Link href={`/apps/${id}`}>{a ? `${a.title} (${a.fqdn})` : id}</Link>
                  </li>
                );
              })}
            </ul>
          ) : null}
        </div>
      ) : null}
    </>
  );
}
