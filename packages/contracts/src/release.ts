import { z } from "zod";
import { compareSemver, isPrerelease, semver } from "./manifest";

/**
 * Is a newer Hearth out? box reads its release source (HEARTH_RELEASE_SOURCE: an http(s) URL
 * or an absolute path of a JSON file `{ "version": "1.2.3", "notes": "…", "url": "https://…" }`)
 * at start and daily, and keeps what it read in the Setting `hearth.release`; admin answers
 * `GET /api/v1/server/version` from it. No source configured: nothing is checked.
 */
export const HEARTH_RELEASE_KEY = "hearth.release";
export const MAX_RELEASE_BYTES = 64 * 1024;

export const hearthRelease = z.object({
  version: semver,
  notes: z.string().max(20_000).default(""),
  url: z.union([z.url({ protocol: /^https?$/ }), z.literal("")]).default(""),
});
export type HearthRelease = z.infer<typeof hearthRelease>;

/** The Setting: the last release read (kept when a later read fails), when, and the last error. */
export const hearthReleaseState = z.object({
  latest: hearthRelease.nullable(),
  checkedAt: z.string(),
  error: z.string().nullable(),
});
export type HearthReleaseState = z.infer<typeof hearthReleaseState>;

export interface HearthVersionView {
  current: string;
  latest: HearthRelease | null;
  updateAvailable: boolean;
  checkedAt: string | null;
  error: string | null;
}

export function hearthVersionView(current: string, state: HearthReleaseState | null): HearthVersionView {
  const latest = state?.latest ?? null;
  let newer = false;
  try {
    // A pre-release is never offered as an update, as with apps.
    newer = latest !== null && !isPrerelease(latest.version) && compareSemver(latest.version, current) > 0;
  } catch {}
  return { current, latest, updateAvailable: newer, checkedAt: state?.checkedAt ?? null, error: state?.error ?? null };
}
