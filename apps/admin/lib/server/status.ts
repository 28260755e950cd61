import { isSetupDone } from "@hearth/db";
import { boxIsUp, createBoxClient } from "../box-client";
import type { AdminContext } from "./context";
import { SharedValue } from "./shared-value";

/**
 * What GET /api/v1/status answers, without a socket or query per request: box's health is
 * asked at most once per BOX_STATUS_TTL_MS and concurrent requests share the call in flight;
 * "setup done" is remembered once true (it never goes back), while false is asked again
 * (shared in flight too) so the first-run page sees the owner appear at once.
 *
 * On globalThis: Next bundles each route separately, and the answer is per process.
 */
export const BOX_STATUS_TTL_MS = 2000;

interface StatusState {
  box: SharedValue<boolean>;
  setupDone?: true;
  setupCall?: Promise<boolean>;
}

const KEY = Symbol.for("hearth.admin.status");
const g = globalThis as unknown as { [KEY]?: StatusState };
const state = (): StatusState => (g[KEY] ??= { box: new SharedValue() });

/** Whether box answered its health check within the last BOX_STATUS_TTL_MS (asked now when older). */
export function boxUp(app: AdminContext, now = Date.now()): Promise<boolean> {
  return state().box.get(BOX_STATUS_TTL_MS, () => boxIsUp(createBoxClient(app.config.boxSocket), 1000), now);
}

export function setupDone(app: AdminContext): Promise<boolean> {
  const s = state();
  if (s.setupDone) return Promise.resolve(true);
  s.setupCall ??= isSetupDone(app.db)
    .then((done) => {
      if (done) s.setupDone = true;
      return done;
    })
    .finally(() => {
      s.setupCall = undefined;
    });
  return s.setupCall;
}
