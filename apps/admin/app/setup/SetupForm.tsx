"use client";

import { useState, type FormEvent } from "react";
import { useMutation } from "@tanstack/react-query";
import type { Profile } from "@hearth/contracts";
import { api, ApiError, errorText } from "../../lib/client/api";
import { Field } from "../components/Field";
import { NewPasswordFields } from "../components/NewPasswordFields";

export function SetupForm() {
  const [setupCode, setSetupCode] = useState("");
  const [username, setUsername] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [confirm, setConfirm] = useState("");
  const [mismatch, setMismatch] = useState(false);

  const create = useMutation({
    mutationFn: () => api<Profile>("/api/v1/setup/owner", { method: "POST", body: { setupCode, username, email, password } }),
    // next: the domain step (skippable); the owner is signed in now
    onSuccess: () => window.location.assign("/setup/domain"),
    onError: (e) => {
      // someone else finished setup meanwhile
      if (e instanceof ApiError && e.status === 409) window.location.assign("/login");
    },
  });

  function submit(ev: FormEvent) {
    ev.preventDefault();
    if (password !== confirm) {
      setMismatch(true);
      return;
    }
    setMismatch(false);
    create.mutate();
  }

  const err = create.error instanceof ApiError ? create.error : null;
  // a missing or wrong setup code (403) or too many wrong ones (429) show at the code's field
  const codeError = err && (err.status === 403 || err.status === 429) ? err.message : undefined;
  const generalError = create.error && !codeError && !(err && err.code === "invalid" && Array.isArray(err.details)) ? errorText(create.error) : null;

  return (
    <form onSubmit={submit} noValidate className="form">
      {generalError ? (
        <div className="alert alert-error" role="alert">
          {generalError}
        </div>
      ) : null}
      <Field
        id="setup-code"
        label="Setup code"
        autoComplete="one-time-code"
        autoCapitalize="characters"
        spellCheck={false}
        required
        placeholder="XXXX-XXXX-XXXX"
        value={setupCode}
        onChange={(e) => setSetupCode(e.target.value.toUpperCase())}
        hint="setup/install.sh printed it at the end; it is also in /etc/hearth/setup-code on the server (root only)."
        error={codeError ?? err?.fieldError("setupCode")}
      />
      <Field
        id="username"
        label="Username"
        autoComplete="username"
        autoCapitalize="none"
        spellCheck={false}
        required
        value={username}
        onChange={(e) => setUsername(e.target.value.toLowerCase())}
        hint="Lowercase letters, digits, '.', '_' and '-'."
        error={err?.fieldError("username")}
      />
      <Field id="email" label="Email" type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} error={err?.fieldError("email")} />
      <NewPasswordFields
        id="password"
        label="Password"
        hint="At least 10 characters."
        value={password}
        onChange={setPassword}
        confirm={confirm}
        onConfirmChange={setConfirm}
        mismatch={mismatch}
        error={err?.fieldError("password")}
      />
      <button type="submit" className="btn btn-primary btn-block" disabled={create.isPending}>
        {create.isPending ? "Creating account…" : "Create owner account"}
      </button>
    </form>
  );
}
