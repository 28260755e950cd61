import { readFile } from "node:fs/promises";
import { PROC_NET_ROUTE } from "../paths";
import { run } from "../shell";
import { parseIpRouteJson, parseProcNetRoute } from "./subnets";

/**
 * The destinations of the host's IPv4 routes, which Hearth's network plan must not overlap:
 * `ip -4 -j route show table all` (every table: VPNs and policy routing included), or the
 * kernel's main table in /proc/net/route when `ip` is not on the PATH or fails. The default route is left
 * out (it "overlaps" everything).
 */
export async function hostRoutes(): Promise<string[]> {
  const r = await run("ip", ["-4", "-j", "route", "show", "table", "all"], { timeoutMs: 10_000 });
  if (r.code === 0) return parseIpRouteJson(r.stdout);
  const text = await readFile(PROC_NET_ROUTE, "utf8").catch(() => "");
  return parseProcNetRoute(text);
}
