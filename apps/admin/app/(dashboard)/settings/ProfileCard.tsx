"use client";

import { useQuery } from "@tanstack/react-query";
import type { Profile } from "@hearth/contracts";
import { api } from "../../../lib/client/api";

const ROLE: Record<Profile["role"], string> = { owner: "Owner", admin: "Admin", user: "User" };

export function ProfileCard() {
  const { data } = useQuery({ queryKey: ["profile"], queryFn: () => api<Profile>("/api/v1/profile") });
  return (
    <section className="card" aria-labelledby="profile-heading">
      <h2 id="profile-heading">Profile</h2>
      {data ? (
        <dl className="props">
          <div>
            <dt>Username</dt>
            <dd>{data.username}</dd>
          </div>
          <div>
            <dt>Email</dt>
            <dd>{data.email}</dd>
          </div>
          <div>
            <dt>Role</dt>
            <dd>
              <span className="badge">{ROLE[data.role]}</span>
            </dd>
          </div>
        </dl>
      ) : (
        <p className="muted">Loading…</p>
      )}
    </section>
  );
}
