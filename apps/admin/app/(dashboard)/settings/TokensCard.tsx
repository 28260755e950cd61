"use client";

import { useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { TokenView } from "@hearth/contracts";
import { api, ApiError } from "../../../lib/client/api";
import { ConfirmDialog, useConfirm } from "../../components/ConfirmDialog";
import { ErrorAlert } from "../../components/ErrorAlert";
import { DangerCell, Table } from "../../components/Table";
import { fmtDate, fmtDateTime } from "../../../lib/client/format";
import { Field } from "../../components/Field";

type Created = TokenView & { token: string };

function tomorrow(): string {
  const d = new Date(Date.now() + 24 * 3600_000);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

export function TokensCard() {
  const qc = useQueryClient();
  const tokens = useQuery({ queryKey: ["tokens"], queryFn: () => api<{ tokens: TokenView[] }>("/api/v1/tokens") });
  const [name, setName] = useState("");
  const [scope, setScope] = useState<"read" | "read-write">("read");
  const [expires, setExpires] = useState("");
  const [created, setCreated] = useState<Created | null>(null);
  const [copied, setCopied] = useState(false);

  const create = useMutation({
    mutationFn: () =>
      api<Created>("/api/v1/tokens", {
        method: "POST",
        body: { name, scope, ...(expires ? { expiresAt: new Date(`${expires}T23:59:59`).toISOString() } : {}) },
      }),
    onSuccess: (t) => {
      setCreated(t);
      setCopied(false);
      setName("");
      setExpires("");
      void qc.invalidateQueries({ queryKey: ["tokens"] });
    },
  });

  const revoke = useConfirm(
    (t: TokenView) => api(`/api/v1/tokens/${encodeURIComponent(t.id)}`, { method: "DELETE" }),
    () => void qc.invalidateQueries({ queryKey: ["tokens"] }),
  );

  function submit(ev: FormEvent) {
    ev.preventDefault();
    create.mutate();
  }

  async function copy() {
    if (!created) return;
    try {
      await navigator.clipboard.writeText(created.token);
      setCopied(true);
    } catch {
      // no clipboard access (e.g. plain http): select the text so Ctrl+C works
      const el = document.getElementById("new-token");
      const sel = window.getSelection();
      if (el && sel) {
        const range = document.createRange();
        range.selectNodeContents(el);
        sel.removeAllRanges();
        sel.addRange(range);
      }
    }
  }

  const createErr = create.error instanceof ApiError ? create.error : null;

  return (
    <section className="card" aria-labelledby="tokens-heading">
      <h2 id="tokens-heading">API tokens</h2>
      <p className="muted">
        Tokens let scripts and the command line use the API as you. Send one as <code>Authorization: Bearer &lt;token&gt;</code>.
      </p>

      {created ? (
        <div className="alert alert-warn token-once" role="status">
          <p>
            <strong>Copy your new token “{created.name}” now.</strong> For your security it will not be shown again.
          </p>
          <div className="copy-row">
            <code id="new-token" className="token-value">
              {created.token}
            </code>
            <button type="button" className="btn" onClick={copy}>
              {copied ? "Copied" : "Copy"}
            </button>
          </div>
          <button type="button" className="btn btn-ghost" onClick={() => setCreated(null)}>
            Done
          </button>
        </div>
      ) : null}

      <form className="form form-row" onSubmit={submit}>
        <Field
          id="token-name"
          label="Token name"
          required
          maxLength={128}
          value={name}
          onChange={(e) => setName(e.target.value)}
          placeholder="e.g. backup script"
          error={createErr?.fieldError("name")}
        />
        <div className="field">
          <label htmlFor="token-scope">Scope</label>
          <select id="token-scope" value={scope} onChange={(e) => setScope(e.target.value as "read" | "read-write")}>
            <option value="read">Read only</option>
            <option value="read-write">Read and write</option>
          </select>
        </div>
        <Field id="token-expires" label="Expires on (optional)" type="date" min={tomorrow()} value={expires} onChange={(e) => setExpires(e.target.value)} error={createErr?.fieldError("expiresAt")} />
        <div className="field field-submit">
          <button type="submit" className="btn btn-primary" disabled={create.isPending || name.trim().length === 0}>
            Create token
          </button>
        </div>
      </form>
      <ErrorAlert error={create.error} fields={["name", "expiresAt"]} />

      {tokens.isPending ? <p className="muted">Loading tokens…</p> : null}
      <ErrorAlert error={tokens.error} />
      {tokens.data && tokens.data.tokens.length === 0 ? <p className="muted empty-line">You have no API tokens.</p> : null}
      {tokens.data && tokens.data.tokens.length > 0 ? (
        // while the confirm dialog is open the list is hidden from assistive tech (it is modal)
        <Table columns={["Name", "Scope", "Created", "Expires", "Last used"]} actions hidden={revoke.target !== null}>
          {tokens.data.tokens.map((t) => {
            const expired = t.expiresAt !== null && Date.parse(t.expiresAt) <= Date.now();
            return (
              <tr key={t.id}>
                <td>{t.name}</td>
                <td>
                  <span className="badge">{t.scope === "read" ? "Read only" : "Read and write"}</span>
                </td>
                <td className="nowrap">{fmtDate(t.createdAt)}</td>
                <td className="nowrap">{expired ? <span className="badge badge-warn">Expired</span> : fmtDate(t.expiresAt, "Never")}</td>
                <td className="nowrap">{fmtDateTime(t.lastUsedAt, "Never")}</td>
                <DangerCell action="Revoke" target={t.name} onClick={() => revoke.ask(t)} />
              </tr>
            );
          })}
        </Table>
      ) : null}

      <ConfirmDialog id="revoke" title={`Revoke token “${revoke.target?.name ?? ""}”?`} confirmLabel="Revoke" {...revoke.dialog}>
        <p className="muted">Scripts using this token will stop working at once. This cannot be undone.</p>
      </ConfirmDialog>
    </section>
  );
}
