import { HearthError } from "@hearth/contracts";
import { route } from "../../../lib/server/route";

export const dynamic = "force-dynamic";

/** Any other /api path: a JSON 404 instead of the HTML page. */
const notFound = route({ auth: "none" }, async () => {
  throw new HearthError("not_found", "No such API endpoint");
});
export { notFound as GET, notFound as POST, notFound as PUT, notFound as PATCH, notFound as DELETE };
