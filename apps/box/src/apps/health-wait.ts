/**
 * When to probe an app that is starting: soon, then less and less often. A fixed 500 ms sleep
 * after the first failed probe made every install wait half a second for an app that
 * answers within a few tens of milliseconds; probing at 25, 50, 100, 200, 400 ms and then
 * every `maxMs` finds it early and costs a handful of requests for a slow one.
 */
export const FIRST_HEALTH_DELAY_MS = 25;

/** The pause after failed probe number `attempt` (0-based): 25 ms doubling, capped at `maxMs`. */
export function healthProbeDelay(attempt: number, maxMs = 500, firstMs = FIRST_HEALTH_DELAY_MS): number {
  if (!Number.isInteger(attempt) || attempt < 0) throw new RangeError(`attempt must be a non-negative integer, got ${attempt}`);
  const first = Math.min(firstMs, maxMs);
  // 2^attempt overflows to Infinity long after the cap; Math.min keeps the cap
  return Math.max(1, Math.min(maxMs, first * 2 ** attempt));
}
