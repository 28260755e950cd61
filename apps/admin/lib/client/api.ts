/** Browser-side API calls: same-origin fetch (the session cookie rides along). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = "ApiError";
  }

  /** The message of the zod issue at `field`, if the server reported one. */
  fieldError(field: string): string | undefined {
    if (!Array.isArray(this.details)) return undefined;
    const issue = (this.details as { path?: unknown[]; message?: string }[]).find((i) => Array.isArray(i.path) && i.path[0] === field);
    return issue?.message;
  }
}

export async function api<T = unknown>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (init.body !== undefined) headers["content-type"] = "application/json";
  let res: Response;
  try {
    res = await fetch(path, {
      method: init.method ?? "GET",
      headers,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      credentials: "same-origin",
      cache: "no-store",
    });
  } catch {
    throw new ApiError(0, "network", "Cannot reach the server. Check your connection and try again.");
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let data: unknown = undefined;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON (a proxy error page)
  }
  if (!res.ok) {
    const err = (data as { error?: { code?: string; message?: string; details?: unknown } } | undefined)?.error;
    const retry = res.headers.get("retry-after");
    throw new ApiError(
      res.status,
      err?.code ?? "internal",
      err?.message ?? `The server answered ${res.status}`,
      err?.details,
      retry !== null && /^\d+$/.test(retry) ? Number(retry) : undefined,
    );
  }
  return data as T;
}

export function errorText(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  if (e instanceof Error) return e.message;
  return "Something went wrong";
}
