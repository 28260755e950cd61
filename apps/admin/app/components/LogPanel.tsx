"use client";

import { useEffect, useRef, useState } from "react";

/** The app's container log, live (server-sent events proxied from box). */
export function LogPanel({ appId }: { appId: string }) {
  const [lines, setLines] = useState<string[]>([]);
  const [state, setState] = useState<"connecting" | "open" | "ended" | "error">("connecting");
  const [attempt, setAttempt] = useState(0);
  const ref = useRef<HTMLPreElement>(null);

  useEffect(() => {
    setLines([]);
    setState("connecting");
    const es = new EventSource(`/api/v1/apps/${encodeURIComponent(appId)}/logs?follow=1&lines=200`);
    es.onopen = () => setState("open");
    es.addEventListener("log", (e) => {
      try {
        const line = (JSON.parse((e as MessageEvent).data) as { line: string }).line;
        setLines((l) => (l.length > 2000 ? [...l.slice(-1500), line] : [...l, line]));
      } catch {
        // ignore
      }
    });
    es.addEventListener("end", () => {
      setState("ended");
      es.close();
    });
    es.onerror = () => {
      setState((s) => (s === "open" ? "ended" : "error"));
      es.close();
    };
    return () => es.close();
  }, [appId, attempt]);

  useEffect(() => {
    if (ref.current) ref.current.scrollTop = ref.current.scrollHeight;
  }, [lines]);

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
        </div>
      </div>
      <pre className="log log-tall" ref={ref} aria-label="App logs" tabIndex={0}>
        {lines.length > 0 ? lines.join("\n") : state === "error" ? "The app's logs cannot be streamed right now (is the server daemon running?)." : "No output yet."}
      </pre>
    </section>
  );
}
