"use client";

import { useEffect, useState, type FormEvent } from "react";
import { useMutation } from "@tanstack/react-query";
import type { DomainView } from "@hearth/contracts";
import { api, ApiError } from "../../../lib/client/api";
import { addDomainBody, domainFormOf, emptyDomainForm, missingDomainFields, updateDomainBody, type DomainFormValues } from "../../../lib/client/domains";
import { Modal } from "../../components/ConfirmDialog";
import { DomainFields, domainFormFields } from "../../components/DomainFields";
import { ErrorAlert } from "../../components/ErrorAlert";

/** Add a domain, or edit one's provider, settings and TLS mode (the name cannot change). */
export function DomainDialog({ state, onClose, onSaved }: { state: { mode: "add" } | { mode: "edit"; domain: DomainView } | null; onClose: () => void; onSaved: (d: DomainView) => void }) {
  const editing = state?.mode === "edit" ? state.domain : null;
  const [values, setValues] = useState<DomainFormValues>(emptyDomainForm());
  const [tried, setTried] = useState(false);

  const save = useMutation({
    mutationFn: (v: DomainFormValues) =>
      editing
        ? api<DomainView>(`/api/v1/domains/${encodeURIComponent(editing.domain)}`, { method: "PATCH", body: updateDomainBody(v) })
        : api<DomainView>("/api/v1/domains", { method: "POST", body: addDomainBody(v) }),
    onSuccess: onSaved,
  });

  // a fresh form (and no old error) each time the dialog opens
  useEffect(() => {
    if (!state) return;
    setValues(state.mode === "edit" ? domainFormOf(state.domain) : emptyDomainForm());
    setTried(false);
    save.reset();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [state]);

  const local = tried ? missingDomainFields(values, editing) : {};
  function submit(ev: FormEvent) {
    ev.preventDefault();
    setTried(true);
    if (Object.keys(missingDomainFields(values, editing)).length > 0) return;
    save.mutate(values);
  }
  const err = save.error instanceof ApiError ? save.error : null;
  const title = editing ? `Edit ${editing.domain}` : "Add a domain";

  return (
    <Modal open={state !== null} onClose={onClose} labelledBy="domain-dialog-title" wide>
      <form className="form" onSubmit={submit} noValidate>
        <h2 id="domain-dialog-title">{title}</h2>
        <DomainFields idPrefix="domain" values={values} onChange={setValues} editing={editing} error={err} local={local} />
        {editing ? <p className="hint">Saving re-applies the domain: its records and certificates are checked and renewed where needed.</p> : null}
        <ErrorAlert error={save.error} fields={domainFormFields(values.provider)} />
        <div className="row row-end">
          <button type="button" className="btn btn-ghost" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="btn btn-primary" disabled={save.isPending}>
            {save.isPending ? "Saving…" : editing ? "Save changes" : "Add domain"}
          </button>
        </div>
      </form>
    </Modal>
  );
}
