"use client";

import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { OrphanView, UninstalledAppView } from "@hearth/contracts";
import { api } from "../../../lib/client/api";
import { fmtDateTime } from "../../../lib/client/format";
import { ConfirmDialog, useConfirm } from "../../components/ConfirmDialog";
import { ErrorAlert } from "../../components/ErrorAlert";
import { Field } from "../../components/Field";
import { DangerCell, Table } from "../../components/Table";

/**
 * Data an admin alone deletes: uninstalled apps whose data is kept (restore / delete now)
 * and orphaned data box found (delete). Every delete needs the name typed.
 */

const KIND_TEXT: Record<OrphanView["kind"], string> = { volume: "Files (/app/data volume)", mysql: "MySQL database", postgresql: "PostgreSQL database", redis: "Redis data" };

export function UninstalledApps() {
  const qc = useQueryClient();
  const list = useQuery({
    queryKey: ["uninstalled-apps"],
    queryFn: () => api<{ apps: UninstalledAppView[] }>("/api/v1/uninstalled-apps"),
    refetchInterval: (q) => (q.state.data?.apps.some((a) => a.state === "purging") ? 2000 : 30_000),
  });
  const refresh = () => {
    void qc.invalidateQueries({ queryKey: ["uninstalled-apps"] });
    void qc.invalidateQueries({ queryKey: ["apps"] });
  };
  const [restoreError, setRestoreError] = useState<{ id: string; error: unknown } | null>(null);
  const restore = useMutation({
    mutationFn: (id: string) => api<{ id: string; taskId: string }>(`/api/v1/uninstalled-apps/${encodeURIComponent(id)}/restore`, { method: "POST" }),
    onMutate: () => setRestoreError(null),
    onError: (error, id) => setRestoreError({ id, error }),
    onSuccess: refresh,
  });
  const [typed, setTyped] = useState("");
  const purge = useConfirm((a: UninstalledAppView) => api<{ taskId: string }>(`/api/v1/uninstalled-apps/${encodeURIComponent(a.id)}`, { method: "DELETE", body: { confirm: typed } }), refresh);
  const apps = list.data?.apps ?? [];
  if (!list.error && apps.length === 0) return null;

  return (
    <section className="card kept-data" aria-labelledby="uninstalled-heading">
      <h2 id="uninstalled-heading">Uninstalled</h2>
      <p className="muted">These apps were uninstalled; their data is kept until the date shown. Restore brings an app back as it was.</p>
      <ErrorAlert error={list.error} />
      <ul className="app-grid" aria-label="Uninstalled apps">
        {apps.map((a) => (
          <li key={a.id} className="card app-card">
            <div className="app-card-title">
              <strong>{a.title}</strong>
              <span className="muted">{a.fqdn}</span>
            </div>
            <p className="muted small">
              uninstalled {fmtDateTime(a.uninstalledAt)} ·{" "}
              {a.state === "purging" ? "its data is being deleted (or the last attempt failed: see the event log)" : `data kept until ${fmtDateTime(a.purgeAfter)}`}
            </p>
            {restoreError?.id === a.id ? <ErrorAlert error={restoreError.error} /> : null}
            <div className="row">
              <button type="button" className="btn btn-primary btn-sm" aria-label={`Restore ${a.fqdn}`} disabled={a.state !== "kept" || restore.isPending} onClick={() => restore.mutate(a.id)}>
                Restore
              </button>
              <button
                type="button"
                className="btn btn-danger-ghost btn-sm"
                aria-label={`Delete now ${a.fqdn}`}
                // also while purging: a purge that failed can be tried again (409 while one runs)
                onClick={() => {
                  setTyped("");
                  purge.ask(a);
                }}
              >
                Delete now
              </button>
            </div>
          </li>
        ))}
      </ul>
      <ConfirmDialog id="purge-app" title={`Delete the data of ${purge.target?.fqdn ?? ""} now?`} confirmLabel="Delete now" confirmDisabled={typed !== purge.target?.fqdn} {...purge.dialog}>
        <p className="muted">
          Its files, databases and Redis data are deleted for good; the app can no longer be restored. Type <strong>{purge.target?.fqdn}</strong> to confirm.
        </p>
        <Field id="purge-confirm" label="App address" value={typed} onChange={(e) => setTyped(e.target.value)} autoComplete="off" />
      </ConfirmDialog>
    </section>
  );
}

export function Orphans() {
  const qc = useQueryClient();
  const list = useQuery({
    queryKey: ["orphans"],
    queryFn: () => api<{ orphans: OrphanView[] }>("/api/v1/orphans"),
    refetchInterval: (q) => (q.state.data?.orphans.some((o) => o.state === "deleting") ? 2000 : 60_000),
  });
  const [typed, setTyped] = useState("");
  const remove = useConfirm(
    (o: OrphanView) => api<{ taskId: string }>(`/api/v1/orphans/${encodeURIComponent(o.id)}`, { method: "DELETE", body: { confirm: typed } }),
    () => void qc.invalidateQueries({ queryKey: ["orphans"] }),
  );
  const orphans = list.data?.orphans ?? [];
  if (!list.error && orphans.length === 0) return null;

  return (
    <section className="card kept-data" aria-labelledby="orphans-heading">
      <h2 id="orphans-heading">Orphaned data</h2>
      <p className="muted">
        Data of this server that belongs to no installed or uninstalled app (for example after a database restore). Hearth never deletes it on its own: keep it, or delete what you do not need.
      </p>
      <ErrorAlert error={list.error} />
      {orphans.length > 0 ? (
        <Table columns={["Name", "Kind", "App id", "Found"]} actions hidden={remove.target !== null}>
          {orphans.map((o) => (
            <tr key={o.id}>
              <td className="mono">{o.name}</td>
              <td>{KIND_TEXT[o.kind]}</td>
              <td className="mono small">{o.appId}</td>
              <td className="nowrap">{o.state === "deleting" ? "deleting…" : fmtDateTime(o.firstSeenAt)}</td>
              {o.state === "deleting" ? (
                <td />
              ) : (
                <DangerCell
                  action="Delete"
                  target={o.name}
                  onClick={() => {
                    setTyped("");
                    remove.ask(o);
                  }}
                />
              )}
            </tr>
          ))}
        </Table>
      ) : null}
      <ConfirmDialog id="remove-orphan" title={`Delete ${remove.target?.name ?? ""}?`} confirmLabel="Delete" confirmDisabled={typed !== remove.target?.name} {...remove.dialog}>
        <p className="muted">
          {remove.target ? `${KIND_TEXT[remove.target.kind]}: ` : ""}deleted for good, with no way back. Type <strong>{remove.target?.name}</strong> to confirm.
        </p>
        <Field id="orphan-confirm" label="Name" value={typed} onChange={(e) => setTyped(e.target.value)} autoComplete="off" />
      </ConfirmDialog>
    </section>
  );
}
