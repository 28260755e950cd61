"use client";

import { useEffect, useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, ApiError } from "../../../lib/client/api";
import { acmeBody, acmeEmailNotice, acmeFormOf, ACME_FORM_FIELDS, missingAcmeFields, type AcmeFormValues } from "../../../lib/client/acme";
import { useProfile } from "../../../lib/client/profile";
import { AcmeDirectoryFields, AcmeEmailField } from "../../components/AcmeFields";
import { ErrorAlert } from "../../components/ErrorAlert";

interface AcmeSettingsView {
  directoryUrl: string;
  email: string | null;
  caCertificate: string | null;
}

/** Where ACME certificates come from (settings/acme): used by the next order or renewal. */
export function AcmeCard() {
  const qc = useQueryClient();
  const profile = useProfile();
  const settings = useQuery({ queryKey: ["acme"], queryFn: () => api<AcmeSettingsView>("/api/v1/settings/acme") });
  const [values, setValues] = useState<AcmeFormValues | null>(null);
  const [tried, setTried] = useState(false);
  const [saved, setSaved] = useState(false);
  useEffect(() => {
    if (settings.data) setValues(acmeFormOf(settings.data, profile.email));
  }, [settings.data, profile.email]);

  const save = useMutation({
    mutationFn: (v: AcmeFormValues) => api<AcmeSettingsView>("/api/v1/settings/acme", { method: "PUT", body: acmeBody(v) }),
    onSuccess: (r) => {
      setSaved(true);
      setTried(false);
      qc.setQueryData(["acme"], r);
    },
  });
  const err = save.error instanceof ApiError ? save.error : null;
  const local = tried && values ? missingAcmeFields(values) : {};
  const notice = settings.data ? acmeEmailNotice(settings.data.email, values?.email ?? "") : null;

  function submit(ev: FormEvent) {
    ev.preventDefault();
    if (!values) return;
    setSaved(false);
    setTried(true);
    if (Object.keys(missingAcmeFields(values)).length > 0) return;
    save.mutate(values);
  }
  const change = (v: AcmeFormValues) => {
    setSaved(false);
    setValues(v);
  };

  return (
    <section className="card" aria-labelledby="acme-heading">
      <h2 id="acme-heading">Certificate authority (ACME)</h2>
      <p className="muted">
        Where certificates of domains set to Let&apos;s Encrypt (per app or wildcard) come from. The staging mode always uses Let&apos;s Encrypt staging. A change applies to the next order or renewal.
      </p>
      <ErrorAlert error={settings.error} />
      {notice ? <p className="alert alert-warn">{notice}</p> : null}
      {values ? (
        <form className="form acme-form" onSubmit={submit} noValidate>
          <AcmeEmailField idPrefix="acme" values={values} onChange={change} error={err} local={local} />
          <AcmeDirectoryFields idPrefix="acme" values={values} onChange={change} error={err} local={local} />
          <ErrorAlert error={save.error} fields={ACME_FORM_FIELDS} />
          {saved ? (
            <p className="alert alert-info" role="status">
              Saved. The next certificate order uses it.
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
