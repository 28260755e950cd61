"use client";

import type { ReactNode } from "react";
import Link from "next/link";
import { isAdminRole, useProfile } from "../../lib/client/profile";
import { EmptyState, PageHeader } from "./EmptyState";

/**
 * Renders `children` for owners and admins. Anyone else (who reached the page by its
 * address: the navigation hides it) gets a plain explanation instead of the API's 403s,
 * and nothing on the page asks the API for what they may not read.
 */
export function AdminOnly({ title, children }: { title: string; children: ReactNode }) {
  const profile = useProfile();
  if (isAdminRole(profile.role)) return children;
  return (
    <>
      <PageHeader title={title} />
      <EmptyState icon="lock" title="For administrators only">
        <p>
          This page is for the administrators of this server. Your own account, two-factor authentication and API tokens are under <Link href="/settings">Settings</Link>.
        </p>
      </EmptyState>
    </>
  );
}
