"use client";

import { useEffect, useRef, useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { DomainView } from "@hearth/contracts";
import { api, ApiError, errorText } from "../../../lib/client/api";
import { EmptyState, PageHeader } from "../../components/EmptyState";
import { Field } from "../../components/Field";

const PROVIDERS: { value: DomainView["provider"]; label: string; hint: string }[] = [
  { value: "manual", label: "Manual", hint: "You create a DNS record for each app yourself" },
  { value: "wildcard", label: "Wildcard", hint: "A *.domain record already points to this server" },
  { value: "noop", label: "No DNS", hint: "Nothing is checked (for testing)" },
];

export function Domains() {
  const qc = useQueryClient();
  const domains = useQuery({ queryKey: ["domains"], queryFn: () => api<{ domains: DomainView[] }>("/api/v1/domains") });
  const [domain, setDomain] = useState("");
  const [provider, setProvider] = useState<DomainView["provider"]>("wildcard");
  const [removing, setRemoving] = useState<DomainView | null>(null);
  const dialog = useRef<HTMLDialogElement>(null);

  const add = useMutation({
    mutationFn: () => api<DomainView>("/api/v1/domains", { method: "POST", body: { domain: domain.trim(), provider } }),
    onSuccess: () => {
      setDomain("");
      void qc.invalidateQueries({ queryKey: ["domains"] });
    },
  });
  const remove = useMutation({
    mutationFn: (d: string) => api(`/api/v1/domains/${encodeURIComponent(d)}`, { method: "DELETE" }),
    onSuccess: () => {
      setRemoving(null);
      void qc.invalidateQueries({ queryKey: ["domains"] });
    },
  });

  useEffect(() => {
    const d = dialog.current;
    if (!d) return;
    if (removing && !d.open) {
      remove.reset();
      d.showModal();
    }
    if (!removing && d.open) d.close();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [removing]);

  function submit(ev: FormEvent) {
    ev.preventDefault();
    add.mutate();
  }
  const addErr = add.error instanceof ApiError ? add.error : null;
  const hint = PROVIDERS.find((p) => p.value === provider)?.hint;

  return (
    <>
      <PageHeader title="Domains" description="Domains your apps are served from. The first domain also serves this dashboard at my.<domain>." />
      <div className="stack">
        <section className="card" aria-labelledby="add-domain-heading">
          <h2 id="add-domain-heading">Add a domain</h2>
          <form className="form form-row" onSubmit={submit}>
            <Field id="domain-name" label="Domain" required value={domain} onChange={(e) => setDomain(e.target.value)} placeholder="example.com" error={addErr?.fieldError("domain")} />
            <div className="field">
              <label htmlFor="domain-provider">DNS provider</label>
              <select id="domain-provider" value={provider} onChange={(e) => setProvider(e.target.value as DomainView["provider"])} aria-describedby="domain-provider-hint">
                {PROVIDERS.map((p) => (
                  <option key={p.value} value={p.value}>
                    {p.label}
                  </option>
                ))}
              </select>
              <p className="hint" id="domain-provider-hint">
                {hint}
              </p>
            </div>
            <div className="field field-submit">
              <button type="submit" className="btn btn-primary" disabled={add.isPending || domain.trim() === ""}>
                Add domain
              </button>
            </div>
          </form>
          {add.error && !addErr?.fieldError("domain") ? (
            <div className="alert alert-error" role="alert">
              {errorText(add.error)}
            </div>
          ) : null}
        </section>

        {domains.error ? (
          <div className="alert alert-error" role="alert">
            {errorText(domains.error)}
          </div>
        ) : null}
        {domains.data && domains.data.domains.length === 0 ? (
          <EmptyState icon="globe" title="No domains added">
            <p>Add a domain above to install apps on it.</p>
          </EmptyState>
        ) : null}
        {domains.data && domains.data.domains.length > 0 ? (
          <section className="card card-flush" aria-label="Domains" aria-hidden={removing ? true : undefined}>
            <div className="table-wrap">
              <table className="table">
                <thead>
                  <tr>
                    <th scope="col">Domain</th>
                    <th scope="col">DNS provider</th>
                    <th scope="col">Added</th>
                    <th scope="col">
                      <span className="sr-only">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {domains.data.domains.map((d) => (
                    <tr key={d.domain}>
                      <td>
                        {d.domain} {d.isDashboardDomain ? <span className="badge badge-info">Dashboard: my.{d.domain}</span> : null}
                      </td>
                      <td>{PROVIDERS.find((p) => p.value === d.provider)?.label ?? d.provider}</td>
                      <td className="nowrap">{new Date(d.createdAt).toLocaleDateString(undefined, { dateStyle: "medium" })}</td>
                      <td className="actions">
                        <button type="button" className="btn btn-danger-ghost btn-sm" aria-label={`Delete ${d.domain}`} onClick={() => setRemoving(d)}>
                          Delete
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </section>
        ) : null}
      </div>
      <dialog ref={dialog} className="dialog" aria-labelledby="remove-domain-title" onClose={() => setRemoving(null)}>
        {removing ? (
          <>
            <h2 id="remove-domain-title">Delete {removing.domain}?</h2>
            <p className="muted">Apps must be moved to another domain or uninstalled first.</p>
            {remove.error ? (
              <div className="alert alert-error" role="alert">
                {errorText(remove.error)}
              </div>
            ) : null}
            <div className="row row-end">
              <button type="button" className="btn btn-ghost" onClick={() => setRemoving(null)}>
                Cancel
              </button>
              <button type="button" className="btn btn-danger" onClick={() => remove.mutate(removing.domain)} disabled={remove.isPending}>
                Delete
              </button>
            </div>
          </>
        ) : null}
      </dialog>
    </>
  );
}
