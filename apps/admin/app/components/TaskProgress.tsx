"use client";

import { useEffect, useRef, useState } from "react";
import { useQuery } from "@tanstack/react-query";
import type { TaskView } from "@hearth/contracts";
import { api, errorText } from "../../lib/client/api";

/** A task's progress bar (polled every second) and its live log (server-sent events from box). */
export function TaskProgress({ taskId, title, onDone }: { taskId: string; title: string; onDone?: (t: TaskView) => void }) {
  const task = useQuery({
    queryKey: ["task", taskId],
    queryFn: () => api<TaskView>(`/api/v1/tasks/${encodeURIComponent(taskId)}`),
    refetchInterval: (q) => (q.state.data && ["succeeded", "failed", "cancelled"].includes(q.state.data.state) ? false : 1000),
  });
  const [lines, setLines] = useState<string[]>([]);
  const [logError, setLogError] = useState(false);
  const logRef = useRef<HTMLPreElement>(null);
  const done = useRef(false);

  useEffect(() => {
    setLines([]);
    setLogError(false);
    const es = new EventSource(`/api/v1/tasks/${encodeURIComponent(taskId)}/logs?follow=1`);
    es.addEventListener("log", (e) => {
      try {
        const line = (JSON.parse((e as MessageEvent).data) as { line: string }).line;
        setLines((l) => (l.length > 2000 ? [...l.slice(-1500), line] : [...l, line]));
      } catch {
        // ignore a malformed event
      }
    });
    es.addEventListener("end", () => es.close());
    es.onerror = () => {
      if (es.readyState !== EventSource.OPEN) setLogError(true);
      es.close();
    };
    return () => es.close();
  }, [taskId]);

  useEffect(() => {
    const el = logRef.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [lines]);

  const t = task.data;
  useEffect(() => {
    if (t && !done.current && ["succeeded", "failed", "cancelled"].includes(t.state)) {
      done.current = true;
      onDone?.(t);
    }
  }, [t, onDone]);

  const percent = t?.percent ?? 0;
  return (
    <section className="card task-progress" aria-labelledby={`task-${taskId}`}>
      <div className="card-head">
        <h2 id={`task-${taskId}`}>{title}</h2>
        <span className="muted">{t ? (t.state === "pending" ? "Waiting to start…" : t.state === "succeeded" ? "Done" : t.state === "failed" ? "Failed" : t.state === "cancelled" ? "Cancelled" : `${percent}%`) : "…"}</span>
      </div>
      <div className="progress" role="progressbar" aria-label={title} aria-valuemin={0} aria-valuemax={100} aria-valuenow={percent}>
        <div className={t?.state === "failed" ? "progress-bar progress-bar-failed" : "progress-bar"} style={{ width: `${percent}%` }} />
      </div>
      <p className="muted task-message">{t?.message || (t?.state === "pending" ? "Queued" : "")}</p>
      {t?.error ? (
        <div className="alert alert-error" role="alert">
          {t.error.message} <code className="action-code">{t.error.code}</code>
        </div>
      ) : null}
      {task.error ? (
        <div className="alert alert-error" role="alert">
          {errorText(task.error)}
        </div>
      ) : null}
      <pre className="log" ref={logRef} aria-label="Task log" tabIndex={0}>
        {lines.length > 0 ? lines.join("\n") : logError ? "The live log is not available right now." : "Waiting for log output…"}
      </pre>
    </section>
  );
}
