"use client";

import Link from "next/link";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { NotificationView } from "@hearth/contracts";
import { api } from "../../lib/client/api";

/**
 * What box raised for admins (a certificate that cannot be renewed, …), on every page until
 * an admin dismisses it or the problem goes away by itself. Polled once a minute.
 */
export function Notifications() {
  const qc = useQueryClient();
  const list = useQuery({
    queryKey: ["notifications"],
    queryFn: () => api<{ notifications: NotificationView[] }>("/api/v1/notifications"),
    refetchInterval: 60_000,
  });
  const dismiss = useMutation({
    mutationFn: (id: string) => api(`/api/v1/notifications/${encodeURIComponent(id)}/dismiss`, { method: "POST" }),
    onSettled: () => qc.invalidateQueries({ queryKey: ["notifications"] }),
  });
  const items = list.data?.notifications ?? [];
  if (items.length === 0) return null;
  return (
    <section className="notifications" aria-label="Notifications">
      {items.map((n) => (
        <div key={n.id} className={n.level === "error" ? "alert alert-error" : n.level === "warning" ? "alert alert-warn" : "alert alert-info"} role="status">
          <p>
            <strong>{n.title}</strong>
            {n.count > 1 ? <span className="muted"> ({n.count} times)</span> : null}
          </p>
          {n.message.split("\n\n").map((para, i) => (
            <p key={i}>{para}</p>
          ))}
          <div className="alert-actions">
            {n.title.toLowerCase().includes("certificate") ? (
              <Link className="btn btn-sm" href="/certificates">
                Open Certificates
              </Link>
            ) : null}
            <button type="button" className="btn btn-sm btn-ghost" onClick={() => dismiss.mutate(n.id)} disabled={dismiss.isPending}>
              Dismiss
            </button>
          </div>
        </div>
      ))}
    </section>
  );
}
