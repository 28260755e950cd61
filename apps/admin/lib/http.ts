import { isIP } from "node:net";
import type { ErrorBody } from "@hearth/contracts";

/** JSON response helper; API responses are never cached. */
export function json(data: unknown, status = 200, headers: HeadersInit = {}): Response {
  const h = new Headers(headers);
  h.set("content-type", "application/json; charset=utf-8");
  return new Response(JSON.stringify(data), { status, headers: h });
}

export function noContent(headers: HeadersInit = {}): Response {
  return new Response(null, { status: 204, headers });
}

export function errorResponse(status: number, body: ErrorBody, headers: Record<string, string> = {}): Response {
  return json(body, status, headers);
}

/**
 * The client's address. admin listens on 127.0.0.1 only, behind nginx, which sets
 * X-Real-IP; anything else (a local CLI) is 127.0.0.1.
 */
export function sourceIpOf(headers: Headers): string {
  const real = headers.get("x-real-ip")?.trim();
  if (real && isIP(real)) return real;
  return "127.0.0.1";
}
