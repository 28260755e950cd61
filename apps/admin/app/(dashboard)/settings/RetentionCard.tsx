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
type Key = (typeof FIELDS)[number];
type Values = Record<Key, string>;
const FORM: { key: Key; id: string; label: string; hint: string }[] = [
  { key: "eventDays", id: "retention-events", label: "Keep events for (days)", hint: "30 to 3650; default 90. The event log is the audit trail." },
  { key: "taskDays", id: "retention-tasks", label: "Keep finished tasks and their logs for (days)", hint: "1 to 3650; default 30." },
  { key: "keepTasksPerApp", id: "retention-keep", label: "Always keep the newest tasks of each app", hint: "However old they are; 0 to 10000, default 50." },
];
const each = <T,>(f: (k: Key) => T) => Object.fromEntries(FIELDS.map((k) => [k, f(k)])) as Record<Key, T>;

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
    const data = setting.data;
    if (data) setValues(each((k) => String(data[k])));
  }, [setting.data]);
  // a whole number goes as one; anything else as typed, so the server names the field
  const num = (s: string) => (/^\d{1,6}$/.test(s.trim()) ? Number(s.trim()) : s);
  const save = useMutation({
    mutationFn: (v: Values) => api<RetentionSettings>("/api/v1/settings/retention", { method: "PUT", body: each((k) => num(v[k])) }),
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
          {FORM.map((f) => (
            <Field key={f.key} id={f.id} label={f.label} inputMode="numeric" value={values[f.key]} onChange={(e) => change({ [f.key]: e.target.value })} hint={f.hint} error={err?.fieldError(f.key)} />
          ))}
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
