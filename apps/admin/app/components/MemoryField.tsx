"use client";

import { useQuery } from "@tanstack/react-query";
import type { ServerLimitsResponse } from "@hearth/contracts";
import { api, type ApiError } from "../../lib/client/api";
import { Field } from "./Field";

const MiB = 1024 * 1024;

/**
 * An app's memory limit in MiB, with this server's maximum (GET /api/v1/server/limits: the
 * memory less what Hearth keeps) as the hint, and the server's error beside it (a limit above
 * the maximum: memory_limit_too_high, its message names the maximum). The input has no `max`:
 * the browser's own bubble would stand in for the server's message, which says why.
 */
export function MemoryField({ id, value, onChange, error }: { id: string; value: string; onChange: (v: string) => void; error: ApiError | null }) {
  const limits = useQuery({ queryKey: ["server-limits"], queryFn: () => api<ServerLimitsResponse>("/api/v1/server/limits"), staleTime: 5 * 60_000 });
  const m = limits.data?.memory;
  const maxMiB = m ? Math.floor(m.maxLimitBytes / MiB) : 65536;
  const fieldError = error?.fieldError("memoryLimit");
  const message = fieldError === undefined ? undefined : error?.codeAt(["memoryLimit"]) === "memory_limit_too_high" ? fieldError : `Between 32 MiB and ${maxMiB} MiB`;
  const hint = m ? `At most ${maxMiB} MiB on this server (${Math.floor(m.totalBytes / MiB)} MiB of memory, ${Math.floor(m.reservedBytes / MiB)} MiB kept for Hearth and the system)` : undefined;
  return <Field id={id} label="Memory limit (MiB)" type="number" min={32} step={1} required value={value} onChange={(e) => onChange(e.target.value)} hint={hint} error={message} />;
}
