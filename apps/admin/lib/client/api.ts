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
    return this.errorAt([field]);
  }

  /**
   * The message of the first issue at `path` or inside it: ["providerConfig", "tsigSecret"]
   * finds the issue the server reported there, ["aliases", 0] one about the first alias's
   * subdomain or domain.
   */
  errorAt(path: readonly (string | number)[]): string | undefined {
    return this.issues().find((i) => startsWith(i.path, path))?.message;
  }

  /**
   * True for a validation error whose every issue is at (or inside) one of `fields`: a form
   * that shows those fields' errors beside them then needs no general alert. A field may be a
   * dotted path ("providerConfig.tsigSecret", "aliases"). An issue without a field (or on a
   * field the form does not show) still needs one.
   */
  onlyAtFields(fields: readonly string[]): boolean {
    if (this.code !== "invalid") return false;
    const issues = this.issues();
    if (issues.length === 0 || !Array.isArray(this.details) || issues.length !== this.details.length) return false;
    return issues.every((i) => i.path.length > 0 && fields.some((f) => startsWith(i.path, f.split("."))));
  }

  /** The code of the first issue at `path` or inside it (a zod code, or one of Hearth's such as memory_limit_too_high). */
  codeAt(path: readonly (string | number)[]): string | undefined {
    return this.issues().find((i) => startsWith(i.path, path))?.code;
  }

  private issues(): { path: (string | number)[]; message: string; code?: string }[] {
    if (!Array.isArray(this.details)) return [];
    return (this.details as { path?: unknown; message?: unknown; code?: unknown }[])
      .filter((i) => i && Array.isArray(i.path) && typeof i.message === "string")
      .map((i) => ({
        path: (i.path as unknown[]).filter((p): p is string | number => typeof p === "string" || typeof p === "number"),
        message: i.message as string,
        ...(typeof i.code === "string" ? { code: i.code } : {}),
      }));
  }
}

/** Whether issue path `path` is `prefix` or inside it (numbers and their text compare equal). */
function startsWith(path: readonly (string | number)[], prefix: readonly (string | number)[]): boolean {
  if (prefix.length > path.length) return false;
  return prefix.every((p, i) => String(p) === String(path[i]));
}

/**
 * The last answer of each GET that came with an ETag (GET /api/v1/apps): the next GET sends
 * If-None-Match, and a 304 returns the data in memory (the same object, so nothing re-renders).
 */
const conditional = new Map<string, { etag: string; data: unknown }>();

export async function api<T = unknown>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (init.body !== undefined) headers["content-type"] = "application/json";
  const method = init.method ?? "GET";
  const kept = method === "GET" ? conditional.get(path) : undefined;
  if (kept) headers["if-none-match"] = kept.etag;
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      credentials: "same-origin",
      cache: "no-store",
    });
  } catch {
    throw new ApiError(0, "network", "Cannot reach the server. Check your connection and try again.");
  }
  if (res.status === 204) return undefined as T;
  if (res.status === 304 && kept) return kept.data as T;
  const text = await res.text();
  let data: unknown;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON (a proxy error page)
  }
  if (!res.ok) {
    const err = (data as { error?: { code?: string; message?: string; details?: unknown } } | undefined)?.error;
    const retry = res.headers.get("retry-after");
    throw new ApiError(res.status, err?.code ?? "internal", err?.message ?? `The server answered ${res.status}`, err?.details, retry !== null && /^\d+$/.test(retry) ? Number(retry) : undefined);
  }
  const etag = res.headers.get("etag");
  if (method === "GET" && etag) conditional.set(path, { etag, data });
  return data as T;
}

export function errorText(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  if (e instanceof Error) return e.message;
  return "Something went wrong";
}
