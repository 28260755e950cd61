"use client";

import { useEffect, useRef, useState } from "react";
import { useQuery } from "@tanstack/react-query";
import type { TaskView } from "@hearth/contracts";
import { api } from "../../lib/client/api";
import { taskActivity, taskTitle } from "../../lib/client/tasks";
import { ErrorAlert } from "./ErrorAlert";
import { LogViewer } from "./LogViewer";

/**
 * A task's progress bar (polled every second) and its live log (server-sent events from box).
 * The title says what the task does while it runs and what happened once it finished.
 */
export function TaskProgress({
  taskId,
  onDone,
  subject,
  onDismiss,
}: {
  taskId: string;
  onDone?: (t: TaskView) => void;
  /** what the task works on, shown after the title ("example.com") */
  subject?: string;
  /** offers a "Dismiss" button once the task finished */
  onDismiss?: () => void;
}) {
  const task = useQuery({
    queryKey: ["task", taskId],
    queryFn: () => api<TaskView>(`/api/v1/tasks/${encodeURIComponent(taskId)}`),
    refetchInterval: (q) => (q.state.data && ["succeeded", "failed", "cancelled"].includes(q.state.data.state) ? false : 1000),
  });
  const [lines, setLines] = useState<string[]>([]);
  const [logError, setLogError] = useState(false);
  const done = useRef(false);

  // the stream replays the whole log on each connection; a dropped one (a network change,
  // a proxy timeout) before the task's "end" reconnects a few times
  const [connection, setConnection] = useState(0);
  useEffect(() => {
    let fresh = true;
    setLogError(false);
    const es = new EventSource(`/api/v1/tasks/${encodeURIComponent(taskId)}/logs?follow=1`);
    let ended = false;
    let retry: ReturnType<typeof setTimeout> | null = null;
    es.addEventListener("log", (e) => {
      try {
        const line = (JSON.parse((e as MessageEvent).data) as { line: string }).line;
        setLines((l) => {
          const base = fresh ? [] : l;
          fresh = false;
          return base.length > 20_000 ? [...base.slice(-15_000), line] : [...base, line];
        });
      } catch {
        // ignore a malformed event
      }
    });
    es.addEventListener("end", () => {
      ended = true;
      es.close();
    });
    es.onerror = () => {
      const wasOpen = es.readyState === EventSource.OPEN || !fresh;
      es.close();
      if (!ended && connection < 5) retry = setTimeout(() => setConnection((n) => n + 1), 1000);
      else if (!wasOpen) setLogError(true);
    };
    return () => {
      if (retry) clearTimeout(retry);
      es.close();
    };
  }, [taskId, connection]);

  const t = task.data;
  useEffect(() => {
    if (t && !done.current && ["succeeded", "failed", "cancelled"].includes(t.state)) {
      done.current = true;
      onDone?.(t);
    }
  }, [t, onDone]);

  const percent = t?.percent ?? 0;
  const finished = t !== undefined && ["succeeded", "failed", "cancelled"].includes(t.state);
  const title = taskTitle(t);
  return (
    <section className="card task-progress" aria-labelledby={`task-${taskId}`}>
      <div className="card-head">
        <h2 id={`task-${taskId}`}>
          {title}
          {subject ? <span className="task-subject"> · {subject}</span> : null}
        </h2>
        <div className="row">
          <span className="muted">
            {t ? (t.state === "pending" ? "Waiting to start…" : t.state === "succeeded" ? "Done" : t.state === "failed" ? "Failed" : t.state === "cancelled" ? "Cancelled" : `${percent}%`) : "…"}
          </span>
          {onDismiss && finished ? (
            <button type="button" className="btn btn-sm btn-ghost" onClick={onDismiss} aria-label={`Dismiss: ${title}${subject ? ` · ${subject}` : ""}`}>
              Dismiss
            </button>
          ) : null}
        </div>
      </div>
      <div className="progress" role="progressbar" aria-label={taskActivity(t?.type)} aria-valuemin={0} aria-valuemax={100} aria-valuenow={percent}>
        <div className={t?.state === "failed" ? "progress-bar progress-bar-failed" : "progress-bar"} style={{ width: `${percent}%` }} />
      </div>
      <p className="muted task-message">{t?.message || (t?.state === "pending" ? "Queued" : "")}</p>
      {t?.error ? (
        <div className="alert alert-error" role="alert">
          {t.error.message} <code className="action-code">{t.error.code}</code>
        </div>
      ) : null}
      <ErrorAlert error={task.error} />
      <LogViewer lines={lines} label="Task log" empty={logError ? "The live log is not available right now." : "Waiting for log output…"} />
    </section>
  );
}
