import { HearthError, TASK_ID_PATTERN } from "@hearth/contracts";
import { getTask, toTaskView } from "@hearth/db";
import { route } from "../../../../../lib/server/route";
import { json } from "../../../../../lib/http";

export const dynamic = "force-dynamic";

/** GET /api/v1/tasks/:id (owner and admins). */
export const GET = route({ roles: ["owner", "admin"] }, async ({ app, params }) => {
  const id = params.id ?? "";
  const task = TASK_ID_PATTERN.test(id) ? await getTask(app.db, id) : null;
  if (!task) throw new HearthError("not_found", "No such task");
  return json(toTaskView(task));
});
