"use client";

import Link from "next/link";
import dynamic from "next/dynamic";
import { Bell } from "lucide-react";
import { useId, useRef, useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { fetchNotifications, notificationsKey } from "./NotificationList";
import styles from "./Notifications.module.css";

// Radix Popover (and its positioning library) load with the first press of the bell, not with
// every page: bundled, they made the Apps page's JavaScript 1.18× (bench/admin-page-weight.ts)
const NotificationPanel = dynamic(() => import("./NotificationPanel"), { ssr: false });

/**
 * The top bar of every admin page: one compact summary line ("2 things need attention —
 * view") and the bell with the unread count, opening a panel of the grouped notifications
 * (`NotificationPanel.tsx`, Radix Popover: a non-modal dialog; focus moves into it, Escape or
 * a click outside closes it and Escape gives focus back to the bell). Polled once a minute.
 */
export function NotificationBar() {
  const list = useQuery({ queryKey: notificationsKey("open"), queryFn: () => fetchNotifications("open"), refetchInterval: 60_000 });
  const [open, setOpen] = useState(false);
  const bell = useRef<HTMLButtonElement>(null);
  const panelId = useId();
  const titleId = useId();
  const unread = list.data?.unread ?? 0;
  const openCount = list.data?.open ?? 0;

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
          aria-controls={open ? panelId : undefined}
          aria-haspopup="dialog"
          onClick={() => setOpen((o) => !o)}
        >
          <Bell size={20} strokeWidth={2} aria-hidden="true" />
          {unread > 0 ? (
            <span className={styles.count} data-testid="notification-count">
              {unread > 99 ? "99+" : unread}
            </span>
          ) : null}
        </button>
        {open ? <NotificationPanel id={panelId} titleId={titleId} bell={bell} unread={unread} notifications={list.data?.notifications} onClose={() => setOpen(false)} /> : null}
      </div>
    </div>
  );
}
