import { createHash, timingSafeEqual } from "node:crypto";
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

/** The header Hearth's nginx sets on requests to admin (dashboard vhosts only). */
export const PROXY_SECRET_HEADER = "x-hearth-proxy-secret";

function sameSecret(sent: string, secret: string): boolean {
  const a = createHash("sha256").update(sent).digest();
  const b = createHash("sha256").update(secret).digest();
  return timingSafeEqual(a, b);
}

/**
 * The client's address. admin listens on 127.0.0.1 only, behind nginx, which sets
 * X-Real-IP and, from root's /etc/nginx/hearth-secret/proxy.map, X-Hearth-Proxy-Secret
 * (HEARTH_PROXY_SECRET in admin.env, which only admin and root read). X-Real-IP is believed
 * only with that secret; any other request (a local process, a test without the secret)
 * comes from the socket's peer, which is 127.0.0.1. Without a configured secret X-Real-IP
 * is never believed.
 */
export function sourceIpOf(headers: Headers, secret: string | undefined = process.env.HEARTH_PROXY_SECRET): string {
  const real = headers.get("x-real-ip")?.trim();
  const sent = headers.get(PROXY_SECRET_HEADER);
  if (real && isIP(real) && secret && sent && sameSecret(sent, secret)) return real;
  return "127.0.0.1";
}
