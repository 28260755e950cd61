import { NextResponse, type NextRequest } from "next/server";
import { undecodablePathSegment } from "./lib/path-check";

/**
 * Runs before Next.js matches a route (Next 16's `proxy.ts`, formerly `middleware.ts`).
 * One job: a path segment that cannot be percent-decoded (`/api/v1/apps/%ff%fe`) would get
 * Next's own 500 when it decodes the dynamic route params; it gets 400 here, in the API's
 * error shape ({ error: { code, message } }) under /api and as plain text elsewhere.
 */
export function proxy(req: NextRequest): NextResponse {
  // the raw path as sent: nextUrl.pathname is not decoded, but read the request line to be sure
  const raw = rawPathOf(req.url);
  if (undecodablePathSegment(raw) === null) return NextResponse.next();
  const headers = { "cache-control": "no-store" };
  if (raw === "/api" || raw.startsWith("/api/")) {
    return NextResponse.json({ error: { code: "invalid", message: "The request path has an invalid percent-escape" } }, { status: 400, headers });
  }
  return new NextResponse("Bad request: the path has an invalid percent-escape\n", { status: 400, headers: { ...headers, "content-type": "text/plain; charset=utf-8" } });
}

function rawPathOf(url: string): string {
  const afterScheme = url.indexOf("//");
  const start = afterScheme < 0 ? 0 : url.indexOf("/", afterScheme + 2);
  if (start < 0) return "/";
  const end = url.search(/[?#]/);
  return end < 0 || end < start ? url.slice(start) : url.slice(start, end);
}

/**
 * Every path but the file manager's upload: Next buffers a request's body in memory (and cuts
 * it at `proxyClientMaxBodySize`, 10 MB) when the proxy runs for it, and an upload (up to
 * 1 GiB) must stream through to box. That route checks its own path (appIdOf).
 */
export const config = {
  // only an upload to a plain app id skips it: a segment with a percent-escape still gets the
  // 400 above (Next answers an undecodable one with its own 500)
  matcher: ["/((?!api/v1/apps/[A-Za-z0-9_-]+/files/upload$).*)"],
};
