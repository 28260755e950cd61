"use client";

import { useEffect, useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { EMAIL_NOTIFICATION_KINDS, NOTIFICATION_KIND_LABELS, type NotificationKind, type NotificationPreferencesView, type NotificationWebhookView } from "@hearth/contracts";
import { api, ApiError } from "../../../lib/client/api";
import { fmtRelative } from "../../../lib/client/format";
import { isAdminRole, useProfile } from "../../../lib/client/profile";
import { CopyButton } from "../../components/CopyButton";
import { ErrorAlert } from "../../components/ErrorAlert";
import { Field } from "../../components/Field";
import styles from "./NotificationsCard.module.css";

/**
 * Notifications by email (per admin: which kinds) and the server's webhook (admin setting:
 * URL, a signing secret shown once). box mails each notification once when it opens, through
 * the mail relay's outbound path.
 */
export function NotificationsCard() {
  return isAdminRole(useProfile().role) ? (
    <section className="card" aria-labelledby="notifications-heading">
      <h2 id="notifications-heading">Notifications</h2>
      <EmailChoices />
      <Webhook />
    </section>
  ) : null;
}

function EmailChoices() {
  const qc = useQueryClient();
  const prefs = useQuery({ queryKey: ["notification-prefs"], queryFn: () => api<NotificationPreferencesView>("/api/v1/profile/notifications") });
  const [kinds, setKinds] = useState<Set<NotificationKind> | null>(null);
  const [saved, setSaved] = useState(false);
  useEffect(() => {
    if (prefs.data) setKinds(new Set(prefs.data.emailKinds));
  }, [prefs.data]);
  const save = useMutation({
    mutationFn: (k: NotificationKind[]) => api<NotificationPreferencesView>("/api/v1/profile/notifications", { method: "PUT", body: { emailKinds: k } }),
    onSuccess: (r) => {
      setSaved(true);
      qc.setQueryData(["notification-prefs"], r);
    },
  });
  return (
    <fieldset className={styles.fieldset}>
      <legend>Email me about</legend>
      <p className="muted small">Each notification is mailed once, when it opens (not for every name or app inside it, and not again while it stays open).</p>
      <ErrorAlert error={prefs.error} />
      {kinds ? (
        <div className={styles.kinds}>
          {EMAIL_NOTIFICATION_KINDS.map((k) => (
            <label key={k} className={styles.kind}>
              <input
                type="checkbox"
                checked={kinds.has(k)}
                onChange={(e) => {
                  setSaved(false);
                  const next = new Set(kinds);
                  if (e.target.checked) next.add(k);
                  else next.delete(k);
                  setKinds(next);
                }}
              />
              {NOTIFICATION_KIND_LABELS[k]}
            </label>
          ))}
        </div>
      ) : null}
      <ErrorAlert error={save.error} />
      {saved ? (
        <p className="alert alert-info" role="status">
          Saved.
        </p>
      ) : null}
      <div className="row">
        <button type="button" className="btn btn-primary" disabled={!kinds || save.isPending} onClick={() => kinds && save.mutate([...kinds])}>
          {save.isPending ? "Saving…" : "Save email choices"}
        </button>
      </div>
    </fieldset>
  );
}

function Webhook() {
  const qc = useQueryClient();
  const hook = useQuery({ queryKey: ["notification-webhook"], queryFn: () => api<NotificationWebhookView>("/api/v1/settings/notifications/webhook") });
  const [url, setUrl] = useState("");
  const [secret, setSecret] = useState<string | null>(null);
  const put = useMutation({
    mutationFn: (u: string) => api<NotificationWebhookView>("/api/v1/settings/notifications/webhook", { method: "PUT", body: { url: u } }),
    onSuccess: (r) => {
      setSecret(r.secret ?? null);
      setUrl("");
      qc.setQueryData(["notification-webhook"], { ...r, secret: undefined });
    },
  });
  const del = useMutation({
    mutationFn: () => api<NotificationWebhookView>("/api/v1/settings/notifications/webhook", { method: "DELETE" }),
    onSuccess: (r) => {
      setSecret(null);
      qc.setQueryData(["notification-webhook"], r);
    },
  });
  const err = put.error instanceof ApiError ? put.error : null;
  const last = hook.data?.lastDelivery;
  return (
    <fieldset className={styles.fieldset}>
      <legend>Webhook (for the whole server)</legend>
      <p className="muted small">
        Hearth POSTs each new notification as JSON, signed in the <code>X-Hearth-Signature</code> header (HMAC-SHA256 of <code>timestamp.body</code> with the secret; the timestamp is in{" "}
        <code>X-Hearth-Timestamp</code>). Redirects are not followed; a failure is recorded in the event log and never holds anything up.
      </p>
      <ErrorAlert error={hook.error} />
      {hook.data?.url ? (
        <p>
          Posting to <code>{hook.data.url}</code>
          {last ? (
            <span className="muted small">
              {" "}
              · last delivery {fmtRelative(last.at)}: {last.ok ? "delivered" : `failed (${last.error ?? "unknown"})`}
            </span>
          ) : null}
        </p>
      ) : hook.data ? (
        <p className="muted">No webhook is set.</p>
      ) : null}
      {secret ? (
        <div className="alert alert-info" role="status">
          <p>
            <strong>The signing secret, shown only now:</strong> <code data-testid="webhook-secret">{secret}</code> <CopyButton text={secret} label="Copy the secret" />
          </p>
        </div>
      ) : null}
      <form
        className="form"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          put.mutate(url);
        }}
      >
        <Field
          id="webhook-url"
          label={hook.data?.url ? "New webhook URL (a new secret is made)" : "Webhook URL"}
          value={url}
          onChange={(e) => setUrl(e.target.value)}
          placeholder="https://hooks.example.com/hearth"
          error={err?.fieldError("url")}
        />
        <ErrorAlert error={put.error} fields={["url"]} />
        <div className="row">
          <button type="submit" className="btn btn-primary" disabled={put.isPending || !url.trim()}>
            {put.isPending ? "Saving…" : "Save webhook"}
          </button>
          {hook.data?.url ? (
            <button type="button" className="btn btn-danger-ghost" disabled={del.isPending} onClick={() => del.mutate()}>
              Remove webhook
            </button>
          ) : null}
        </div>
      </form>
    </fieldset>
  );
}
