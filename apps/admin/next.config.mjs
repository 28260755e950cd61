// Plain JavaScript, not next.config.ts: `next start` would load Next's native SWC compiler
// (about 24 MiB of RSS) only to transpile a TypeScript config at every start.

const securityHeaders = [
  { key: "X-Frame-Options", value: "DENY" },
  { key: "X-Content-Type-Options", value: "nosniff" },
  // same-origin keeps Referer on our own requests (a CSRF fallback when Origin is absent)
  { key: "Referrer-Policy", value: "same-origin" },
  { key: "Content-Security-Policy", value: "frame-ancestors 'none'" },
];

/** @type {import("next").NextConfig} */
const nextConfig = {
  poweredByHeader: false,
  reactStrictMode: true,
  // workspace packages ship TypeScript sources (the Prisma client imports `.ts` files)
  transpilePackages: ["@hearth/contracts", "@hearth/db"],
  // native or runtime-loaded code stays a plain Node require (argon2's prebuilds, Prisma's
  // wasm query compiler loaded with dynamic import, the mariadb driver, pino)
  serverExternalPackages: ["argon2", "@prisma/client", "@prisma/adapter-mariadb", "mariadb", "pino"],
  experimental: {
    // each route's modules are loaded on its first request instead of all at start: a smaller
    // idle footprint (bench/idle-rss.ts) for a slower first visit of each page
    preloadEntriesOnStart: false,
  },
  async headers() {
    return [{ source: "/:path*", headers: securityHeaders }];
  },
};

export default nextConfig;
