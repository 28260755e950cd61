import { createReadStream } from "node:fs";
import { Readable } from "node:stream";
import { HearthError } from "@hearth/contracts";
import { route } from "../../../../../../lib/server/route";
import { iconFileOf, packageOf } from "../../../../../../lib/catalog";
import { findCatalogEntry } from "../../../../../../lib/server/apps";

export const dynamic = "force-dynamic";

/**
 * GET /api/v1/appstore/:id/icon: the package's icon file with its content type (any logged-in
 * user: installed apps show it too). Files outside the package folder are never served; SVG
 * gets a CSP that forbids scripts in case it is opened directly.
 */
export const GET = route({}, async ({ app, params }) => {
  const entry = await findCatalogEntry(app, params.id ?? "");
  const pkg = entry ? packageOf(entry) : null;
  const icon = pkg ? await iconFileOf(pkg) : null;
  if (!icon) throw new HearthError("not_found", "No icon");
  const body = Readable.toWeb(createReadStream(icon.file)) as unknown as ReadableStream<Uint8Array>;
  return new Response(body, {
    status: 200,
    headers: {
      "content-type": icon.contentType,
      "content-length": String(icon.size),
      "cache-control": "private, max-age=300",
      "x-content-type-options": "nosniff",
      "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
    },
  });
});
