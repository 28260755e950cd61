"use client";

import Link from "next/link";
import * as Popover from "@radix-ui/react-popover";
import { Bell } from "lucide-react";
import { useId, useRef, useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { fetchNotifications, NotificationList, notificationsKey, useMarkRead } from "./NotificationList";
import styles from "./Notifications.module.css";

/**
 * The top bar of every admin page: one compact summary line ("2 things need attention —
 * view") and the bell with the unread count, opening a panel of the grouped notifications.
 * The panel is Radix's Popover (a non-modal dialog, https://www.radix-ui.com/primitives/docs/components/popover):
 * focus moves into it, Escape or a click outside closes it and gives focus back to the bell,
 * Tab stays in reach of its buttons. Polled once a minute.
 */
export function NotificationBar() {
  const list = useQuery({ queryKey: notificationsKey("open"), queryFn: () => fetchNotifications("open"), refetchInterval: 60_000 });
  const { all } = useMarkRead();
  const [open, setOpen] = useState(false);
  const panel = useRef<HTMLDivElement>(null);
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
      <Popover.Root open={open} onOpenChange={setOpen}>
        <div className={styles.bellWrap}>
          <Popover.Trigger className={styles.bell} aria-label={unread > 0 ? `Notifications, ${unread} unread` : "Notifications"}>
            <Bell size={20} strokeWidth={2} aria-hidden="true" />
            {unread > 0 ? (
              <span className={styles.count} data-testid="notification-count">
                {unread > 99 ? "99+" : unread}
              </span>
            ) : null}
          </Popover.Trigger>
          <Popover.Content
            ref={panel}
            className={styles.panel}
            aria-labelledby={titleId}
            align="end"
            sideOffset={8}
            // focus the panel itself (its heading is read first), not its first button
            onOpenAutoFocus={(e) => {
              e.preventDefault();
              panel.current?.focus();
            }}
          >
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
              <Link href="/notifications" onClick={() => setOpen(false)}>
                All notifications, open and resolved
              </Link>
            </div>
          </Popover.Content>
        </div>
      </Popover.Root>
    </div>
  );
}
