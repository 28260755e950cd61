"use client";

import Link from "next/link";
import { useRouter, useSearchParams } from "next/navigation";
import { TASK_ID_PATTERN } from "@hearth/contracts";
import { useCallback, useEffect, useMemo, useState, type ReactNode } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { AppView, TaskView } from "@hearth/contracts";
import { api, ApiError, errorText } from "../../../../lib/client/api";
import { ErrorAlert } from "../../../components/ErrorAlert";
import { PageHeader } from "../../../components/EmptyState";
import { AppBadges, AppIcon, isBusy } from "../../../components/AppBadges";
import { TaskProgress } from "../../../components/TaskProgress";
import { appsRefetchInterval, useLive } from "../../../../lib/client/live";
import { AppPageContext, type AppPage } from "./app-page";
import { AppTabsNav } from "./AppTabsNav";
import { tabsFor } from "./tabs";
import styles from "./AppDetail.module.css";

/**
 * The app page's frame (its layout): the header with the app's name, state and actions, the
 * tabs, the app's last error and the progress of its task. These stay while the tab body
 * (`children`, one of `tabs.tsx`) changes with the URL.
 */
export function AppDetail({ id, children }: { id: string; children: ReactNode }) {
  const qc = useQueryClient();
  const router = useRouter();
  const search = useSearchParams();
  const live = useLive();
  const app = useQuery({
    queryKey: ["app", id],
    queryFn: () => api<AppView>(`/api/v1/apps/${encodeURIComponent(id)}`),
    refetchInterval: (q) => appsRefetchInterval(live, !!q.state.data && isBusy(q.state.data)),
    // a 404 is an answer (uninstalled); a network error (Docker's network changes can drop a
    // connection for a moment) is tried again before the page says so
    retry: (n, e) => !(e instanceof ApiError && e.status === 404) && n < 3,
  });
  // the last task we watched stays on screen after it finished (with its result)
  // arriving from the install dialog (?task=…): show that task's progress even when it
  // finished before this page loaded, so the bar always reaches 100% on screen
  const [watched, setWatched] = useState<string | null>(() => {
    const t = search.get("task");
    return t && TASK_ID_PATTERN.test(t) ? t : null;
  });
  // arriving from the install dialog: the ready card is open until the next operation
  const [fromInstall] = useState(() => search.get("installed") === "1");
  const [installDone, setInstallDone] = useState(false);
  const a = app.data;
  useEffect(() => {
    if (a?.taskId && a.taskId !== watched) setWatched(a.taskId);
  }, [a?.taskId, watched]);

  const task = useQuery({
    queryKey: ["task", watched],
    queryFn: () => api<TaskView>(`/api/v1/tasks/${encodeURIComponent(watched!)}`),
    enabled: watched !== null,
    refetchInterval: false,
  });

  const onDone = useCallback(
    (t: TaskView) => {
      void qc.invalidateQueries({ queryKey: ["app", id] });
      void qc.invalidateQueries({ queryKey: ["apps"] });
      if (t.type === "app.install" && t.state === "succeeded") setInstallDone(true);
      if (t.type === "app.uninstall" && t.state === "succeeded") router.push("/apps");
    },
    [qc, id, router],
  );

  const op = useMutation({
    mutationFn: (what: "start" | "stop" | "restart") => api<{ taskId: string }>(`/api/v1/apps/${encodeURIComponent(id)}/${what}`, { method: "POST" }),
    onSuccess: (r) => {
      setWatched(r.taskId);
      void qc.invalidateQueries({ queryKey: ["app", id] });
    },
  });

  // box refused to replace a DNS record that points elsewhere: the admin may say "replace it".
  // configure runs the same deploy pipeline as install, so it also retries a failed install
  // (the app row stays, in state error); overwriteDns alone is "nothing to change" to the
  // API, so the current subdomain goes along (a no-op change).
  const overwrite = useMutation({
    mutationFn: (a: AppView) => api<{ taskId: string }>(`/api/v1/apps/${encodeURIComponent(a.id)}/configure`, { method: "POST", body: { subdomain: a.subdomain, overwriteDns: true } }),
    onSuccess: (r) => {
      setWatched(r.taskId);
      void qc.invalidateQueries({ queryKey: ["app", id] });
    },
  });

  // after the install (live, or arriving from the install dialog), until the next operation
  const justInstalled = watched === null || watched === search.get("task") ? fromInstall || installDone : installDone && task.data?.type === "app.install";
  const busy = !!a && isBusy(a);
  const page = useMemo<AppPage | null>(() => (a ? { app: a, busy, onQueued: setWatched, justInstalled } : null), [a, busy, justInstalled]);

  // the app row goes at the end of an uninstall: the app's 404 may arrive before the task's
  // "succeeded" does (and unmounts its progress card), so the 404 itself says "done" then
  const gone = app.error instanceof ApiError && app.error.status === 404;
  const uninstalled = gone && task.data?.type === "app.uninstall";
  useEffect(() => {
    if (uninstalled) router.push("/apps");
  }, [uninstalled, router]);

  // a failed background refresh keeps the page (its tab, an open terminal, an edit) and says so
  // above it; only an app that is gone, or never loaded, gets the error page
  if (app.error && (gone || !a)) {
    if (uninstalled) return <p className="muted">Uninstalled. Back to the apps…</p>;
    return (
      <>
        <PageHeader title={gone ? "App not found" : "App"} />
        <div className="alert alert-error" role="alert">
          {gone ? "This app does not exist (any more)." : errorText(app.error)} <Link href="/apps">Back to apps</Link>
        </div>
      </>
    );
  }
  if (!a || !page) return <p className="muted">Loading…</p>;

  return (
    <AppPageContext.Provider value={page}>
      <div className={styles.header}>
        <AppIcon app={a} size={56} />
        <header className="page-header">
          <div>
            <h1>{a.title}</h1>
            <div className={styles.state}>
              <AppBadges app={a} />
            </div>
          </div>
          <div className="page-actions">
            <div className="row">
              <button type="button" className="btn" onClick={() => op.mutate("start")} disabled={busy || op.isPending || (a.runState === "running" && a.installState === "installed")}>
                Start
              </button>
              <button type="button" className="btn" onClick={() => op.mutate("stop")} disabled={busy || op.isPending || a.runState === "stopped"}>
                Stop
              </button>
              <button type="button" className="btn" onClick={() => op.mutate("restart")} disabled={busy || op.isPending || a.runState === "stopped"}>
                Restart
              </button>
            </div>
          </div>
        </header>
      </div>
      <AppTabsNav appId={a.id} tabs={tabsFor(a)} />
      <div className="stack">
        {a.error && !busy ? (
          <div className="alert alert-error" role="alert">
            <strong>The last operation failed:</strong> {a.error.message} <code className="action-code">{a.error.code}</code>
            {a.error.code === "dns_conflict" ? (
              <div className="alert-actions">
                <p>
                  A DNS record for one of the app&apos;s names already exists and points elsewhere, so Hearth left it alone. If that record is not in use, Hearth can replace it with one pointing to
                  this server.
                </p>
                <button type="button" className="btn btn-danger btn-sm" onClick={() => overwrite.mutate(a)} disabled={overwrite.isPending}>
                  {overwrite.isPending ? "Retrying…" : "Overwrite the DNS record and retry"}
                </button>
              </div>
            ) : null}
          </div>
        ) : null}
        <ErrorAlert error={app.error} />
        <ErrorAlert error={overwrite.error} />
        <ErrorAlert error={op.error} />
        {/* the task's progress stays in view on every tab */}
        {watched ? <TaskProgress key={watched} taskId={watched} onDone={onDone} /> : null}
        {children}
      </div>
    </AppPageContext.Provider>
  );
}
