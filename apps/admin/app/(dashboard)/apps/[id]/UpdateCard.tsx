"use client";

import { useState, type FormEvent } from "react";
import { useQueryClient } from "@tanstack/react-query";
import type { AppView } from "@hearth/contracts";
import { api } from "../../../../lib/client/api";
import { ConfirmDialog, useConfirm } from "../../../components/ConfirmDialog";
import { Markdown } from "../../../components/Markdown";
import { useAppPage } from "./app-page";
import styles from "./UpdateCard.module.css";

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
    <div className={styles.changelog} aria-label="Changelog">
      {entries.map((e) => (
        <section key={e.version}>
          <h3>What is new in {e.version}</h3>
          <div className={styles.text}>
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

export function UpdatesTab() {
  const { app, busy, onQueued } = useAppPage();
  return <UpdateCard app={app} busy={busy} onQueued={onQueued} />;
}
