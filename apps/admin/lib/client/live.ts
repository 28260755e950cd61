"use client";

import { createContext, useContext, useEffect, useState } from "react";
import { useQueryClient } from "@tanstack/react-query";

/**
 * Live updates for the dashboard: one EventSource per tab on GET /api/v1/events/stream. On
 * `apps` the apps queries are refetched (a 304 when the list is what the tab has). While the
 * stream is open the apps pages do not poll ({@link appsRefetchInterval}); when it drops they
 * poll as before, and a closed stream is opened again after RECONNECT_MS (EventSource itself
 * retries a broken connection; it gives up after a non-200 answer such as a 401).
 */
export const LiveContext = createContext(false);

const RECONNECT_MS = 30_000;
/** a safety net while the stream is open */
const LIVE_FALLBACK_MS = 5 * 60_000;

export function useLive(): boolean {
  return useContext(LiveContext);
}

/** How often an apps query polls: rarely while the stream is open, else as before. */
export function appsRefetchInterval(live: boolean, busy: boolean): number {
  if (live) return LIVE_FALLBACK_MS;
  return busy ? 2000 : 15_000;
}

export function useLiveUpdates(enabled: boolean): boolean {
  const qc = useQueryClient();
  const [connected, setConnected] = useState(false);
  useEffect(() => {
    if (!enabled || typeof EventSource === "undefined") return;
    let es: EventSource | null = null;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let lastEtag: string | null = null;
    const refetch = () => {
      void qc.invalidateQueries({ queryKey: ["apps"] });
      void qc.invalidateQueries({ queryKey: ["app"] });
    };
    const etagOf = (e: Event): string | null => {
      try {
        return (JSON.parse((e as MessageEvent<string>).data) as { etag?: string }).etag ?? null;
      } catch {
        return null;
      }
    };
    const open = () => {
      es = new EventSource("/api/v1/events/stream");
      es.addEventListener("hello", (e) => {
        setConnected(true);
        const etag = etagOf(e);
        // reconnected after a gap: catch up on what changed meanwhile
        if (lastEtag !== null && etag !== lastEtag) refetch();
        lastEtag = etag;
      });
      es.addEventListener("apps", (e) => {
        lastEtag = etagOf(e);
        refetch();
      });
      es.onerror = () => {
        setConnected(false);
        if (es?.readyState === EventSource.CLOSED) {
          es.close();
          retry = setTimeout(open, RECONNECT_MS);
        }
      };
    };
    open();
    return () => {
      es?.close();
      if (retry) clearTimeout(retry);
      setConnected(false);
    };
  }, [enabled, qc]);
  return connected;
}
