"use client";

import { useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { fetchNotifications, NotificationList, notificationsKey, useMarkRead } from "../../components/NotificationList";
import styles from "../../components/Notifications.module.css";

const STATES = [
  { value: "open", label: "Open" },
  { value: "closed", label: "Resolved" },
  { value: "all", label: "All" },
] as const;

/** The full list: open, resolved (closed by box or dismissed) or all, with mark all read. */
export function NotificationsPage() {
  const [state, setState] = useState<"open" | "closed" | "all">("open");
  const list = useQuery({ queryKey: notificationsKey(state), queryFn: () => fetchNotifications(state), refetchInterval: 60_000 });
  const { all } = useMarkRead();
  return (
    <>
      <div className={styles.tabs} role="group" aria-label="Which notifications">
        {STATES.map((s) => (
          <button key={s.value} type="button" className={state === s.value ? "btn btn-sm btn-primary" : "btn btn-sm"} aria-pressed={state === s.value} onClick={() => setState(s.value)}>
            {s.label}
          </button>
        ))}
        <button type="button" className="btn btn-sm btn-ghost" onClick={() => all.mutate()} disabled={(list.data?.unread ?? 0) === 0 || all.isPending}>
          Mark all read
        </button>
      </div>
      <div className={styles.pageList}>
        {list.error ? <p className={styles.empty}>Could not load the notifications: {(list.error as Error).message}</p> : null}
        {list.data ? <NotificationList notifications={list.data.notifications} /> : <p className={styles.empty}>Loading…</p>}
      </div>
    </>
  );
}
