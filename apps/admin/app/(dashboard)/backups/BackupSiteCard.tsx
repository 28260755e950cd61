"use client";

import { useEffect, useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { BackupConfigView } from "@hearth/contracts";
import { api, ApiError } from "../../../lib/client/api";
import { ErrorAlert } from "../../components/ErrorAlert";
import { Field } from "../../components/Field";
import { TaskProgress } from "../../components/TaskProgress";
import styles from "./Backups.module.css";

type Config = ({ configured: true } & BackupConfigView) | { configured: false };
const FIELDS = ["site.path", "site.type", "passphrase", "schedule"] as const;

/** The backup site (a folder on a mounted disk for now), the passphrase, and a test of both. */
export function BackupSiteCard() {
  const qc = useQueryClient();
  const config = useQuery({ queryKey: ["backup-config"], queryFn: () => api<Config>("/api/v1/backups/config") });
  const [folder, setFolder] = useState("");
  const [passphrase, setPassphrase] = useState("");
  const [schedule, setSchedule] = useState("02:30");
  const [saved, setSaved] = useState(false);
  const [testTask, setTestTask] = useState<string | null>(null);
  useEffect(() => {
    const c = config.data;
    if (c?.configured) {
      setFolder(c.site.path);
      setSchedule(c.schedule);
    }
  }, [config.data]);
  const save = useMutation({
    mutationFn: () =>
      api<Config>("/api/v1/backups/config", {
        method: "PUT",
        body: { site: { type: "filesystem", path: folder }, ...(passphrase ? { passphrase } : {}), schedule },
      }),
    onSuccess: (r) => {
      setSaved(true);
      setPassphrase("");
      qc.setQueryData(["backup-config"], r);
    },
  });
  const test = useMutation({
    mutationFn: () => api<{ taskId: string }>("/api/v1/backups/config/test", { method: "POST" }),
    onSuccess: (r) => setTestTask(r.taskId),
  });
  const err = save.error instanceof ApiError ? save.error : null;
  const configured = config.data?.configured === true;
  function submit(ev: FormEvent) {
    ev.preventDefault();
    setSaved(false);
    save.mutate();
  }
  return (
    <section className="card" aria-labelledby="backup-site-heading">
      <h2 id="backup-site-heading">Backup site</h2>
      <p className="muted">
        Backups are encrypted with your passphrase by restic and stored in one repository on the site. Keep the passphrase somewhere else too: without it nobody, not even this server, can read the
        backups.
      </p>
      <ErrorAlert error={config.error} />
      <form className="form" onSubmit={submit} noValidate>
        <Field
          id="backup-folder"
          label="Folder"
          value={folder}
          onChange={(e) => {
            setSaved(false);
            setFolder(e.target.value);
          }}
          placeholder="/mnt/backup/hearth"
          hint="An absolute path on a mounted disk, writable by the hearth user. A folder on this server's own disk does not survive the loss of the disk. SFTP and S3 sites come later."
          error={err?.errorAt(["site", "path"])}
        />
        <Field
          id="backup-passphrase"
          label="Passphrase"
          type="password"
          autoComplete="new-password"
          value={passphrase}
          onChange={(e) => {
            setSaved(false);
            setPassphrase(e.target.value);
          }}
          hint={configured ? "Leave empty to keep the current passphrase (a new folder needs it again)." : "At least 12 characters."}
          error={err?.fieldError("passphrase")}
        />
        <Field
          id="backup-schedule"
          label="Nightly at (UTC)"
          value={schedule}
          onChange={(e) => setSchedule(e.target.value)}
          hint="Stored now; nightly backups come with a later version."
          error={err?.fieldError("schedule")}
        />
        <ErrorAlert error={save.error} fields={FIELDS} />
        {saved ? (
          <p className="alert alert-info" role="status">
            Saved. Test the site to make sure the server can write to it.
          </p>
        ) : null}
        <div className="row">
          <button type="submit" className="btn btn-primary" disabled={save.isPending}>
            {save.isPending ? "Saving…" : "Save"}
          </button>
          <button type="button" className="btn" disabled={!configured || test.isPending} onClick={() => test.mutate()}>
            Test the site
          </button>
        </div>
      </form>
      <ErrorAlert error={test.error} />
      {testTask ? (
        <div className={styles.task}>
          <TaskProgress taskId={testTask} subject="backup site" onDismiss={() => setTestTask(null)} />
        </div>
      ) : null}
    </section>
  );
}
