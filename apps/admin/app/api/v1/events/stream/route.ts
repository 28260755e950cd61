import { route } from "../../../../../lib/server/route";
import { ADMIN_ROLES } from "../../../../../lib/server/apps";
import { subscribeLive } from "../../../../../lib/server/live";

export const dynamic = "force-dynamic";

/** A stream ends after this long; EventSource reconnects, which checks the session again. */
const MAX_STREAM_MS = 10 * 60_000;
/** A comment line this often keeps proxies from closing an idle stream. */
const PING_MS = 25_000;

/**
 * GET /api/v1/events/stream: server-sent events telling the dashboard when to refetch, so an
 * open dashboard does not poll. `event: apps` with `{"etag"}` when GET /api/v1/apps would
 * answer differently (an app, its names or ports, its active task, an update in the catalog);
 * the first event, `hello`, carries the current ETag. Events carry no app data. Owners and
 * admins (as GET /api/v1/apps); a GET, so no CSRF concern; nginx's dashboard vhost does not
 * buffer it (proxy_buffering off, and X-Accel-Buffering: no here).
 */
export const GET = route({ roles: ADMIN_ROLES }, async ({ app, req }) => {
  const enc = new TextEncoder();
  let cleanup = () => {};
  let cancelled = false;
  const stream = new ReadableStream<Uint8Array>({
    async start(controller) {
      let open = true;
      const send = (text: string) => {
        if (!open) return;
        try {
          controller.enqueue(enc.encode(text));
        } catch {
          cleanup();
        }
      };
      const sub = await subscribeLive(app, (e) => send(`event: ${e.type}\ndata: ${JSON.stringify({ etag: e.etag })}\n\n`));
      if (cancelled || req.signal.aborted) {
        sub.unsubscribe();
        return;
      }
      const ping = setInterval(() => send(": ping\n\n"), PING_MS);
      const end = setTimeout(() => cleanup(), MAX_STREAM_MS);
      cleanup = () => {
        if (!open) return;
        open = false;
        sub.unsubscribe();
        clearInterval(ping);
        clearTimeout(end);
        try {
          controller.close();
        } catch {
          // already closed by the client
        }
      };
      req.signal.addEventListener("abort", () => cleanup(), { once: true });
      send(`retry: 3000\nevent: hello\ndata: ${JSON.stringify({ etag: sub.etag })}\n\n`);
    },
    cancel() {
      cancelled = true;
      cleanup();
    },
  });
  return new Response(stream, {
    status: 200,
    headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache, no-transform", "x-accel-buffering": "no" },
  });
});
