"use client";

import { useMutation, useQuery } from "@tanstack/react-query";
import type { Profile } from "@hearth/contracts";
import { api, errorText } from "../../../lib/client/api";

const ROLE: Record<Profile["role"], string> = { owner: "Owner", admin: "Admin", user: "User" };

export function ProfileCard() {
  const { data } = useQuery({ queryKey: ["profile"], queryFn: () => api<Profile>("/api/v1/profile") });
  // ends every session of this account, this one too; API tokens stay
  const everywhere = useMutation({
    mutationFn: () => api<{ ended: number }>("/api/v1/profile/sessions", { method: "DELETE" }),
    onSuccess: () => window.location.assign("/login"),
  });
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
      {everywhere.error ? (
        <div className="alert alert-error" role="alert">
          {errorText(everywhere.error)}
        </div>
      ) : null}
      <p className="muted">Lost a device or used a shared computer? This logs out every browser signed in to your account, this one too. API tokens keep working until you delete them.</p>
      <button type="button" className="btn" onClick={() => everywhere.mutate()} disabled={everywhere.isPending}>
        Log out everywhere
      </button>
    </section>
  );
}
