"use client";

import { createContext, useContext } from "react";
import type { Profile } from "@hearth/contracts";

/**
 * The signed-in user, provided by the dashboard shell (which keeps it fresh through the
 * ["profile"] query). The API is the real guard; the dashboard uses the role only to hide
 * what a user cannot use instead of showing them 403 errors.
 */
export const ProfileContext = createContext<Profile | null>(null);

export function useProfile(): Profile {
  const p = useContext(ProfileContext);
  if (!p) throw new Error("useProfile() is used outside the dashboard shell");
  return p;
}

/** Mirrors the server's ADMIN_ROLES: who may manage apps, domains, registries and the event log. */
export function isAdminRole(role: Profile["role"]): boolean {
  return role === "owner" || role === "admin";
}
