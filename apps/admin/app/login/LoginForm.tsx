"use client";

import { useState, type FormEvent } from "react";
import { useMutation } from "@tanstack/react-query";
import type { Profile } from "@hearth/contracts";
import { api, ApiError, errorText } from "../../lib/client/api";
import { Field } from "../components/Field";

function messageOf(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.status === 429) {
      const minutes = Math.max(1, Math.ceil((e.retryAfterSeconds ?? 60) / 60));
      return `Too many attempts, try again in ${minutes} ${minutes === 1 ? "minute" : "minutes"}.`;
    }
    if (e.status === 401) return e.message;
    if (e.code === "invalid") return "Enter your username and password.";
  }
  return errorText(e);
}

export function LoginForm() {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [totp, setTotp] = useState("");
  const [needTotp, setNeedTotp] = useState(false);

  const login = useMutation({
    mutationFn: () => api<Profile>("/api/v1/auth/login", { method: "POST", body: { username, password, ...(needTotp && totp ? { totp } : {}) } }),
    onSuccess: () => window.location.assign("/apps"),
    onError: (e) => {
      const details = e instanceof ApiError ? (e.details as { totpRequired?: boolean } | undefined) : undefined;
      if (details?.totpRequired) setNeedTotp(true);
    },
  });

  function submit(ev: FormEvent) {
    ev.preventDefault();
    login.mutate();
  }

  const e = login.error;
  const totpPrompt = needTotp && e instanceof ApiError && e.status === 401 && !totp;

  return (
    <form onSubmit={submit} className="form">
      {e && !totpPrompt ? (
        <div className="alert alert-error" role="alert">
          {messageOf(e)}
        </div>
      ) : null}
      {totpPrompt ? (
        <div className="alert alert-info" role="status">
          Two-factor authentication is on for this account. Enter the 6-digit code from your authenticator app.
        </div>
      ) : null}
      <Field id="username" label="Username" autoComplete="username" autoCapitalize="none" spellCheck={false} required value={username} onChange={(ev) => setUsername(ev.target.value)} />
      <Field id="password" label="Password" type="password" autoComplete="current-password" required value={password} onChange={(ev) => setPassword(ev.target.value)} />
      {needTotp ? (
        <Field
          id="totp"
          label="Two-factor code"
          inputMode="numeric"
          autoComplete="one-time-code"
          pattern="\d{6}"
          maxLength={6}
          autoFocus
          value={totp}
          onChange={(ev) => setTotp(ev.target.value.replace(/\D/g, ""))}
        />
      ) : null}
      <button type="submit" className="btn btn-primary btn-block" disabled={login.isPending}>
        {login.isPending ? "Signing in…" : "Sign in"}
      </button>
    </form>
  );
}
