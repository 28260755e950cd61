/**
 * Paths that cannot be decoded. Next.js percent-decodes every dynamic route segment with
 * decodeURIComponent before a route handler runs, and answers its own 500 when that throws
 * (an invalid UTF-8 sequence such as `%ff%fe`, or `%zz`). proxy.ts checks the raw path
 * first with this function and answers 400 in the API's error shape instead.
 */
export function undecodablePathSegment(pathname: string): string | null {
  if (!pathname.includes("%")) return null;
  for (const segment of pathname.split("/")) {
    if (!segment.includes("%")) continue;
    try {
      decodeURIComponent(segment);
    } catch {
      return segment;
    }
  }
  return null;
}
