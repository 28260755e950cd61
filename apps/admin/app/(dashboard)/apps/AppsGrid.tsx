"use client";

import Link from "next/link";
import { useQuery } from "@tanstack/react-query";
import type { AppView, HearthVersionView, TaskView } from "@hearth/contracts";
import { api } from "../../../lib/client/api";
import { isAdminRole, useProfile } from "../../../lib/client/profile";
import { ErrorAlert } from "../../components/ErrorAlert";
import { EmptyState, PageHeader } from "../../components/EmptyState";
import { AppBadges, AppIcon, isBusy } from "../../components/AppBadges";
import { Orphans, UninstalledApps } from "./KeptData";
import { appsRefetchInterval, useLive } from "../../../lib/client/live";

function MiniProgress({ taskId, label }: { taskId: string; label: string }) {
  const t = useQuery({ queryKey: ["task", taskId], queryFn: () => api<TaskView>(`/api/v1/tasks/${encodeURIComponent(taskId)}`), refetchInterval: 1000 });
  const percent = t.data?.percent ?? 0;
  return (
    <div className="mini-progress">
      <div className="progress progress-sm" role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={percent}>
        <div className="progress-bar" style={{ width: `${percent}%` }} />
      </div>
      <span className="muted small">{t.data?.message || (t.data?.state === "pending" ? "Queued" : `${percent}%`)}</span>
    </div>
  );
}

/** One line when the configured release source announces a newer Hearth (GET /api/v1/server/version). */
function HearthUpdateNote() {
  const v = useQuery({ queryKey: ["server-version"], queryFn: () => api<HearthVersionView>("/api/v1/server/version"), staleTime: 10 * 60_000 });
  if (!v.data?.updateAvailable || !v.data.latest) return null;
  const { latest, current } = v.data;
  return (
    <p className="hearth-update" role="status">
      <span className="badge badge-warn">Hearth update</span> Hearth {latest.version} is available (this server runs {current}).{" "}
      {latest.url ? (
        <a href={latest.url} target="_blank" rel="noopener noreferrer">
          Release notes
        </a>
      ) : null}
    </p>
  );
}

export function AppsGrid() {
  const admin = isAdminRole(useProfile().role);
  const live = useLive();
  const apps = useQuery({
    queryKey: ["apps"],
    queryFn: () => api<{ apps: AppView[] }>("/api/v1/apps"),
    refetchInterval: (q) => appsRefetchInterval(live, q.state.data?.apps.some(isBusy) ?? false),
    enabled: admin,
  });

  // Only owners and admins may list apps (GET /api/v1/apps); there is no per-app access
  // yet that would tell which apps a plain user may open, so they get an honest note.
  if (!admin) {
    return (
      <>
        <PageHeader title="Apps" description="Web apps running on this server, each on its own subdomain." />
        <EmptyState icon="apps" title="Your administrators manage the apps">
          <p>The apps on this server are installed and managed by its administrators. Ask them for the addresses of the apps you use.</p>
          <p>
            Your account, two-factor authentication and API tokens are under <Link href="/settings">Settings</Link>.
          </p>
        </EmptyState>
      </>
    );
  }

  return (
    <>
      <PageHeader title="Apps" description="Web apps running on this server, each on its own subdomain.">
        <Link href="/catalog" className="btn btn-primary">
          Install an app
        </Link>
      </PageHeader>
      <HearthUpdateNote />
      {apps.isPending ? <p className="muted">Loading apps…</p> : null}
      <ErrorAlert error={apps.error} />
      {apps.data && apps.data.apps.length === 0 ? (
        <EmptyState icon="apps" title="Nothing installed">
          <p>
            No apps yet. Pick one from the <Link href="/catalog">catalog</Link>.
          </p>
        </EmptyState>
      ) : null}
      {apps.data && apps.data.apps.length > 0 ? (
        <ul className="app-grid" aria-label="Installed apps">
          {apps.data.apps.map((a) => (
            <li key={a.id} className="card app-card">
              <div className="app-card-head">
                <AppIcon app={a} />
                <div className="app-card-title">
                  <Link href={`/apps/${a.id}`} className="app-title-link">
                    {a.title}
                  </Link>
                  <a className="app-url" href={a.url} target="_blank" rel="noopener noreferrer">
                    {a.fqdn}
                  </a>
                </div>
              </div>
              <AppBadges app={a} />
              {a.taskId ? <MiniProgress taskId={a.taskId} label={`${a.title} progress`} /> : null}
              {a.error && !a.taskId ? <p className="field-error">{a.error.message}</p> : null}
            </li>
          ))}
        </ul>
      ) : null}
      <UninstalledApps />
      <Orphans />
    </>
  );
}
