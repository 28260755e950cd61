"use client";

import { useEffect, useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { MailOutboundView } from "@hearth/contracts";
import { api, ApiError } from "../../../lib/client/api";
import { forgetsSmarthost, MAIL_FORM_FIELDS, mailBody, mailFormOf, SECURITY_OPTIONS, type MailFormValues } from "../../../lib/client/mail";
import { isAdminRole, useProfile } from "../../../lib/client/profile";
import { ConfirmDialog, useConfirm } from "../../components/ConfirmDialog";
import { ErrorAlert } from "../../components/ErrorAlert";
import { Field } from "../../components/Field";
import { PemField } from "../../components/PemField";
import { TaskProgress } from "../../components/TaskProgress";

/**
 * How mail from apps (the sendmail addon's relay) leaves this server (settings/mail): by MX,
 * or through the admin's smarthost. box reads the setting for every message, so a save applies
 * to the next one. "Send a test mail" queues a mail.test task that box runs; its progress and
 * log show here.
 */
export function MailRelayCard() {
  // owner and admins only (the API refuses the others)
  return isAdminRole(useProfile().role) ? <MailRelayForm /> : null;
}

function MailRelayForm() {
  const qc = useQueryClient();
  const profile = useProfile();
  const setting = useQuery({ queryKey: ["mail-outbound"], queryFn: () => api<MailOutboundView>("/api/v1/settings/mail") });
  const [values, setValues] = useState<MailFormValues | null>(null);
  const [saved, setSaved] = useState(false);
  const [testTo, setTestTo] = useState(profile.email);
  const [testTask, setTestTask] = useState<{ id: string; to: string } | null>(null);
  useEffect(() => {
    if (setting.data) setValues(mailFormOf(setting.data));
  }, [setting.data]);

  const put = (v: MailFormValues) => api<MailOutboundView>("/api/v1/settings/mail", { method: "PUT", body: mailBody(v) });
  const onSaved = (r: MailOutboundView) => {
    setSaved(true);
    qc.setQueryData(["mail-outbound"], r);
  };
  const save = useMutation({ mutationFn: put, onSuccess: onSaved });
  const toDirect = useConfirm(put, onSaved);
  const test = useMutation({
    mutationFn: (to: string) => api<{ taskId: string }>("/api/v1/settings/mail/test", { method: "POST", body: { to } }),
    onSuccess: (r, to) => setTestTask({ id: r.taskId, to }),
  });
  const err = save.error instanceof ApiError ? save.error : null;
  const testErr = test.error instanceof ApiError ? test.error : null;
  const hasPassword = setting.data?.mode === "smarthost" && setting.data.hasPassword;

  function submit(ev: FormEvent) {
    ev.preventDefault();
    if (!values) return;
    setSaved(false);
    if (forgetsSmarthost(setting.data, values)) toDirect.ask(values);
    else save.mutate(values);
  }
  const change = (v: Partial<MailFormValues>) => {
    setSaved(false);
    setValues((old) => (old ? { ...old, ...v } : old));
  };
  function sendTest(ev: FormEvent) {
    ev.preventDefault();
    setTestTask(null);
    test.mutate(testTo.trim());
  }

  return (
    <section className="card" aria-labelledby="mail-heading">
      <h2 id="mail-heading">Mail relay</h2>
      <p className="muted">How mail that apps send (the sendmail addon) leaves this server. A change applies to the next message; no restart needed.</p>
      <ErrorAlert error={setting.error} />
      {values ? (
        <form className="form mail-form" onSubmit={submit} noValidate>
          <fieldset className="choice-group">
            <legend>Outbound path</legend>
            <label className="check" htmlFor="mail-mode-direct">
              <input id="mail-mode-direct" type="radio" name="mail-mode" checked={values.mode === "direct"} onChange={() => change({ mode: "direct" })} />
              <span>
                Direct delivery <span className="muted small">to each recipient domain&apos;s mail servers (MX, port 25)</span>
              </span>
            </label>
            <label className="check" htmlFor="mail-mode-smarthost">
              <input id="mail-mode-smarthost" type="radio" name="mail-mode" checked={values.mode === "smarthost"} onChange={() => change({ mode: "smarthost" })} />
              <span>
                Smarthost <span className="muted small">your mail provider&apos;s SMTP server, with a login</span>
              </span>
            </label>
          </fieldset>

          {values.mode === "direct" ? (
            <Field
              id="mail-helo"
              label="Server name in the greeting (optional)"
              value={values.heloName}
              onChange={(e) => change({ heloName: e.target.value })}
              placeholder="this server's host name"
              hint="Many receivers check that it matches the reverse DNS of this server's address. Port 25 must be open outbound."
              spellCheck={false}
              error={err?.fieldError("heloName")}
            />
          ) : (
            <>
              <div className="inline-fields">
                <Field
                  id="mail-host"
                  label="SMTP server"
                  value={values.host}
                  onChange={(e) => change({ host: e.target.value })}
                  placeholder="smtp.example.com"
                  spellCheck={false}
                  required
                  error={err?.fieldError("host")}
                />
                <div className="mail-port">
                  <Field id="mail-port" label="Port" inputMode="numeric" value={values.port} onChange={(e) => change({ port: e.target.value })} placeholder="587" error={err?.fieldError("port")} />
                </div>
              </div>
              <div className="field">
                <label htmlFor="mail-security">Encryption</label>
                <select
                  id="mail-security"
                  value={values.security}
                  onChange={(e) => {
                    const security = e.target.value as MailFormValues["security"];
                    // follow the usual port while the admin has not picked another
                    const usual = SECURITY_OPTIONS.some((o) => String(o.port) === values.port.trim()) || values.port.trim() === "";
                    change({ security, ...(usual ? { port: String(SECURITY_OPTIONS.find((o) => o.value === security)!.port) } : {}) });
                  }}
                  aria-invalid={err?.fieldError("security") ? true : undefined}
                >
                  {SECURITY_OPTIONS.map((o) => (
                    <option key={o.value} value={o.value}>
                      {o.label}
                    </option>
                  ))}
                </select>
                <p className="hint">The server&apos;s certificate is always verified when TLS is used.</p>
              </div>
              <div className="inline-fields">
                <Field
                  id="mail-username"
                  label="Username"
                  autoComplete="off"
                  value={values.username}
                  onChange={(e) => change({ username: e.target.value })}
                  spellCheck={false}
                  hint="Empty: send without logging in."
                  error={err?.fieldError("username")}
                />
                <Field
                  id="mail-password"
                  label="Password"
                  type="password"
                  autoComplete="new-password"
                  value={values.password}
                  onChange={(e) => change({ password: e.target.value })}
                  placeholder={hasPassword ? "saved — leave empty to keep" : ""}
                  hint={hasPassword ? "A password is saved. Type a new one to replace it; changing the host, port or security needs it typed again." : undefined}
                  error={err?.fieldError("password")}
                />
              </div>
              <PemField
                id="mail-ca"
                label="CA certificate to trust (optional)"
                value={values.caCertificate}
                onChange={(v) => change({ caCertificate: v })}
                hint="Only for a server whose certificate comes from a private CA: the PEM of that CA."
                placeholder="-----BEGIN CERTIFICATE-----"
                rows={3}
                error={err?.fieldError("caCertificate")}
              />
            </>
          )}
          <ErrorAlert error={save.error} fields={MAIL_FORM_FIELDS} />
          {saved ? (
            <p className="alert alert-info" role="status">
              Saved. The next message uses it.
            </p>
          ) : null}
          <div className="row">
            <button type="submit" className="btn btn-primary" disabled={save.isPending}>
              {save.isPending ? "Saving…" : "Save"}
            </button>
          </div>
        </form>
      ) : null}

      {setting.data ? (
        <form className="form mail-test" onSubmit={sendTest} noValidate>
          <h3>Send a test mail</h3>
          <div className="inline-fields">
            <Field
              id="mail-test-to"
              label="To"
              type="email"
              value={testTo}
              onChange={(e) => setTestTo(e.target.value)}
              hint="Uses the saved setting, from no-reply at the dashboard's domain."
              error={testErr?.fieldError("to")}
            />
            <div className="field field-submit">
              <button type="submit" className="btn" disabled={test.isPending}>
                {test.isPending ? "Queuing…" : "Send test mail"}
              </button>
            </div>
          </div>
          <ErrorAlert error={test.error} fields={["to"]} />
        </form>
      ) : null}
      {testTask ? (
        <div className="mail-task">
          <TaskProgress key={testTask.id} taskId={testTask.id} subject={testTask.to} onDismiss={() => setTestTask(null)} />
        </div>
      ) : null}

      <ConfirmDialog id="mail-direct" title="Switch to direct delivery?" confirmLabel="Switch" {...toDirect.dialog}>
        <p>This forgets the smarthost, including its saved password. Mail then goes straight to each recipient&apos;s mail servers on port 25.</p>
      </ConfirmDialog>
    </section>
  );
}
