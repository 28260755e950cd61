"use client";

import type { ReactNode } from "react";
import Link from "next/link";
import { usePathname } from "next/navigation";
import { useMutation, useQuery } from "@tanstack/react-query";
import type { Profile, StatusResponse } from "@hearth/contracts";
import { api } from "../../lib/client/api";
import { ProfileContext, isAdminRole } from "../../lib/client/profile";
import { LiveContext, useLiveUpdates } from "../../lib/client/live";
import { Brand } from "../components/Brand";
import { Icon, type IconName } from "../components/Icon";
import { NotificationBar } from "../components/NotificationBar";

// A plain user can use only their own account (Settings) and sees an explanation on Apps;
// everything else is server administration, which the API allows to owners and admins only.
const NAV: { href: string; label: string; icon: IconName; adminOnly?: boolean }[] = [
  { href: "/apps", label: "Apps", icon: "apps" },
  { href: "/catalog", label: "Catalog", icon: "store", adminOnly: true },
  { href: "/users", label: "Users", icon: "users", adminOnly: true },
  { href: "/domains", label: "Domains", icon: "globe", adminOnly: true },
  { href: "/certificates", label: "Certificates", icon: "shield", adminOnly: true },
  { href: "/registries", label: "Registries", icon: "box", adminOnly: true },
  { href: "/backups", label: "Backups", icon: "archive", adminOnly: true },
  { href: "/eventlog", label: "Event log", icon: "list", adminOnly: true },
  { href: "/settings", label: "Settings", icon: "settings" },
];

export function Shell({ profile: initial, children }: { profile: Profile; children: ReactNode }) {
  const pathname = usePathname();
  const profile = useQuery({ queryKey: ["profile"], queryFn: () => api<Profile>("/api/v1/profile"), initialData: initial }).data;
  const status = useQuery({ queryKey: ["status"], queryFn: () => api<StatusResponse>("/api/v1/status"), refetchInterval: 30_000 });
  const logout = useMutation({
    mutationFn: () => api("/api/v1/auth/logout", { method: "POST" }),
    onSettled: () => window.location.assign("/login"),
  });
  const isAdmin = isAdminRole(profile.role);
  const live = useLiveUpdates(isAdmin);
  const name = profile.displayName || profile.username;

  return (
    <div className="shell">
      <aside className="sidebar">
        <Brand />
        <nav aria-label="Main">
          <ul>
            {NAV.filter((n) => !n.adminOnly || isAdmin).map((n) => {
              const active = pathname === n.href || pathname.startsWith(`${n.href}/`);
              return (
                <li key={n.href}>
                  <Link href={n.href} className={active ? "nav-link active" : "nav-link"} aria-current={active ? "page" : undefined}>
                    <Icon name={n.icon} />
                    {n.label}
                  </Link>
                </li>
              );
            })}
          </ul>
        </nav>
        <div className="sidebar-footer">
          {status.data ? (
            <p className="box-status" title={`Hearth ${status.data.version}`}>
              <span className={status.data.box === "up" ? "dot dot-up" : "dot dot-down"} aria-hidden="true" />
              {status.data.box === "up" ? "Server daemon running" : "Server daemon not running"}
            </p>
          ) : null}
          <div className="me">
            <div className="avatar" aria-hidden="true">
              {name.slice(0, 1).toUpperCase()}
            </div>
            <div className="me-text">
              <span className="me-name">{name}</span>
              <span className="me-role">{profile.role}</span>
            </div>
          </div>
          <button type="button" className="btn btn-ghost btn-block" onClick={() => logout.mutate()} disabled={logout.isPending}>
            Log out
          </button>
        </div>
      </aside>
      <main className="content">
        {isAdmin ? <NotificationBar /> : null}
        <ProfileContext value={profile}>
          <LiveContext value={live}>{children}</LiveContext>
        </ProfileContext>
      </main>
    </div>
  );
}
