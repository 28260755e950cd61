"use client";

import Link from "next/link";
import { useCallback, useEffect, useId, useRef, useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { fetchNotifications, NotificationList, notificationsKey, useMarkRead } from "./NotificationList";
import styles from "./Notifications.module.css";

/**
 * The top bar of every admin page: one compact summary line ("2 things need attention —
 * view") and the bell with the unread count, opening a panel of the grouped notifications.
 * The panel is a non-modal dialog: focus moves into it, Escape or a click outside closes it
 * and gives focus back to the bell, Tab stays in reach of its buttons. Polled once a minute.
 */
export function NotificationBar() {
  const list = useQuery({ queryKey: notificationsKey("open"), queryFn: () => fetchNotifications("open"), refetchInterval: 60_000 });
  const { all } = useMarkRead();
  const [open, setOpen] = useState(false);
  const bell = useRef<HTMLButtonElement>(null);
  const panel = useRef<HTMLDivElement>(null);
  const panelId = useId();
  const titleId = useId();
  const unread = list.data?.unread ?? 0;
  const openCount = list.data?.open ?? 0;

  const close = useCallback((focusBell: boolean) => {
    setOpen(false);
    if (focusBell) bell.current?.focus();
  }, []);

  useEffect(() => {
    if (!open) return;
    panel.current?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") {
        e.preventDefault();
        close(true);
      }
    };
    const onPointer = (e: PointerEvent) => {
      const t = e.target as Node;
      if (!panel.current?.contains(t) && !bell.current?.contains(t)) close(false);
    };
    document.addEventListener("keydown", onKey);
    document.addEventListener("pointerdown", onPointer);
    return () => {
      document.removeEventListener("keydown", onKey);
      document.removeEventListener("pointerdown", onPointer);
    };
  }, [open, close]);

  return (
    <div className={styles.bar}>
      <p className={styles.summary} role="status">
        {openCount > 0 ? (
          <>
            {openCount === 1 ? "1 thing needs" : `${openCount} things need`} attention —{" "}
            <Link href="/notifications" className={styles.summaryLink}>
              view
            </Link>
          </>
        ) : null}
      </p>
      <div className={styles.bellWrap}>
        <button
          ref={bell}
          type="button"
          className={styles.bell}
          aria-label={unread > 0 ? `Notifications, ${unread} unread` : "Notifications"}
          aria-expanded={open}
          aria-controls={panelId}
          aria-haspopup="dialog"
          onClick={() => (open ? close(false) : setOpen(true))}
        >
          <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round">
            <path d="M6 8a6 6 0 0 1 12 0c0 7 3 9 3 9H3s3-2 3-9" />
            <path d="M10.3 21a1.94 1.94 0 0 0 3.4 0" />
          </svg>
          {unread > 0 ? (
            <span className={styles.count} data-testid="notification-count">
              {unread > 99 ? "99+" : unread}
            </span>
          ) : null}
        </button>
        {open ? (
          <div ref={panel} id={panelId} className={styles.panel} role="dialog" aria-labelledby={titleId} tabIndex={-1}>
            <div className={styles.panelHead}>
              <h2 id={titleId} className={styles.panelTitle}>
                Notifications
              </h2>
              <button type="button" className="btn btn-sm btn-ghost" onClick={() => all.mutate()} disabled={unread === 0 || all.isPending}>
                Mark all read
              </button>
            </div>
            <div className={styles.panelBody}>{list.data ? <NotificationList notifications={list.data.notifications} compact /> : <p className={styles.empty}>Loading…</p>}</div>
            <div className={styles.panelFoot}>
              <Link href="/notifications" onClick={() => close(false)}>
                All notifications, open and resolved
              </Link>
            </div>
          </div>
        ) : null}
      </div>
    </div>
  );
}
