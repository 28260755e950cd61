"use client";

import { useState, type ChangeEvent, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { RegistryView } from "@hearth/contracts";
import { api, ApiError } from "../../../lib/client/api";
import { EmptyState, PageHeader } from "../../components/EmptyState";
import { Field } from "../../components/Field";
import { DangerCell, Table } from "../../components/Table";
import { fmtDate } from "../../../lib/client/format";
import { ConfirmDialog, useConfirm } from "../../components/ConfirmDialog";
import { ErrorAlert } from "../../components/ErrorAlert";

const FIELDS = ["server", "username", "password"] as const;
type FieldName = (typeof FIELDS)[number];
const EMPTY: Record<FieldName, string> = { server: "", username: "", password: "" };

/** Empty fields are caught here, with plain words; the host's format is the server's schema's to judge. */
function missing(values: Record<FieldName, string>): Partial<Record<FieldName, string>> {
  const e: Partial<Record<FieldName, string>> = {};
  if (!values.server.trim()) e.server = "Enter the registry's host name";
  if (!values.username) e.username = "Enter the username";
  if (!values.password) e.password = "Enter the password or access token";
  return e;
}

/**
 * Credentials for private Docker registries: box signs in with them when it pulls an app's
 * image from that host. The password goes to the server once and is never shown back (the
 * API does not return it); to change one, delete the entry and add it again.
 */
export function Registries() {
  const qc = useQueryClient();
  const registries = useQuery({ queryKey: ["registries"], queryFn: () => api<{ registries: RegistryView[] }>("/api/v1/registries") });
  const [values, setValues] = useState<Record<FieldName, string>>(EMPTY);
  const [added, setAdded] = useState<string | null>(null);
  const [tried, setTried] = useState(false);

  const add = useMutation({
    mutationFn: () => api<RegistryView>("/api/v1/registries", { method: "POST", body: { ...values, server: values.server.trim() } }),
    onSuccess: (r) => {
      setValues(EMPTY);
      setAdded(r.server);
      setTried(false);
      void qc.invalidateQueries({ queryKey: ["registries"] });
    },
  });
  const remove = useConfirm(
    (r: RegistryView) => api(`/api/v1/registries/${encodeURIComponent(r.id)}`, { method: "DELETE" }),
    () => {
      setAdded(null);
      void qc.invalidateQueries({ queryKey: ["registries"] });
    },
  );

  function submit(ev: FormEvent) {
    ev.preventDefault();
    setAdded(null);
    setTried(true);
    if (Object.keys(missing(values)).length > 0) return;
    add.mutate();
  }
  const err = add.error instanceof ApiError ? add.error : null;
  const local = tried ? missing(values) : {};
  // what every input of the form shares: its id, value, change handler and error
  const bind = (f: FieldName) => ({
    id: `registry-${f}`,
    required: true,
    value: values[f],
    onChange: (e: ChangeEvent<HTMLInputElement>) => setValues((v) => ({ ...v, [f]: e.target.value })),
    error: local[f] ?? err?.fieldError(f),
  });
  const list = registries.data?.registries;

  return (
    <>
      <PageHeader title="Registries" description="Sign-in details for private Docker registries. Hearth uses them when it pulls an app's image from that registry." />
      <div className="stack">
        <section className="card" aria-labelledby="add-registry-heading">
          <h2 id="add-registry-heading">Add a registry</h2>
          <form className="form form-row" onSubmit={submit} noValidate>
            <Field
              label="Server"
              {...bind("server")}
              maxLength={255}
              placeholder="registry.example.com"
              autoComplete="off"
              spellCheck={false}
              hint="Host name, with :port if not 443. docker.io for Docker Hub."
            />
            <Field label="Username" {...bind("username")} maxLength={255} autoComplete="off" spellCheck={false} />
            <Field label="Password or access token" {...bind("password")} type="password" maxLength={4096} autoComplete="new-password" hint="Stored encrypted; never shown again." />
            <div className="field field-submit">
              <button type="submit" className="btn btn-primary" disabled={add.isPending}>
                Add registry
              </button>
            </div>
          </form>
          <ErrorAlert error={add.error} fields={FIELDS} />
          {added && !add.error ? (
            <p className="alert alert-info" role="status">
              Credentials for {added} saved.
            </p>
          ) : null}
        </section>

        <ErrorAlert error={registries.error} />
        {registries.isPending ? <p className="muted">Loading registries…</p> : null}
        {list && list.length === 0 ? (
          <EmptyState icon="box" title="No private registries">
            <p>Images from public registries need nothing here. Add a registry above when an app&apos;s image is private.</p>
          </EmptyState>
        ) : null}
        {list && list.length > 0 ? (
          <Table card="Registries" columns={["Server", "Username", "Added"]} actions hidden={remove.target !== null}>
            {list.map((r) => (
              <tr key={r.id}>
                <td className="mono">{r.server}</td>
                <td>{r.username}</td>
                <td className="nowrap">{fmtDate(r.createdAt)}</td>
                <DangerCell action="Delete" target={r.server} onClick={() => remove.ask(r)} />
              </tr>
            ))}
          </Table>
        ) : null}
      </div>
      <ConfirmDialog id="remove-registry" title={`Delete the credentials for ${remove.target?.server ?? ""}?`} confirmLabel="Delete" {...remove.dialog}>
        <p className="muted">
          Hearth can then no longer pull private images from {remove.target?.server}: installing or updating apps whose image is there fails until you add them again. Apps that are running keep
          running.
        </p>
      </ConfirmDialog>
    </>
  );
}
