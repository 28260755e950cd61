"use client";

import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { AppView, BackupView } from "@hearth/contracts";
import { api } from "../../../lib/client/api";
import { fmtDateTime } from "../../../lib/client/format";
import { ConfirmDialog, useConfirm } from "../../components/ConfirmDialog";
import { ErrorAlert } from "../../components/ErrorAlert";
import { Table } from "../../components/Table";
import { TaskProgress } from "../../components/TaskProgress";
import styles from "./Backups.module.css";

const STATE_LABEL: Record<BackupView["state"], string> = { creating: "Backing up", good: "Good (read back from the site)", failed: "Failed" };

function size(n: number | null): string {
  if (n === null) return "—";
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1048576).toFixed(1)} MiB`;
  return `${(n / 1073741824).toFixed(2)} GiB`;
}

/**
 * Every app with "Back up now", and the list of backups with their state, size and a restore
 * button (with a confirmation: the app's data is replaced). The running task shows its
 * progress bar and log. Self-contained: `appId` limits it to one app (for the app page).
 */
export function AppBackups({ appId }: { appId?: string }) {
  const qc = useQueryClient();
  const apps = useQuery({ queryKey: ["apps"], queryFn: () => api<{ apps: AppView[] }>("/api/v1/apps") });
  const listPath = appId ? `/api/v1/apps/${encodeURIComponent(appId)}/backups` : "/api/v1/backups";
  const backups = useQuery({ queryKey: ["backups", appId ?? "all"], queryFn: () => api<{ backups: BackupView[] }>(listPath), refetchInterval: 5000 });
  const [task, setTask] = useState<{ id: string; subject: string } | null>(null);
  const refresh = () => void qc.invalidateQueries({ queryKey: ["backups"] });
  const backUp = useMutation({
    mutationFn: (a: AppView) => api<{ taskId: string; backupId: string }>(`/api/v1/apps/${encodeURIComponent(a.id)}/backup`, { method: "POST" }),
    onSuccess: (r, a) => {
      setTask({ id: r.taskId, subject: a.fqdn });
      refresh();
    },
  });
  const restore = useConfirm(
    (b: BackupView) => api<{ taskId: string }>(`/api/v1/apps/${encodeURIComponent(b.appId ?? "")}/restore`, { method: "POST", body: { backupId: b.id } }),
    (r, b) => {
      setTask({ id: r.taskId, subject: b.appTitle ?? b.appId ?? "" });
      refresh();
    },
  );
  const shown = (apps.data?.apps ?? []).filter((a) => !appId || a.id === appId);
  /** Why this backup cannot be restored from here (box refuses it too), or null. */
  const notRestorable = (b: BackupView): string | null => {
    const app = (apps.data?.apps ?? []).find((a) => a.id === b.appId);
    if (!app) return apps.data ? "The app is gone: restoring into a new install is not supported yet" : null;
    if (b.version && app.version !== b.version) return `Made by version ${b.version}, the app runs ${app.version}: restoring across versions is not supported yet`;
    return null;
  };
  const titleOf = (b: BackupView) => b.appTitle ?? shown.find((a) => a.id === b.appId)?.title ?? b.appId ?? "—";
  return (
    <section className="card" aria-labelledby={`app-backups-heading${appId ? `-${appId}` : ""}`}>
      <h2 id={`app-backups-heading${appId ? `-${appId}` : ""}`}>App backups</h2>
      <ErrorAlert error={apps.error ?? backups.error} />
      <ul className={styles.apps}>
        {shown.map((a) => (
          <li key={a.id} className={styles.appRow}>
            <span>
              {a.title} <span className="muted">({a.fqdn})</span>
            </span>
            <button type="button" className="btn btn-sm" disabled={backUp.isPending} onClick={() => backUp.mutate(a)} aria-label={`Back up ${a.title} now`}>
              Back up now
            </button>
          </li>
        ))}
      </ul>
      <ErrorAlert error={backUp.error} />
      {task ? (
        <div className={styles.task}>
          <TaskProgress
            taskId={task.id}
            subject={task.subject}
            onDone={refresh}
            onDismiss={() => {
              setTask(null);
              refresh();
            }}
          />
        </div>
      ) : null}
      {(backups.data?.backups.length ?? 0) === 0 ? (
        <p className="muted">No backups yet.</p>
      ) : (
        <Table columns={["App", "Version", "Made", "State", "Size", "Files"]} actions hidden={restore.dialog.open}>
          {backups.data!.backups.map((b) => (
            <tr key={b.id}>
              <td>{titleOf(b)}</td>
              <td>{b.version ?? "—"}</td>
              <td>{fmtDateTime(b.createdAt)}</td>
              <td>
                <span className={b.state === "failed" ? styles.failed : b.state === "good" ? styles.good : undefined}>{STATE_LABEL[b.state]}</span>
                {b.reason ? <div className={`muted ${styles.reason}`}>{b.reason}</div> : null}
              </td>
              <td>{size(b.sizeBytes)}</td>
              <td>{b.fileCount ?? "—"}</td>
              <td className="actions">
                {b.state === "good" && b.appId && notRestorable(b) ? (
                  <span className={`muted ${styles.reason}`}>{notRestorable(b)}</span>
                ) : b.state === "good" && b.appId ? (
                  <button type="button" className="btn btn-danger-ghost btn-sm" aria-label={`Restore ${titleOf(b)} to ${fmtDateTime(b.createdAt)}`} onClick={() => restore.ask(b)}>
                    Restore
                  </button>
                ) : null}
              </td>
            </tr>
          ))}
        </Table>
      )}
      <ConfirmDialog id="restore-backup" title="Restore this backup?" confirmLabel="Restore" {...restore.dialog}>
        {restore.target ? (
          <p>
            {titleOf(restore.target)} goes back to its data of {fmtDateTime(restore.target.createdAt)}: files and databases written since are replaced. The backup is read and checked first; if the
            check fails, nothing is touched. The app is stopped while its data is replaced.
          </p>
        ) : null}
      </ConfirmDialog>
    </section>
  );
}
