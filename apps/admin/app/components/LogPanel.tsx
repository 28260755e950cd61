"use client";

import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { APP_LOG_SEARCH_MAX } from "@hearth/contracts";
import { LogViewer } from "./LogViewer";

type Entry = { ts: string; line: string };

/** Lines loaded at first and by each "Load older lines". */
const PAGE = 500;
/** The most lines kept in the page; the oldest go first (and can be loaded again). */
const KEEP = 50_000;

/** Parses a finished server-sent-events body into its events. */
export function parseSse(text: string): { event: string; data: unknown }[] {
  const out: { event: string; data: unknown }[] = [];
  for (const block of text.split("\n\n")) {
    const event = /^event: (.*)$/m.exec(block)?.[1];
    const data = /^data: (.*)$/m.exec(block)?.[1];
    if (!event) continue;
    try {
      out.push({ event, data: data ? JSON.parse(data) : null });
    } catch {
      // a malformed event is skipped
    }
  }
  return out;
}

/**
 * The app's log: box's kept history of its earlier containers, then the live container
 * (server-sent events proxied from box). Follows the tail while scrolled to the bottom
 * (LogViewer), loads older lines on demand, searches (plain text, case-insensitive, on box),
 * hides Hearth's own health checks unless asked, and downloads the whole kept log.
 */
export function LogPanel({ appId }: { appId: string }) {
  const [entries, setEntries] = useState<Entry[]>([]);
  const [prepended, setPrepended] = useState(0);
  const [older, setOlder] = useState(false);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [olderError, setOlderError] = useState<string | null>(null);
  const [state, setState] = useState<"connecting" | "open" | "ended" | "error">("connecting");
  const [attempt, setAttempt] = useState(0);
  const [health, setHealth] = useState(false);
  const [draft, setDraft] = useState("");
  const [q, setQ] = useState("");

  const base = `/api/v1/apps/${encodeURIComponent(appId)}/logs`;
  const filterParams = useCallback(() => {
    const p = new URLSearchParams();
    if (health) p.set("health", "1");
    if (q) p.set("q", q);
    return p;
  }, [health, q]);

  // new lines come in bursts (the first page is PAGE events): applied once per frame
  const pending = useRef<Entry[]>([]);
  const entriesCount = useRef(0);
  const flushTimer = useRef<ReturnType<typeof setTimeout> | null>(null);

  useEffect(() => {
    setEntries([]);
    setPrepended(0);
    setOlder(false);
    setOlderError(null);
    setState("connecting");
    pending.current = [];
    const p = filterParams();
    p.set("follow", "1");
    p.set("lines", String(PAGE));
    const es = new EventSource(`${base}?${p}`);
    const flush = () => {
      flushTimer.current = null;
      const add = pending.current;
      pending.current = [];
      if (!add.length) return;
      setEntries((l) => (l.length + add.length > KEEP ? [...l, ...add].slice(-KEEP + 10_000) : [...l, ...add]));
      if (entriesCount.current + add.length > KEEP) setOlder(true); // the oldest went: they can be loaded again
    };
    es.onopen = () => setState("open");
    es.addEventListener("log", (e) => {
      try {
        pending.current.push(JSON.parse((e as MessageEvent).data) as Entry);
        flushTimer.current ??= setTimeout(flush, 50);
      } catch {
        // ignore
      }
    });
    es.addEventListener("page", (e) => {
      try {
        setOlder((JSON.parse((e as MessageEvent).data) as { older: boolean }).older);
      } catch {
        // ignore
      }
    });
    es.addEventListener("end", () => {
      flush();
      setState("ended");
      es.close();
    });
    es.onerror = () => {
      flush();
      setState((s) => (s === "open" ? "ended" : "error"));
      es.close();
    };
    return () => {
      es.close();
      if (flushTimer.current) clearTimeout(flushTimer.current);
      flushTimer.current = null;
    };
  }, [base, filterParams, attempt]);

  const loadOlder = async () => {
    const first = entries[0];
    if (!first || loadingOlder) return;
    setLoadingOlder(true);
    setOlderError(null);
    try {
      const p = filterParams();
      p.set("lines", String(PAGE));
      p.set("before", first.ts);
      const res = await fetch(`${base}?${p}`, { headers: { accept: "text/event-stream" } });
      if (!res.ok) throw new Error(`the server answered ${res.status}`);
      const events = parseSse(await res.text());
      const got = events.filter((e) => e.event === "log").map((e) => e.data as Entry);
      const page = events.find((e) => e.event === "page")?.data as { older: boolean } | undefined;
      setEntries((l) => [...got, ...l]);
      setPrepended((n) => n + got.length);
      setOlder(page?.older ?? false);
    } catch (e) {
      setOlderError(e instanceof Error ? e.message : String(e));
    } finally {
      setLoadingOlder(false);
    }
  };

  const lines = useMemo(() => entries.map((e) => e.line), [entries]);
  entriesCount.current = entries.length;
  const download = `${base}/download${health ? "?health=1" : ""}`;
  const top =
    entries.length > 0 ? (
      older ? (
        <button type="button" className="btn btn-sm" onClick={() => void loadOlder()} disabled={loadingOlder}>
          {loadingOlder ? "Loading…" : "Load older lines"}
        </button>
      ) : (
        <span className="muted small">{q ? "No older matches." : "Start of the kept log."}</span>
      )
    ) : null;

  return (
    <section className="card" aria-labelledby="logs-heading">
      <div className="card-head">
        <h2 id="logs-heading">Logs</h2>
        <div className="row">
          <span className="muted small">{state === "open" ? "Live" : state === "connecting" ? "Connecting…" : state === "ended" ? "Stream ended" : "Not available"}</span>
          {state === "error" || state === "ended" ? (
            <button type="button" className="btn btn-sm" onClick={() => setAttempt((n) => n + 1)}>
              Reconnect
            </button>
          ) : null}
          <a className="btn btn-sm" href={download} download>
            Download
          </a>
        </div>
      </div>
      <div className="log-tools">
        <form
          role="search"
          className="row"
          onSubmit={(e) => {
            e.preventDefault();
            setQ(draft.trim());
          }}
        >
          <input type="search" aria-label="Search the logs" placeholder="Search the logs" value={draft} maxLength={APP_LOG_SEARCH_MAX} onChange={(e) => setDraft(e.target.value)} />
          <button type="submit" className="btn btn-sm">
            Search
          </button>
          {q ? (
            <button
              type="button"
              className="btn btn-sm btn-ghost"
              onClick={() => {
                setDraft("");
                setQ("");
              }}
            >
              Clear
            </button>
          ) : null}
        </form>
        <label className="small">
          <input type="checkbox" checked={health} onChange={(e) => setHealth(e.target.checked)} /> Show health checks
        </label>
      </div>
      {q ? <p className="muted small">Lines containing “{q}”.</p> : null}
      {olderError ? (
        <p className="alert alert-error" role="alert">
          Older lines could not be loaded: {olderError}
        </p>
      ) : null}
      <LogViewer
        // a new stream (other filters, a reconnect) starts at the bottom, following
        key={`${health}-${q}-${attempt}`}
        lines={lines}
        prepended={prepended}
        label="App logs"
        tall
        top={top}
        empty={state === "error" ? "The app's logs cannot be streamed right now (is the server daemon running?)." : q ? "No lines match." : "No output yet."}
      />
    </section>
  );
}
