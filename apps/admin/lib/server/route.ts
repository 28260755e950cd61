import { makeRoute } from "../api";
import { context } from "./context";
import { authenticate } from "./auth";

/** `route` wired to the real context; every file under app/api uses it. */
export const route = makeRoute({ context, authenticate: (app, headers) => authenticate(app, headers) });
