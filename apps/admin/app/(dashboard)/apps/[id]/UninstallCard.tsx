"use client";

import { useState } from "react";
import { useQueryClient } from "@tanstack/react-query";
import type { AppView } from "@hearth/contracts";
import { api } from "../../../../lib/client/api";
import { ConfirmDialog, useConfirm } from "../../../components/ConfirmDialog";
import { Field } from "../../../components/Field";
import { useAppPage } from "./app-page";
import styles from "./UninstallCard.module.css";

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
    <section className={`card ${styles.dangerZone}`} aria-labelledby="uninstall-heading">
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

export function UninstallTab() {
  const { app, busy, onQueued } = useAppPage();
  return <UninstallCard app={app} busy={busy} onQueued={onQueued} />;
}
