"use client";

import { useEffect, useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { RetentionSettings } from "@hearth/contracts";
import { api, ApiError } from "../../../lib/client/api";
import { isAdminRole, useProfile } from "../../../lib/client/profile";
import { ErrorAlert } from "../../components/ErrorAlert";
import { Field } from "../../components/Field";

/**
 * How long box's daily housekeeping keeps the event log and finished tasks with their logs
 * (settings/retention). The next daily purge applies a change.
 */
const FIELDS = ["eventDays", "taskDays", "keepTasksPerApp"] as const;
type Values = Record<(typeof FIELDS)[number], string>;

export function RetentionCard() {
  // owner and admins only (the API refuses the others)
  return isAdminRole(useProfile().role) ? <RetentionForm /> : null;
}

function RetentionForm() {
  const qc = useQueryClient();
  const setting = useQuery({ queryKey: ["retention"], queryFn: () => api<RetentionSettings>("/api/v1/settings/retention") });
  const [values, setValues] = useState<Values | null>(null);
  const [saved, setSaved] = useState(false);
  useEffect(() => {
    if (setting.data) setValues({ eventDays: String(setting.data.eventDays), taskDays: String(setting.data.taskDays), keepTasksPerApp: String(setting.data.keepTasksPerApp) });
  }, [setting.data]);
  // a whole number goes as one; anything else as typed, so the server names the field
  const num = (s: string) => (/^\d{1,6}$/.test(s.trim()) ? Number(s.trim()) : s);
  const save = useMutation({
    mutationFn: (v: Values) =>
      api<RetentionSettings>("/api/v1/settings/retention", { method: "PUT", body: { eventDays: num(v.eventDays), taskDays: num(v.taskDays), keepTasksPerApp: num(v.keepTasksPerApp) } }),
    onSuccess: (r) => {
      setSaved(true);
      qc.setQueryData(["retention"], r);
    },
  });
  const err = save.error instanceof ApiError ? save.error : null;
  const change = (v: Partial<Values>) => {
    setSaved(false);
    setValues((old) => (old ? { ...old, ...v } : old));
  };
  function submit(ev: FormEvent) {
    ev.preventDefault();
    if (!values) return;
    setSaved(false);
    save.mutate(values);
  }

  return (
    <section className="card" aria-labelledby="retention-heading">
      <h2 id="retention-heading">Housekeeping</h2>
      <p className="muted">Every night the server deletes old entries of the event log and finished tasks with their logs. Running tasks are never deleted.</p>
      <ErrorAlert error={setting.error} />
      {values ? (
        <form className="form" onSubmit={submit} noValidate>
          <Field
            id="retention-events"
            label="Keep events for (days)"
            inputMode="numeric"
            value={values.eventDays}
            onChange={(e) => change({ eventDays: e.target.value })}
            hint="30 to 3650; default 90. The event log is the audit trail."
            error={err?.fieldError("eventDays")}
          />
          <Field
            id="retention-tasks"
            label="Keep finished tasks and their logs for (days)"
            inputMode="numeric"
            value={values.taskDays}
            onChange={(e) => change({ taskDays: e.target.value })}
            hint="1 to 3650; default 30."
            error={err?.fieldError("taskDays")}
          />
          <Field
            id="retention-keep"
            label="Always keep the newest tasks of each app"
            inputMode="numeric"
            value={values.keepTasksPerApp}
            onChange={(e) => change({ keepTasksPerApp: e.target.value })}
            hint="However old they are; 0 to 10000, default 50."
            error={err?.fieldError("keepTasksPerApp")}
          />
          <ErrorAlert error={save.error} fields={FIELDS} />
          {saved ? (
            <p className="alert alert-info" role="status">
              Saved. The next nightly clean-up uses it.
            </p>
          ) : null}
          <div className="row">
            <button type="submit" className="btn btn-primary" disabled={save.isPending}>
              {save.isPending ? "Saving…" : "Save"}
            </button>
          </div>
        </form>
      ) : null}
    </section>
  );
}
