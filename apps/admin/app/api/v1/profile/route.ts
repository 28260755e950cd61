import { route } from "../../../../lib/server/route";
import { json } from "../../../../lib/http";
import { profileView } from "../../../../lib/views";

export const dynamic = "force-dynamic";

/** GET /api/v1/profile: the caller. */
export const GET = route({}, async ({ principal }) => json(profileView(principal.user)));
