"use client";

import Link from "next/link";
import { useState } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import type { NotificationView, NotificationsResponse } from "@hearth/contracts";
import { api } from "../../lib/client/api";
import { fmtRelative } from "../../lib/client/format";
import styles from "./Notifications.module.css";

/** The notifications query (open ones by default); the bell, the summary line and the page share it. */
export const notificationsKey = (state: "open" | "closed" | "all" = "open") => ["notifications", state] as const;
export const fetchNotifications = (state: "open" | "closed" | "all" = "open") => api<NotificationsResponse>(`/api/v1/notifications?state=${state}`);

export function useMarkRead() {
  const qc = useQueryClient();
  const one = useMutation({
    mutationFn: (id: string) => api(`/api/v1/notifications/${encodeURIComponent(id)}/read`, { method: "POST" }),
    onSettled: () => qc.invalidateQueries({ queryKey: ["notifications"] }),
  });
  const all = useMutation({
    mutationFn: () => api("/api/v1/notifications/read-all", { method: "POST" }),
    onSettled: () => qc.invalidateQueries({ queryKey: ["notifications"] }),
  });
  return { one, all };
}

/** Closes a notification for every admin (recorded as an event); it stays closed while its cause persists. */
export function useDismiss() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api(`/api/v1/notifications/${encodeURIComponent(id)}/dismiss`, { method: "POST" }),
    onSettled: () => qc.invalidateQueries({ queryKey: ["notifications"] }),
  });
}

const LINK_LABEL: Record<string, string> = {
  cert_failing: "Open Certificates",
  cert_expiring: "Open Certificates",
  app_down: "Open the app",
  app_oom: "Open the app",
  app_restarting: "Open the app",
  backup_failed: "Open the app",
  backup_overdue: "Open Backups",
  update_available: "Open",
  task_failed: "Open",
  orphans: "Review",
};

/**
 * Grouped notifications: one row per group (title, when, unread dot), expanding to its
 * items (the names, apps, … with the message in the admin's words; the raw error behind
 * "Details"). Times are relative.
 */
export function NotificationList({ notifications, compact = false }: { notifications: NotificationView[]; compact?: boolean }) {
  const { one } = useMarkRead();
  const dismiss = useDismiss();
  if (notifications.length === 0) return <p className={styles.empty}>Nothing needs attention.</p>;
  return (
    <ul className={styles.list} aria-label="Notifications">
      {notifications.map((n) => (
        <NotificationRow key={n.id} n={n} compact={compact} onRead={() => one.mutate(n.id)} onDismiss={() => dismiss.mutate(n.id)} />
      ))}
    </ul>
  );
}

function NotificationRow({ n, compact, onRead, onDismiss }: { n: NotificationView; compact: boolean; onRead: () => void; onDismiss: () => void }) {
  const [open, setOpen] = useState(false);
  const itemsId = `notification-items-${n.id}`;
  // 20 names failing for the same reason: the reason once above them, not 20 times
  const shared = n.items.length > 1 && n.items.every((i) => i.message === n.items[0]!.message) ? n.items[0]!.message : null;
  const closed = n.dismissedAt !== null;
  const offline = n.link.startsWith("/domains");
  const linkLabel = offline ? "Use a self-signed or uploaded certificate" : (LINK_LABEL[n.kind] ?? "Open");
  return (
    <li className={`${styles.row} ${styles[n.level] ?? ""} ${n.unread ? styles.unread : ""}`} data-kind={n.kind}>
      <div className={styles.head}>
        {n.unread ? <span className={styles.dot} role="img" aria-label="unread" /> : null}
        <div className={styles.headText}>
          <strong className={styles.title}>{n.title}</strong>
          <span className={styles.meta}>
            {closed ? (n.dismissedBy === "system" ? `resolved ${fmtRelative(n.dismissedAt)}` : `dismissed ${fmtRelative(n.dismissedAt)}`) : fmtRelative(n.raisedAt)}
            {n.count > 1 && n.items.length === 0 ? ` · ${n.count} times` : ""}
          </span>
          {n.items.length === 0 && n.message ? <p className={styles.message}>{n.message}</p> : null}
        </div>
      </div>
      <div className={styles.actions}>
        {n.items.length > 0 ? (
          <button type="button" className="btn btn-sm btn-ghost" aria-expanded={open} aria-controls={itemsId} onClick={() => setOpen((o) => !o)}>
            {open ? "Hide" : `Show ${n.items.length === 1 ? "it" : `all ${n.items.length}`}`}
          </button>
        ) : null}
        {n.link && !closed ? (
          <Link className="btn btn-sm" href={n.link}>
            {linkLabel}
          </Link>
        ) : null}
        {n.unread ? (
          <button type="button" className="btn btn-sm btn-ghost" onClick={onRead}>
            Mark read
          </button>
        ) : null}
        {!closed ? (
          <button
            type="button"
            className="btn btn-sm btn-ghost"
            title="Close it for every admin; it stays closed while its cause persists and opens again when the cause clears and comes back"
            aria-label={`Dismiss: ${n.title}`}
            onClick={onDismiss}
          >
            Dismiss
          </button>
        ) : null}
      </div>
      {open && shared ? <p className={styles.message}>{shared}</p> : null}
      {open ? (
        <ul id={itemsId} className={compact ? `${styles.items} ${styles.itemsCompact}` : styles.items}>
          {n.items.map((i) => (
            <li key={i.id} className={styles.item}>
              <span className={styles.itemLabel}>{i.label}</span>
              {shared ? null : <span className={styles.itemMessage}>{i.message}</span>}
              <span className={styles.meta}>{i.closedAt ? `resolved ${fmtRelative(i.closedAt)}` : `since ${fmtRelative(i.createdAt)}`}</span>
              {i.details && i.details !== i.message ? (
                <details className={styles.details}>
                  <summary>Details</summary>
                  <code>{i.details}</code>
                </details>
              ) : null}
            </li>
          ))}
        </ul>
      ) : null}
    </li>
  );
}
