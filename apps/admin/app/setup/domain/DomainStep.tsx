"use client";

import { useCallback, useEffect, useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { LETSENCRYPT_PRODUCTION, type CertificateView, type DomainView, type TaskView, type TlsMode } from "@hearth/contracts";
import { api, ApiError, errorText } from "../../../lib/client/api";
import { acmeBody, acmeFormOf, ACME_FORM_FIELDS, missingAcmeFields, type AcmeFormValues } from "../../../lib/client/acme";
import { addDomainBody, certificateFor, emptyDomainForm, isApiProvider, missingDomainFields, type DomainFormValues } from "../../../lib/client/domains";
import { AcmeDirectoryFields, AcmeEmailField } from "../../components/AcmeFields";
import { DnsRecords, type DomainRecords } from "../../components/DnsRecords";
import { DomainFields, domainFormFields } from "../../components/DomainFields";
import { ErrorAlert } from "../../components/ErrorAlert";
import { TaskProgress } from "../../components/TaskProgress";
import { outcomeOf } from "../../../lib/client/setup";

const ACME_MODES: readonly TlsMode[] = ["letsencrypt", "letsencrypt-wildcard", "letsencrypt-staging"];
/** Seconds before the browser moves to the dashboard's new address on its own. */
const AUTO_GO_SECONDS = 5;

/**
 * The domain step of the first run. Before a domain exists: the form (domain, DNS provider and
 * its settings, TLS mode, the CA's email and, folded away, the CA itself). After: the
 * domain.sync task's progress, the records to create by hand (manual, wildcard), and the
 * dashboard certificate's state; once my.<domain> has a trusted certificate, the way there.
 * Reloading the page lands in the second half: it follows whatever domain serves the dashboard.
 */
export function DomainStep({ ownerEmail }: { ownerEmail: string }) {
  const domains = useQuery({ queryKey: ["domains"], queryFn: () => api<{ domains: DomainView[] }>("/api/v1/domains") });
  const [added, setAdded] = useState<DomainView | null>(null);
  const existing = domains.data?.domains.find((d) => d.isDashboardDomain) ?? domains.data?.domains[0];
  const current = added ?? existing;

  if (domains.isPending) return <p className="muted">Loading…</p>;
  if (domains.error) return <ErrorAlert error={domains.error} />;
  if (current) return <DomainApplied domain={current} />;
  return <DomainForm ownerEmail={ownerEmail} onAdded={setAdded} />;
}

function DomainForm({ ownerEmail, onAdded }: { ownerEmail: string; onAdded: (d: DomainView) => void }) {
  const acmeSettings = useQuery({ queryKey: ["acme"], queryFn: () => api<{ directoryUrl: string; email: string | null; caCertificate: string | null }>("/api/v1/settings/acme") });
  const [values, setValues] = useState<DomainFormValues>(emptyDomainForm("manual"));
  const [acme, setAcme] = useState<AcmeFormValues>(acmeFormOf({ directoryUrl: LETSENCRYPT_PRODUCTION, email: null, caCertificate: null }, ownerEmail));
  const [advanced, setAdvanced] = useState(false);
  const [tried, setTried] = useState(false);
  useEffect(() => {
    if (acmeSettings.data) setAcme(acmeFormOf(acmeSettings.data, ownerEmail));
  }, [acmeSettings.data, ownerEmail]);

  const usesAcme = ACME_MODES.includes(values.tlsMode);
  // the staging mode always uses Let's Encrypt staging: only the email matters then
  const usesDirectory = usesAcme && values.tlsMode !== "letsencrypt-staging";
  const missing = (): Record<string, string> => ({
    ...missingDomainFields(values, null),
    ...(usesAcme ? missingAcmeFields(usesDirectory ? acme : { ...acme, preset: "letsencrypt" }) : {}),
  });

  const submit = useMutation({
    mutationFn: async () => {
      if (usesAcme) await api("/api/v1/settings/acme", { method: "PUT", body: acmeBody(usesDirectory ? acme : { ...acme, preset: "letsencrypt", caCertificate: "" }) });
      return api<DomainView>("/api/v1/domains", { method: "POST", body: addDomainBody(values) });
    },
    onSuccess: onAdded,
  });
  const err = submit.error instanceof ApiError ? submit.error : null;
  // an error about the CA must not hide in the folded section
  const caError = err !== null && (err.fieldError("directoryUrl") !== undefined || err.fieldError("caCertificate") !== undefined);
  useEffect(() => {
    if (caError) setAdvanced(true);
  }, [caError]);
  const local = tried ? missing() : {};
  useEffect(() => {
    if (tried && local.directoryUrl) setAdvanced(true);
  }, [tried, local.directoryUrl]);

  function onSubmit(ev: FormEvent) {
    ev.preventDefault();
    setTried(true);
    if (Object.keys(missing()).length > 0) return;
    submit.mutate();
  }

  return (
    <>
      <h1>Add your domain</h1>
      <p className="muted">
        Hearth serves this dashboard at <strong>my.&lt;domain&gt;</strong> and each app at its own name under the domain, with certificates browsers trust. You can also do this later on the Domains
        page.
      </p>
      <form className="form setup-domain-form" onSubmit={onSubmit} noValidate>
        <DomainFields idPrefix="setup" values={values} onChange={setValues} editing={null} error={err} local={local} />
        {usesAcme ? (
          <>
            <AcmeEmailField idPrefix="setup-acme" values={acme} onChange={setAcme} error={err} local={local} />
            {usesDirectory ? (
              <details className="more" open={advanced} onToggle={(e) => setAdvanced(e.currentTarget.open)}>
                <summary>Certificate authority (advanced)</summary>
                <div className="form more-body">
                  <p className="hint">Let&apos;s Encrypt unless you use another ACME CA, such as ZeroSSL or your own step-ca.</p>
                  <AcmeDirectoryFields idPrefix="setup-acme" values={acme} onChange={setAcme} error={err} local={local} />
                </div>
              </details>
            ) : null}
          </>
        ) : null}
        <ErrorAlert error={submit.error} fields={[...domainFormFields(values.provider), ...ACME_FORM_FIELDS]} />
        <button type="submit" className="btn btn-primary btn-block" disabled={submit.isPending}>
          {submit.isPending ? "Adding the domain…" : "Add domain"}
        </button>
        <a className="btn btn-ghost btn-block" href="/apps">
          Skip for now — use the IP address
        </a>
      </form>
    </>
  );
}

/** Whether this browser opens `url` (reachable, and a certificate it trusts): an opaque no-cors request. */
async function opens(url: string): Promise<boolean> {
  try {
    await fetch(url, { mode: "no-cors", cache: "no-store", credentials: "omit", signal: AbortSignal.timeout(5000) });
    return true;
  } catch {
    return false;
  }
}

/** Whether this address now redirects (box's IP URL redirect to my.<domain>). Network errors: not known, false. */
async function redirects(): Promise<boolean> {
  try {
    const r = await fetch("/api/v1/status", { redirect: "manual", cache: "no-store" });
    return r.type === "opaqueredirect" || (r.status >= 300 && r.status < 400);
  } catch {
    return false;
  }
}

function DomainApplied({ domain: initial }: { domain: DomainView }) {
  const qc = useQueryClient();
  const name = initial.domain;
  const fqdn = `my.${name}`;
  const url = `https://${fqdn}/`;
  const [taskId, setTaskId] = useState<string | null>(initial.taskId ?? null);
  const [taskDone, setTaskDone] = useState(initial.taskId === null || initial.taskId === undefined);
  const [taskFailed, setTaskFailed] = useState(false);

  const redirected = useQuery({
    queryKey: ["redirects"],
    queryFn: redirects,
    enabled: initial.tlsMode !== "fallback",
    refetchInterval: (q) => (q.state.data ? false : 1500),
  });
  const moved = redirected.data === true;
  // until the move, what the list says; after it this address only redirects (nothing to read)
  const certificates = useQuery({
    queryKey: ["certificates"],
    queryFn: () => api<{ certificates: CertificateView[] }>("/api/v1/certificates"),
    refetchInterval: moved ? false : 2000,
    enabled: !moved,
  });
  const probe = useQuery({
    queryKey: ["opens", url],
    queryFn: () => opens(`${url}api/v1/status`),
    enabled: moved,
    // a name that does not resolve yet may do so in a moment
    refetchInterval: (q) => (q.state.data ? false : 3000),
  });
  const cert = certificates.data ? certificateFor(certificates.data.certificates, fqdn) : undefined;
  const outcome = outcomeOf({ tlsMode: initial.tlsMode, cert, taskDone, redirected: moved, reachable: probe.data ?? null });

  const needsRecords = !isApiProvider(initial.provider) && initial.provider !== "noop";
  const records = useQuery({
    queryKey: ["domain-records", name],
    queryFn: () => api<DomainRecords>(`/api/v1/domains/${encodeURIComponent(name)}/records`),
    enabled: needsRecords,
  });

  const onDone = useCallback(
    (t: TaskView) => {
      // the certificates first, then "done": the outcome must not be judged on a stale list
      void qc.invalidateQueries({ queryKey: ["certificates"] }).then(() => {
        setTaskFailed(t.state !== "succeeded");
        setTaskDone(true);
      });
    },
    [qc],
  );

  const retry = useMutation({
    mutationFn: (c: CertificateView) => api<{ taskId: string }>(`/api/v1/certificates/${encodeURIComponent(c.id)}/renew`, { method: "POST" }),
    onSuccess: (r) => {
      setTaskFailed(false);
      setTaskDone(false);
      setTaskId(r.taskId);
    },
  });

  return (
    <>
      <h1>{moved ? "Your dashboard has moved" : `Setting up ${name}`}</h1>
      {/* after the move this address only redirects: the task can no longer be followed from here */}
      {taskId && !moved ? <TaskProgress key={taskId} taskId={taskId} subject={name} onDone={onDone} /> : null}
      {needsRecords && records.data && !moved ? (
        <section className="setup-records" aria-label="DNS records to create">
          <DnsRecords r={records.data} />
        </section>
      ) : null}
      {moved ? null : <ErrorAlert error={certificates.error} />}

      {outcome.kind === "waiting" ? (
        <p className="alert alert-info" role="status">
          {outcome.issued ? `The certificate of ${fqdn} is issued; the web server is being reloaded…` : `Waiting for the certificate of ${fqdn}…`}
        </p>
      ) : null}
      {outcome.kind === "trusted" ? <Trusted fqdn={fqdn} url={url} /> : null}
      {outcome.kind === "unreachable" ? (
        <div className="alert alert-warn" role="status">
          <p>
            <strong>
              {fqdn} has its certificate, and the dashboard is now at <a href={url}>{url}</a>
            </strong>
            : this address sends you there.
          </p>
          <p>
            {outcome.staging
              ? "Its certificate comes from Let's Encrypt staging, which browsers do not trust: expect a warning."
              : `This browser could not open it yet: ${fqdn} may not resolve here yet, or this browser does not trust the certificate authority.`}{" "}
            Sign in again there with the owner account you just made.
          </p>
        </div>
      ) : null}
      {outcome.kind === "available" ? (
        <div className="alert alert-ok" role="status">
          <p>
            <strong>{fqdn} has its certificate.</strong> The dashboard is also at <a href={url}>{url}</a>; sign in again there (sign-ins belong to one address).
          </p>
        </div>
      ) : null}
      {outcome.kind === "untrusted" ? (
        <div className="alert alert-warn" role="status">
          <p>
            The dashboard is also at <a href={url}>{url}</a>. {outcome.why}
          </p>
          <p>You can keep using this address, or sign in again there.</p>
        </div>
      ) : null}
      {outcome.kind === "failed" ? (
        <div className="alert alert-error" role="alert">
          <p>
            <strong>The certificate for {fqdn} could not be issued yet.</strong> {outcome.cert?.lastError ?? "See the task log above."}
          </p>
          {taskFailed ? (
            <p>
              Check the domain&apos;s settings: continue to the dashboard, then <a href="/domains">Domains</a> → Edit. Until then, keep using this address.
            </p>
          ) : (
            <p>{needsRecords ? "Create the DNS records above, then try again. " : ""}Hearth also retries on its own; the Certificates page shows how it goes. Until then, keep using this address.</p>
          )}
          {outcome.cert && outcome.cert.kind === "acme" ? (
            <button type="button" className="btn btn-sm" onClick={() => retry.mutate(outcome.cert!)} disabled={retry.isPending}>
              Try again now
            </button>
          ) : null}
        </div>
      ) : null}
      {retry.error ? <p className="alert alert-error">{errorText(retry.error)}</p> : null}

      {moved ? null : (
        <a className="btn btn-ghost btn-block setup-continue" href="/apps">
          Continue to the dashboard at this address
        </a>
      )}
    </>
  );
}

/** my.<domain> is trusted: this IP address now redirects there, and the session must be made anew. */
function Trusted({ fqdn, url }: { fqdn: string; url: string }) {
  const [left, setLeft] = useState(AUTO_GO_SECONDS);
  useEffect(() => {
    if (left <= 0) {
      window.location.assign(url);
      return;
    }
    const t = setTimeout(() => setLeft((n) => n - 1), 1000);
    return () => clearTimeout(t);
  }, [left, url]);
  return (
    <div className="alert alert-ok" role="status">
      <p>
        <strong>{fqdn} has a trusted certificate.</strong> The dashboard is now at <a href={url}>{url}</a>, and this address sends you there.
      </p>
      <p>Sign-ins belong to one address, so sign in again there with the owner account you just made.</p>
      <p className="row">
        <a className="btn btn-primary" href={url}>
          Go to {url}
        </a>
        <span className="muted small">{left > 0 ? `Going there in ${left} s…` : "Going…"}</span>
      </p>
    </div>
  );
}
