"use client";

import { useState, type FormEvent } from "react";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import type { EventLogResponse, EventView } from "@hearth/contracts";
import { api } from "../../../lib/client/api";
import { ErrorAlert } from "../../components/ErrorAlert";
import { Table } from "../../components/Table";

const PER_PAGE = 25;

const LABELS: Record<string, string> = {
  "user.setup_owner": "Owner account created",
  "user.login": "Signed in",
  "user.login_failed": "Failed sign-in",
  "user.logout": "Signed out",
  "user.totp_enable": "Two-factor turned on",
  "user.totp_disable": "Two-factor turned off",
  "token.create": "API token created",
  "token.delete": "API token revoked",
  "task.failed": "Task failed",
  // app.install … app.restart are recorded when an admin asks (queued, not yet done);
  // app.up, app.down and app.oom come from the health monitor
  "app.install": "App install requested",
  "app.configure": "App configuration changed",
  "app.update": "App updated",
  "app.uninstall": "App uninstall requested",
  "app.start": "App start requested",
  "app.stop": "App stop requested",
  "app.restart": "App restart requested",
  "app.up": "App back up",
  "app.down": "App down",
  "app.oom": "App out of memory",
  "domain.add": "Domain added",
  "domain.remove": "Domain deleted",
  "registry.add": "Registry credentials added",
  "registry.remove": "Registry credentials deleted",
};

function describe(e: EventView): string {
  return LABELS[e.action] ?? e.action;
}

function fmt(iso: string): string {
  return new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
}

export function EventLog() {
  const [draft, setDraft] = useState("");
  const [action, setAction] = useState("");
  const [page, setPage] = useState(1);

  const q = useQuery({
    queryKey: ["eventlog", action, page],
    queryFn: () => {
      const p = new URLSearchParams({ page: String(page), per_page: String(PER_PAGE) });
      if (action) p.set("action", action);
      return api<EventLogResponse>(`/api/v1/eventlog?${p}`);
    },
    placeholderData: keepPreviousData,
  });

  function apply(ev: FormEvent) {
    ev.preventDefault();
    setAction(draft.trim());
    setPage(1);
  }

  const pages = q.data ? Math.max(1, Math.ceil(q.data.total / PER_PAGE)) : 1;

  return (
    <section className="card card-flush">
      <form className="toolbar" onSubmit={apply} role="search">
        <div className="field field-inline">
          <label htmlFor="action-filter">Filter by action</label>
          <input id="action-filter" value={draft} onChange={(e) => setDraft(e.target.value)} placeholder="e.g. user. or token.create" autoComplete="off" spellCheck={false} />
        </div>
        <button type="submit" className="btn">
          Apply filter
        </button>
        {action ? (
          <button
            type="button"
            className="btn btn-ghost"
            onClick={() => {
              setDraft("");
              setAction("");
              setPage(1);
            }}
          >
            Clear filter
          </button>
        ) : null}
      </form>

      {q.isPending ? <p className="pad muted">Loading events…</p> : null}
      <ErrorAlert error={q.error} className="pad" />

      {q.data && q.data.events.length === 0 ? <p className="pad muted">{action ? `No events match “${action}”.` : "No events yet."}</p> : null}

      {q.data && q.data.events.length > 0 ? (
        <Table columns={["Time", "Event", "Actor", "Target", "Source IP"]}>
          {q.data.events.map((e) => (
            <tr key={e.id}>
              <td className="nowrap">{fmt(e.createdAt)}</td>
              <td>
                <span className={e.action.endsWith("_failed") || e.action.endsWith(".failed") ? "badge badge-warn" : "badge"}>{describe(e)}</span>
                <code className="action-code">{e.action}</code>
              </td>
              <td>{e.actorName || <span className="muted">—</span>}</td>
              <td>{e.target || <span className="muted">—</span>}</td>
              <td className="mono">{e.sourceIp || <span className="muted">—</span>}</td>
            </tr>
          ))}
        </Table>
      ) : null}

      {q.data ? (
        <nav className="pager" aria-label="Event log pages">
          <span className="muted">
            Page {q.data.page} of {pages} · {q.data.total} {q.data.total === 1 ? "event" : "events"}
          </span>
          <div className="pager-buttons">
            <button type="button" className="btn" disabled={page <= 1} onClick={() => setPage((p) => p - 1)}>
              Previous
            </button>
            <button type="button" className="btn" disabled={page >= pages} onClick={() => setPage((p) => p + 1)}>
              Next
            </button>
          </div>
        </nav>
      ) : null}
    </section>
  );
}
