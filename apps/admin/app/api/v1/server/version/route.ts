import { HEARTH_RELEASE_KEY, HEARTH_VERSION, hearthReleaseState, hearthVersionView } from "@hearth/contracts";
import { getSetting } from "@hearth/db";
import { json } from "../../../../../lib/http";
import { route } from "../../../../../lib/server/route";
import { ADMIN_ROLES } from "../../../../../lib/server/apps";

export const dynamic = "force-dynamic";

/**
 * GET /api/v1/server/version → { current, latest: {version, notes, url} | null,
 * updateAvailable, checkedAt, error }: this Hearth's version and what box last read from the
 * configured release source (HEARTH_RELEASE_SOURCE; Setting hearth.release). latest is null
 * when no source is configured or it was never read.
 */
export const GET = route({ roles: ADMIN_ROLES }, async ({ app }) => {
  const state = hearthReleaseState.safeParse(await getSetting(app.db, HEARTH_RELEASE_KEY));
  return json(hearthVersionView(HEARTH_VERSION, state.success ? state.data : null));
});
