"use client";

import { useState, type FormEvent } from "react";
import { useMutation } from "@tanstack/react-query";
import { api, ApiError, errorText } from "../../../lib/client/api";
import { Field } from "../../components/Field";
import { NewPasswordFields } from "../../components/NewPasswordFields";

/** Change password: the other sessions of the account end; this one stays. */
export function PasswordCard() {
  const [currentPassword, setCurrent] = useState("");
  const [newPassword, setNew] = useState("");
  const [confirm, setConfirm] = useState("");
  const [mismatch, setMismatch] = useState(false);
  const [done, setDone] = useState<number | null>(null);

  const change = useMutation({
    mutationFn: () => api<{ endedSessions: number }>("/api/v1/profile/password", { method: "POST", body: { currentPassword, newPassword } }),
    onSuccess: (r) => {
      setDone(r.endedSessions);
      setCurrent("");
      setNew("");
      setConfirm("");
    },
  });

  function submit(ev: FormEvent) {
    ev.preventDefault();
    setDone(null);
    if (newPassword !== confirm) {
      setMismatch(true);
      return;
    }
    setMismatch(false);
    change.mutate();
  }

  const err = change.error instanceof ApiError ? change.error : null;
  const currentError = err && err.status === 403 ? err.message : err?.fieldError("currentPassword");
  const generalError = change.error && !currentError && !(err && err.code === "invalid" && Array.isArray(err.details)) ? errorText(change.error) : null;

  return (
    <section className="card" aria-labelledby="password-heading">
      <h2 id="password-heading">Password</h2>
      <form onSubmit={submit} noValidate className="form">
        {done !== null ? (
          <div className="alert alert-ok" role="status">
            Password changed. {done === 1 ? "1 other session was" : `${done} other sessions were`} logged out.
          </div>
        ) : null}
        {generalError ? (
          <div className="alert alert-error" role="alert">
            {generalError}
          </div>
        ) : null}
        <Field
          id="current-password"
          label="Current password"
          type="password"
          autoComplete="current-password"
          required
          value={currentPassword}
          onChange={(e) => setCurrent(e.target.value)}
          error={currentError}
        />
        <NewPasswordFields
          id="new-password"
          label="New password"
          hint="At least 10 characters. Your other sessions are logged out."
          value={newPassword}
          onChange={setNew}
          confirm={confirm}
          onConfirmChange={setConfirm}
          mismatch={mismatch}
          error={err?.fieldError("newPassword")}
        />
        <button type="submit" className="btn btn-primary" disabled={change.isPending}>
          {change.isPending ? "Changing…" : "Change password"}
        </button>
      </form>
    </section>
  );
}
