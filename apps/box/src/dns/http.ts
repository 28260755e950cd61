/**
 * fetch with a timeout whose failures say what happened ("connection refused", "timed out
 * after 15s") instead of undici's bare "fetch failed". No logging: requests carry
 * credentials in headers.
 */
export interface HttpResult {
  status: number;
  text: string;
  headers: Headers;
}

export class HttpUnreachableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "HttpUnreachableError";
  }
}

export async function httpRequest(url: string, init: { method: string; headers: Record<string, string>; body?: string }, timeoutMs = 15_000): Promise<HttpResult> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs), redirect: "manual" });
  } catch (e) {
    throw new HttpUnreachableError(describeFetchError(e, timeoutMs));
  }
  const text = await res.text();
  return { status: res.status, text, headers: res.headers };
}

function describeFetchError(e: unknown, timeoutMs: number): string {
  if (e instanceof Error && (e.name === "TimeoutError" || e.name === "AbortError")) return `timed out after ${Math.round(timeoutMs / 1000)}s`;
  const cause = e instanceof Error ? (e.cause as { code?: string; message?: string } | undefined) : undefined;
  switch (cause?.code) {
    case "ECONNREFUSED":
      return "connection refused";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "the host name does not resolve";
    case "ECONNRESET":
      return "the connection was reset";
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return "the host is unreachable";
    case "ETIMEDOUT":
    case "UND_ERR_CONNECT_TIMEOUT":
      return "the connection timed out";
  }
  if (cause?.message === "bad port") return "the port is one that HTTP clients refuse to use (a reserved port)";
  if (cause?.code?.startsWith("ERR_TLS") || /certificate/i.test(cause?.message ?? "")) return `TLS error: ${cause?.message ?? cause?.code}`;
  return cause?.message ?? (e instanceof Error ? e.message : String(e));
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
