"use client";

import Link from "next/link";
import { useEffect, useState, type FormEvent } from "react";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import type { AppView, EventLogResponse, EventView } from "@hearth/contracts";
import { api } from "../../../lib/client/api";
import { eventErrorOf, eventLabel, isFailureAction } from "../../../lib/event-labels";
import { ErrorAlert } from "../../components/ErrorAlert";
import { Table } from "../../components/Table";

const PER_PAGE = 25;

interface Filters {
  action: string;
  app: string;
  user: string;
}
const NO_FILTERS: Filters = { action: "", app: "", user: "" };

function queryOf(f: Filters): URLSearchParams {
  const p = new URLSearchParams();
  if (f.action) p.set("action", f.action);
  if (f.app) p.set("app", f.app);
  if (f.user) p.set("user", f.user);
  return p;
}

function fmt(iso: string): string {
  return new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
}

/** The target by the name stored with the event, linked while it exists. */
function Target({ e }: { e: EventView }) {
  const name = e.targetName || e.target;
  if (!name) return <span className="muted">—</span>;
  if (e.targetHref) return <Link href={e.targetHref}>{name}</Link>;
  return <span title={e.targetType === "app" && e.target !== name ? `app ${e.target} (no longer installed)` : undefined}>{name}</span>;
}

export function EventLog() {
  const [draft, setDraft] = useState<Filters>(NO_FILTERS);
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const [page, setPage] = useState(1);

  // the filters live in the address (/eventlog?app=…&user=…&action=…), so a filtered view can be linked to
  useEffect(() => {
    const p = new URLSearchParams(window.location.search);
    const f = { action: p.get("action") ?? "", app: p.get("app") ?? "", user: p.get("user") ?? "" };
    if (f.action || f.app || f.user) {
      setDraft(f);
      setFilters(f);
    }
  }, []);
  useEffect(() => {
    const qs = queryOf(filters).toString();
    const want = `${window.location.pathname}${qs ? `?${qs}` : ""}`;
    if (`${window.location.pathname}${window.location.search}` !== want) window.history.replaceState(window.history.state, "", want);
  }, [filters]);

  const apps = useQuery({ queryKey: ["apps"], queryFn: () => api<{ apps: AppView[] }>("/api/v1/apps") });
  const q = useQuery({
    queryKey: ["eventlog", filters, page],
    queryFn: () => {
      const p = queryOf(filters);
      p.set("page", String(page));
      p.set("per_page", String(PER_PAGE));
      return api<EventLogResponse>(`/api/v1/events?${p}`);
    },
    placeholderData: keepPreviousData,
  });

  function apply(ev: FormEvent) {
    ev.preventDefault();
    setFilters({ action: draft.action.trim(), app: draft.app, user: draft.user.trim() });
    setPage(1);
  }
  const filtered = filters.action !== "" || filters.app !== "" || filters.user !== "";
  const csvQuery = queryOf(filters).toString();

  const pages = q.data ? Math.max(1, Math.ceil(q.data.total / PER_PAGE)) : 1;

  return (
    <section className="card card-flush">
      <form className="toolbar" onSubmit={apply} role="search">
        <div className="field field-inline">
          <label htmlFor="action-filter">Action</label>
          <input
            id="action-filter"
            value={draft.action}
            onChange={(e) => setDraft({ ...draft, action: e.target.value })}
            placeholder="e.g. user. or app.install"
            autoComplete="off"
            spellCheck={false}
          />
        </div>
        <div className="field field-inline">
          <label htmlFor="app-filter">App</label>
          <select id="app-filter" value={draft.app} onChange={(e) => setDraft({ ...draft, app: e.target.value })}>
            <option value="">All apps</option>
            {draft.app && apps.data && !apps.data.apps.some((a) => a.id === draft.app) ? (
              <option value={draft.app}>{q.data?.events.find((e) => e.targetType === "app" && e.target === draft.app && e.targetName)?.targetName ?? draft.app} (no longer installed)</option>
            ) : null}
            {(apps.data?.apps ?? []).map((a) => (
              <option key={a.id} value={a.id}>
                {a.title} ({a.fqdn})
              </option>
            ))}
          </select>
        </div>
        <div className="field field-inline">
          <label htmlFor="user-filter">User</label>
          <input id="user-filter" value={draft.user} onChange={(e) => setDraft({ ...draft, user: e.target.value })} placeholder="username" autoComplete="off" spellCheck={false} />
        </div>
        <button type="submit" className="btn">
          Apply filters
        </button>
        {filtered ? (
          <button
            type="button"
            className="btn btn-ghost"
            onClick={() => {
              setDraft(NO_FILTERS);
              setFilters(NO_FILTERS);
              setPage(1);
            }}
          >
            Clear filters
          </button>
        ) : null}
        <a className="btn btn-ghost" href={`/api/v1/events.csv${csvQuery ? `?${csvQuery}` : ""}`} download>
          Export CSV
        </a>
      </form>

      {q.isPending ? <p className="pad muted">Loading events…</p> : null}
      <ErrorAlert error={q.error} className="pad" />

      {q.data && q.data.events.length === 0 ? <p className="pad muted">{filtered ? "No events match these filters." : "No events yet."}</p> : null}

      {q.data && q.data.events.length > 0 ? (
        <Table columns={["Time", "Event", "Actor", "Target", "Source IP"]}>
          {q.data.events.map((e) => (
            <tr key={e.id}>
              <td className="nowrap">{fmt(e.createdAt)}</td>
              <td>
                <span className={isFailureAction(e.action) ? "badge badge-warn" : "badge"}>{eventLabel(e.action)}</span>
                <code className="action-code">{e.action}</code>
                {eventErrorOf(e.data) ? <div className="muted event-error">{eventErrorOf(e.data)}</div> : null}
              </td>
              <td>{e.actorName || <span className="muted">—</span>}</td>
              <td>
                <Target e={e} />
              </td>
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
