"use client";

import { useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { Profile, TotpEnrollResponse } from "@hearth/contracts";
import { api, errorText } from "../../../lib/client/api";
import { Field } from "../../components/Field";
import { TotpQrCode } from "./TotpQrCode";
import styles from "./TwoFactorCard.module.css";

export function TwoFactorCard() {
  const qc = useQueryClient();
  const profile = useQuery({ queryKey: ["profile"], queryFn: () => api<Profile>("/api/v1/profile") }).data;
  const [enrol, setEnrol] = useState<TotpEnrollResponse | null>(null);
  const [code, setCode] = useState("");
  const [password, setPassword] = useState("");

  const start = useMutation({
    mutationFn: () => api<TotpEnrollResponse>("/api/v1/profile/totp", { method: "POST" }),
    onSuccess: (r) => {
      setEnrol(r);
      setCode("");
    },
  });
  const enable = useMutation({
    mutationFn: () => api<Profile>("/api/v1/profile/totp/enable", { method: "POST", body: { code } }),
    onSuccess: (p) => {
      qc.setQueryData(["profile"], p);
      setEnrol(null);
    },
  });
  const disable = useMutation({
    mutationFn: () => api("/api/v1/profile/totp", { method: "DELETE", body: { password } }),
    onSuccess: () => {
      setPassword("");
      void qc.invalidateQueries({ queryKey: ["profile"] });
    },
  });

  function submitEnable(ev: FormEvent) {
    ev.preventDefault();
    enable.mutate();
  }
  function submitDisable(ev: FormEvent) {
    ev.preventDefault();
    disable.mutate();
  }

  return (
    <section className="card" aria-labelledby="twofactor-heading">
      <div className="card-head">
        <h2 id="twofactor-heading">Two-factor authentication</h2>
        {profile ? <span className={profile.totpEnabled ? "badge badge-ok" : "badge"}>{profile.totpEnabled ? "On" : "Off"}</span> : null}
      </div>

      {profile && !profile.totpEnabled && !enrol ? (
        <>
          <p className="muted">Protect your account with a 6-digit code from an authenticator app (such as Aegis, FreeOTP or 1Password) in addition to your password.</p>
          {start.error ? (
            <div className="alert alert-error" role="alert">
              {errorText(start.error)}
            </div>
          ) : null}
          <button type="button" className="btn btn-primary" onClick={() => start.mutate()} disabled={start.isPending}>
            Set up two-factor authentication
          </button>
        </>
      ) : null}

      {profile && !profile.totpEnabled && enrol ? (
        <form onSubmit={submitEnable} className="form">
          <ol className={styles.steps}>
            <li>
              Scan this code with your authenticator app:
              <TotpQrCode uri={enrol.otpauthUrl} />
              Or add an account in it with this secret key:
              <code className={styles.secret} aria-label="Secret key">
                {enrol.secret.replace(/(.{4})/g, "$1 ").trim()}
              </code>
              <span className="hint">
                Or open this link on the device with the app: <a href={enrol.otpauthUrl}>otpauth link</a>
              </span>
            </li>
            <li>Enter the 6-digit code the app shows to confirm.</li>
          </ol>
          {enable.error ? (
            <div className="alert alert-error" role="alert">
              {errorText(enable.error)}
            </div>
          ) : null}
          <Field id="totp-code" label="Authentication code" inputMode="numeric" autoComplete="one-time-code" maxLength={6} value={code} onChange={(e) => setCode(e.target.value.replace(/\D/g, ""))} />
          <div className="row">
            <button type="submit" className="btn btn-primary" disabled={enable.isPending || code.length !== 6}>
              Turn on two-factor authentication
            </button>
            <button type="button" className="btn btn-ghost" onClick={() => setEnrol(null)}>
              Cancel
            </button>
          </div>
        </form>
      ) : null}

      {profile?.totpEnabled ? (
        <form onSubmit={submitDisable} className="form">
          <p className="muted">Sign-ins need a code from your authenticator app. To turn this off, confirm your password.</p>
          {disable.error ? (
            <div className="alert alert-error" role="alert">
              {errorText(disable.error)}
            </div>
          ) : null}
          <Field id="totp-disable-password" label="Current password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} />
          <div className="row">
            <button type="submit" className="btn btn-danger" disabled={disable.isPending || password.length === 0}>
              Turn off two-factor authentication
            </button>
          </div>
        </form>
      ) : null}
    </section>
  );
}
