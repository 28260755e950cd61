"use client";

import Link from "next/link";
import { useRouter, useSearchParams } from "next/navigation";
import { TASK_ID_PATTERN } from "@hearth/contracts";
import { useCallback, useEffect, useRef, useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { AppView, DomainView, TaskView } from "@hearth/contracts";
import { api, ApiError, errorText } from "../../../../lib/client/api";
import { ErrorAlert } from "../../../components/ErrorAlert";
import { ConfirmDialog, useConfirm } from "../../../components/ConfirmDialog";
import { PageHeader } from "../../../components/EmptyState";
import { Field } from "../../../components/Field";
import { MemoryField } from "../../../components/MemoryField";
import { LocationFields } from "../../../components/LocationFields";
import { AppBadges, AppIcon, isBusy } from "../../../components/AppBadges";
import { TaskProgress } from "../../../components/TaskProgress";
import { LogPanel } from "../../../components/LogPanel";
import { Markdown } from "../../../components/Markdown";
import { EnvRows, envOf, rowsOf, type EnvRow } from "../../../components/EnvRows";
import { PortRows, portBindingsOf, portValuesOf, type PortSpec, type PortValues } from "../../../components/PortRows";
import { ExtraNameRows, extraNamesOf, type ExtraName } from "../../../components/ExtraNameRows";
import { appsRefetchInterval, useLive } from "../../../../lib/client/live";
import { CredentialsBox } from "./CredentialsBox";
import { AppGraphs } from "./AppGraphs";
import { AppTerminal } from "./AppTerminal";
import { AppFiles } from "./AppFiles";
import { AppBackups } from "../../backups/AppBackups";

const MiB = 1024 * 1024;

export function AppDetail({ id }: { id: string }) {
  const qc = useQueryClient();
  const router = useRouter();
  const search = useSearchParams();
  const live = useLive();
  const app = useQuery({
    queryKey: ["app", id],
    queryFn: () => api<AppView>(`/api/v1/apps/${encodeURIComponent(id)}`),
    refetchInterval: (q) => appsRefetchInterval(live, !!q.state.data && isBusy(q.state.data)),
    retry: false,
  });
  // the last task we watched stays on screen after it finished (with its result)
  // arriving from the install dialog (?task=…): show that task's progress even when it
  // finished before this page loaded, so the bar always reaches 100% on screen
  const [watched, setWatched] = useState<string | null>(() => {
    const t = search.get("task");
    return t && TASK_ID_PATTERN.test(t) ? t : null;
  });
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

  // the app row goes at the end of an uninstall: the app's 404 may arrive before the task's
  // "succeeded" does (and unmounts its progress card), so the 404 itself says "done" then
  const gone = app.error instanceof ApiError && app.error.status === 404;
  const uninstalled = gone && task.data?.type === "app.uninstall";
  useEffect(() => {
    if (uninstalled) router.push("/apps");
  }, [uninstalled, router]);

  if (app.error) {
    const notFound = gone;
    if (uninstalled) return <p className="muted">Uninstalled. Back to the apps…</p>;
    return (
      <>
        <PageHeader title={notFound ? "App not found" : "App"} />
        <div className="alert alert-error" role="alert">
          {notFound ? "This app does not exist (any more)." : errorText(app.error)} <Link href="/apps">Back to apps</Link>
        </div>
      </>
    );
  }
  if (!a) return <p className="muted">Loading…</p>;

  const busy = isBusy(a);
  // after the install (live, or arriving from the install dialog), until the next operation
  const lastWasInstall = watched === null ? search.get("installed") === "1" : installDone && task.data?.type === "app.install";
  const showPostInstall = (a.postInstallMessage !== "" || !!a.firstAdmin) && a.installState === "installed" && lastWasInstall;
  const firstAdmin = a.firstAdmin ? { ...a, firstAdmin: a.firstAdmin } : null;

  return (
    <>
      <div className="app-header">
        <AppIcon app={a} size={56} />
        <PageHeader title={a.title}>
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
        </PageHeader>
      </div>
      <div className="stack">
        <section className="card" aria-labelledby="overview-heading">
          <h2 id="overview-heading" className="sr-only">
            Overview
          </h2>
          <dl className="props">
            <div>
              <dt>Address</dt>
              <dd>
                <a href={a.url} target="_blank" rel="noopener noreferrer">
                  {a.url}
                </a>
              </dd>
            </div>
            {a.aliases.length > 0 ? (
              <div>
                <dt>Also at</dt>
                <dd className="cell-stack">
                  {a.aliases.map((x) => (
                    <a key={x.fqdn} href={`https://${x.fqdn}/`} target="_blank" rel="noopener noreferrer">
                      {x.fqdn}
                    </a>
                  ))}
                </dd>
              </div>
            ) : null}
            {a.redirects.length > 0 ? (
              <div>
                <dt>Redirected from</dt>
                <dd className="cell-stack">
                  {a.redirects.map((x) => (
                    <span key={x.fqdn}>{x.fqdn}</span>
                  ))}
                </dd>
              </div>
            ) : null}
            <div>
              <dt>State</dt>
              <dd>
                <AppBadges app={a} />
              </dd>
            </div>
            <div>
              <dt>Version</dt>
              <dd>{a.version}</dd>
            </div>
            <div>
              <dt>Memory limit</dt>
              <dd>{Math.round(a.memoryLimit / MiB)} MiB</dd>
            </div>
          </dl>
          {a.error && !busy ? (
            <div className="alert alert-error app-error" role="alert">
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
          <ErrorAlert error={overwrite.error} className="app-error" />
          <ErrorAlert error={op.error} className="app-error" />
        </section>

        {watched ? <TaskProgress key={watched} taskId={watched} onDone={onDone} /> : null}

        {showPostInstall ? (
          <section className="card post-install" id="getting-started" aria-labelledby="postinstall-heading">
            <h2 id="postinstall-heading">{a.title} is ready</h2>
            <Markdown text={a.postInstallMessage} />
            {firstAdmin ? <CredentialsBox app={firstAdmin} /> : null}
          </section>
        ) : a.postInstallMessage !== "" || firstAdmin ? (
          // the ready card, any time: login instructions and the first admin account
          <section className="card" id="getting-started" aria-labelledby="getting-started-heading">
            <details className="more" open={firstAdmin?.firstAdmin.kept === true}>
              <summary>
                <h2 id="getting-started-heading" className="inline-heading">
                  Getting started
                </h2>
              </summary>
              <div className="more-body">
                {a.postInstallMessage !== "" ? <Markdown text={a.postInstallMessage} /> : null}
                {firstAdmin ? <CredentialsBox app={firstAdmin} /> : null}
              </div>
            </details>
          </section>
        ) : null}

        {a.installState === "installed" ? <AppGraphs appId={a.id} /> : null}

        <UpdateCard app={a} busy={busy} onQueued={(taskId) => setWatched(taskId)} />
        <ConfigureCard app={a} busy={busy} onQueued={(taskId) => setWatched(taskId)} />
        {/* reconnects whenever the app's state changes (a new container, a start after a stop) */}
        <LogPanel key={`${a.installState}-${a.runState}`} appId={a.id} />
        <AppTerminal appId={a.id} running={a.installState === "installed" && a.runState === "running"} />
        <section className="card" id="files" aria-labelledby="files-heading">
          <AppFiles appId={a.id} />
        </section>
        <AppBackups appId={a.id} />
        <UninstallCard app={a} busy={busy} onQueued={(taskId) => setWatched(taskId)} />
      </div>
    </>
  );
}

function ConfigureCard({ app, busy, onQueued }: { app: AppView; busy: boolean; onQueued: (taskId: string) => void }) {
  const qc = useQueryClient();
  const domains = useQuery({ queryKey: ["domains"], queryFn: () => api<{ domains: DomainView[] }>("/api/v1/domains") });
  const [subdomain, setSubdomain] = useState(app.subdomain);
  const [domain, setDomain] = useState(app.domain);
  const [memory, setMemory] = useState(String(Math.round(app.memoryLimit / MiB)));
  const [env, setEnv] = useState<EnvRow[]>(rowsOf(app.env));
  const portSpecs: Record<string, PortSpec> = app.tcpPorts;
  const [ports, setPorts] = useState<PortValues>(portValuesOf(portSpecs, app.portBindings));
  const [aliases, setAliases] = useState<ExtraName[]>(app.aliases.map(({ subdomain, domain }) => ({ subdomain, domain })));
  const [redirects, setRedirects] = useState<ExtraName[]>(app.redirects.map(({ subdomain, domain }) => ({ subdomain, domain })));
  const loadedFor = useRef(app.id);
  useEffect(() => {
    if (loadedFor.current !== app.id) {
      loadedFor.current = app.id;
      setSubdomain(app.subdomain);
      setDomain(app.domain);
      setAliases(app.aliases.map(({ subdomain, domain }) => ({ subdomain, domain })));
      setRedirects(app.redirects.map(({ subdomain, domain }) => ({ subdomain, domain })));
    }
  }, [app]);

  const save = useMutation({
    mutationFn: () =>
      api<{ taskId: string }>(`/api/v1/apps/${encodeURIComponent(app.id)}/configure`, {
        method: "POST",
        body: {
          subdomain: subdomain.trim(),
          domain,
          aliases: extraNamesOf(aliases),
          redirects: extraNamesOf(redirects),
          memoryLimit: Math.round(Number(memory) * MiB),
          env: envOf(env),
          ...(Object.keys(ports).length > 0 ? { portBindings: portBindingsOf(ports) } : {}),
        },
      }),
    onSuccess: (r) => {
      onQueued(r.taskId);
      void qc.invalidateQueries({ queryKey: ["app", app.id] });
    },
  });
  const err = save.error instanceof ApiError ? save.error : null;
  const domainNames = (domains.data?.domains ?? [{ domain: app.domain }]).map((d) => d.domain);

  function submit(ev: FormEvent) {
    ev.preventDefault();
    save.mutate();
  }

  return (
    <section className="card" aria-labelledby="configure-heading">
      <h2 id="configure-heading">Configure</h2>
      <form className="form" onSubmit={submit}>
        <LocationFields idPrefix="configure" subdomain={subdomain} onSubdomain={setSubdomain} domain={domain} onDomain={setDomain} domains={domainNames} error={err?.fieldError("subdomain")} />
        <ExtraNameRows kind="aliases" rows={aliases} onChange={setAliases} domains={domainNames} idPrefix="configure-alias" error={err} />
        <ExtraNameRows kind="redirects" rows={redirects} onChange={setRedirects} domains={domainNames} idPrefix="configure-redirect" error={err} />
        <div className="field-narrow">
          <MemoryField id="configure-memory" value={memory} onChange={setMemory} error={err} />
        </div>
        <PortRows specs={portSpecs} values={ports} onChange={setPorts} idPrefix="configure-ports" error={err?.fieldError("portBindings")} />
        <EnvRows rows={env} onChange={setEnv} idPrefix="configure-env" />
        <ErrorAlert error={save.error} fields={["subdomain", "memoryLimit", "portBindings", "aliases", "redirects"]} />
        <div className="row">
          <button type="submit" className="btn btn-primary" disabled={busy || save.isPending}>
            Save configuration
          </button>
          {busy ? <span className="muted small">Wait until the current operation is done.</span> : null}
        </div>
      </form>
    </section>
  );
}

/** The addon changes of an update, as a list for its confirmation. */
function AddonChangeList({ added, removed }: { added: string[]; removed: string[] }) {
  if (added.length === 0 && removed.length === 0) return <p className="muted">The addons stay as they are.</p>;
  return (
    <ul className="addon-changes">
      {added.map((n) => (
        <li key={`+${n}`}>
          Adds <strong>{n}</strong> (set up for the app)
        </li>
      ))}
      {removed.map((n) => (
        <li key={`-${n}`}>
          Removes <strong>{n}</strong>: its data is backed up, then deleted
        </li>
      ))}
    </ul>
  );
}

/** Automatic patch updates (box's nightly window), for catalog apps. */
function AutoUpdateToggle({ app }: { app: AppView }) {
  const qc = useQueryClient();
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  async function change(on: boolean) {
    setSaving(true);
    setError(null);
    try {
      await api(`/api/v1/apps/${encodeURIComponent(app.id)}/auto-update`, { method: "PUT", body: { autoUpdate: on } });
      await qc.invalidateQueries({ queryKey: ["app", app.id] });
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setSaving(false);
    }
  }
  return (
    <div className="field">
      <label className="check">
        <input type="checkbox" checked={app.autoUpdate === true} disabled={saving} onChange={(e) => void change(e.target.checked)} /> Install patch updates automatically (
        {app.version.split(".").slice(0, 2).join(".")}.x from the catalog, nightly, backed up first)
      </label>
      {error ? <p className="field-error">{error}</p> : null}
    </div>
  );
}

/** The changelogs an update brings, through the dashboard's safe Markdown subset (no HTML from the manifest is rendered). */
function Changelog({ entries }: { entries: { version: string; text: string }[] }) {
  if (entries.length === 0) return <p className="muted small">The catalog has no changelog for this update.</p>;
  return (
    <div className="changelog" aria-label="Changelog">
      {entries.map((e) => (
        <section key={e.version}>
          <h3>What is new in {e.version}</h3>
          <div className="changelog-text">
            <Markdown text={e.text} />
          </div>
        </section>
      ))}
    </div>
  );
}

function addonDiff(from: string[], to: string[]) {
  return { added: to.filter((n) => !from.includes(n)), removed: from.filter((n) => !to.includes(n)) };
}

/**
 * Update to the catalog's newer version, or to a pasted manifest. The app is backed up first;
 * a failed update is rolled back to the version it had (shown as the app's error).
 */
function UpdateCard({ app, busy, onQueued }: { app: AppView; busy: boolean; onQueued: (taskId: string) => void }) {
  const qc = useQueryClient();
  const [text, setText] = useState("");
  const [force, setForce] = useState(false);
  const [parseError, setParseError] = useState<string | null>(null);
  const queued = (r: { taskId: string }) => {
    onQueued(r.taskId);
    void qc.invalidateQueries({ queryKey: ["app", app.id] });
  };
  const post = (body: Record<string, unknown>) => api<{ taskId: string }>(`/api/v1/apps/${encodeURIComponent(app.id)}/update`, { method: "POST", body });
  // the confirmed version: a 409 answers when the catalog offers another one by now
  const toCatalog = useConfirm((version: string) => post({ version }), queued);
  const custom = useConfirm(
    (m: Record<string, unknown>) => post({ manifest: m, ...(force ? { force: true } : {}) }),
    (r) => {
      setText("");
      setForce(false);
      queued(r);
    },
  );
  const [pasted, setPasted] = useState<{ version: string; added: string[]; removed: string[] } | null>(null);
  const available = app.updateAvailable ?? null;

  function submit(ev: FormEvent) {
    ev.preventDefault();
    setParseError(null);
    let m: unknown;
    try {
      m = JSON.parse(text);
    } catch (e) {
      setParseError(`Not JSON: ${(e as Error).message}`);
      return;
    }
    if (m === null || typeof m !== "object" || Array.isArray(m)) {
      setParseError("The manifest must be a JSON object");
      return;
    }
    const o = m as { version?: unknown; addons?: unknown };
    const addons = o.addons && typeof o.addons === "object" ? Object.keys(o.addons) : [];
    setPasted({ version: typeof o.version === "string" ? o.version : "?", ...addonDiff(app.addons ?? [], addons) });
    custom.ask(m as Record<string, unknown>);
  }

  return (
    <section className="card" aria-labelledby="update-heading">
      <h2 id="update-heading">Update</h2>
      <p className="muted">Version {app.version}. Before an update the app and its data are backed up; if the new version does not start, Hearth rolls back to this one.</p>
      {available ? (
        <div className="update-available">
          <div className="row">
            <span>
              <span className="badge badge-warn">Update available</span> Version {available.version} is in the catalog.
            </span>
            <button type="button" className="btn btn-primary" onClick={() => toCatalog.ask(available.version)} disabled={busy}>
              Update to {available.version}
            </button>
          </div>
          <AddonChangeList added={available.addons.added} removed={available.addons.removed} />
          <Changelog entries={available.changelog ?? []} />
        </div>
      ) : (
        <p className="muted">No newer version in the catalog.</p>
      )}
      <ConfirmDialog id="update-catalog" title={`Update ${app.title} to ${available?.version ?? ""}?`} confirmLabel="Update" {...toCatalog.dialog}>
        <p>The app stops for the backup and the update, then starts again on the new version.</p>
        <AddonChangeList added={available?.addons.added ?? []} removed={available?.addons.removed ?? []} />
      </ConfirmDialog>

      {app.fromCatalog ? <AutoUpdateToggle app={app} /> : null}

      <details className="more">
        <summary>Advanced: update from a manifest</summary>
        <form className="form more-body" onSubmit={submit}>
          <div className="field">
            <label htmlFor="update-manifest">Update from a manifest</label>
            <textarea
              id="update-manifest"
              className="pem"
              rows={6}
              value={text}
              onChange={(e) => setText(e.target.value)}
              placeholder={`{ "manifestVersion": 1, "id": "${app.manifestId}", "version": "…", … }`}
              spellCheck={false}
              autoComplete="off"
              aria-invalid={parseError ? true : undefined}
            />
            {parseError ? <p className="field-error">{parseError}</p> : <p className="hint">HearthManifest.json of a newer version of this app (same id).</p>}
          </div>
          <label className="check">
            <input type="checkbox" checked={force} onChange={(e) => setForce(e.target.checked)} /> Also the same or an older version (redeploy or downgrade)
          </label>
          <div className="row">
            <button type="submit" className="btn" disabled={busy || text.trim() === ""}>
              Update from this manifest
            </button>
            {busy ? <span className="muted small">Wait until the current operation is done.</span> : null}
          </div>
        </form>
      </details>
      <ConfirmDialog id="update-custom" title={`Update ${app.title} to ${pasted?.version ?? ""}?`} confirmLabel="Update" {...custom.dialog}>
        <p>The app stops for the backup and the update, then starts again on the new version.</p>
        <AddonChangeList added={pasted?.added ?? []} removed={pasted?.removed ?? []} />
      </ConfirmDialog>
    </section>
  );
}

function UninstallCard({ app, busy, onQueued }: { app: AppView; busy: boolean; onQueued: (taskId: string) => void }) {
  const qc = useQueryClient();
  const [typed, setTyped] = useState("");
  const uninstall = useConfirm(
    (appId: string) => api<{ taskId: string }>(`/api/v1/apps/${encodeURIComponent(appId)}`, { method: "DELETE" }),
    (r) => {
      onQueued(r.taskId);
      void qc.invalidateQueries({ queryKey: ["app", app.id] });
    },
  );

  return (
    <section className="card danger-zone" aria-labelledby="uninstall-heading">
      <h2 id="uninstall-heading">Uninstall</h2>
      <p className="muted">
        Removes the app&apos;s container, network and address. Its data (files, databases, Redis) is kept for 7 days by default: restore the app or delete the data now from the Apps page.
      </p>
      <button
        type="button"
        className="btn btn-danger"
        onClick={() => {
          setTyped("");
          uninstall.ask(app.id);
        }}
        disabled={busy}
      >
        Uninstall
      </button>
      <ConfirmDialog id="uninstall" title={`Uninstall ${app.title}?`} confirmLabel="Uninstall" confirmDisabled={typed !== app.title} {...uninstall.dialog}>
        <p className="muted">
          The app stops and its address is freed. Its data is kept until it expires or you delete it from the Apps page. Type <strong>{app.title}</strong> to confirm.
        </p>
        <Field id="uninstall-confirm" label="App name" value={typed} onChange={(e) => setTyped(e.target.value)} autoComplete="off" />
      </ConfirmDialog>
    </section>
  );
}
