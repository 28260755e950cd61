/**
 * Runs once when `next start` boots, before the first request: parse the environment,
 * connect, migrate (lib/server/start.ts). A bad or missing variable prints a message naming
 * it and exits 1.
 */
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME === "nodejs") {
    const { start } = await import("./lib/server/start");
    await start();
  }
}
