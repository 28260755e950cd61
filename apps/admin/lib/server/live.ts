import type { AdminContext } from "./context";
import { appsListEtag, forgetAppsListEtag } from "./apps-list";

/**
 * Change notices for open dashboards (GET /api/v1/events/stream): while at least one stream
 * is open, one poller per process asks for the apps list's ETag (one small query; the catalog
 * is in memory) every LIVE_POLL_MS and tells every stream when it changed: an app row, its
 * names or ports, its active task, or the catalog's "update available". admin's own writes
 * nudge it at once (wakeBox). With no stream open nothing runs.
 *
 * On globalThis: Next bundles each route separately, and the poller is per process.
 */
export const LIVE_POLL_MS = 1000;

export interface LiveEvent {
  type: "apps";
  etag: string;
}

type Listener = (e: LiveEvent) => void;

interface LiveState {
  listeners: Set<Listener>;
  etag?: string;
  timer?: NodeJS.Timeout;
  polling?: Promise<void>;
  app?: AdminContext;
}

const KEY = Symbol.for("hearth.admin.live");
const g = globalThis as unknown as { [KEY]?: LiveState };
const state = (): LiveState => (g[KEY] ??= { listeners: new Set() });

function poll(s: LiveState): Promise<void> {
  if (s.polling || !s.app) return s.polling ?? Promise.resolve();
  const app = s.app;
  s.polling = appsListEtag(app, 0)
    .then((etag) => {
      const changed = s.etag !== undefined && etag !== s.etag;
      s.etag = etag;
      if (changed) for (const l of [...s.listeners]) l({ type: "apps", etag });
    })
    .catch((e) => app.logger.warn({ err: e }, "live updates: cannot read the apps list's version"))
    .finally(() => {
      s.polling = undefined;
    });
  return s.polling;
}

/** Calls `listener` on every change until the returned function is called. */
export async function subscribeLive(app: AdminContext, listener: Listener): Promise<{ etag: string; unsubscribe: () => void }> {
  const s = state();
  s.app = app;
  if (s.listeners.size === 0 || s.etag === undefined) await poll(s);
  s.listeners.add(listener);
  if (!s.timer) {
    s.timer = setInterval(() => void poll(s), LIVE_POLL_MS);
    s.timer.unref();
  }
  return {
    etag: s.etag ?? "",
    unsubscribe() {
      s.listeners.delete(listener);
      if (s.listeners.size === 0 && s.timer) {
        clearInterval(s.timer);
        s.timer = undefined;
        s.etag = undefined;
      }
    },
  };
}

/** A write just happened here: forget the cached ETag, and tell open streams now instead of at the next tick. */
export function nudgeLive(): void {
  forgetAppsListEtag();
  const s = state();
  if (s.listeners.size > 0) void poll(s);
}

export function liveListenerCount(): number {
  return state().listeners.size;
}
