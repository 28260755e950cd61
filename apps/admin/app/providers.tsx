"use client";

import type { ReactNode } from "react";
import { MutationCache, QueryCache, QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { ApiError } from "../lib/client/api";

let browserClient: QueryClient | undefined;

/** A 401 inside the dashboard means the session ended (logout elsewhere, expiry): sign in again. */
function onError(e: unknown) {
  if (typeof window === "undefined" || !(e instanceof ApiError) || e.status !== 401) return;
  const path = window.location.pathname;
  if (path.startsWith("/login") || path.startsWith("/setup")) return;
  window.location.assign("/login");
}

function makeClient(): QueryClient {
  return new QueryClient({
    queryCache: new QueryCache({ onError }),
    mutationCache: new MutationCache({ onError }),
    defaultOptions: {
      queries: {
        staleTime: 10_000,
        refetchOnWindowFocus: true,
        retry: (count, e) => !(e instanceof ApiError && e.status >= 400 && e.status < 500) && count < 2,
      },
    },
  });
}

function getClient(): QueryClient {
  if (typeof window === "undefined") return makeClient();
  browserClient ??= makeClient();
  return browserClient;
}

export function Providers({ children }: { children: ReactNode }) {
  return <QueryClientProvider client={getClient()}>{children}</QueryClientProvider>;
}
