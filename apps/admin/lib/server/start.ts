import { boot } from "./context";

/** Server start: build the context and migrate, or print why not and exit 1. */
export async function start(): Promise<void> {
  try {
    await boot();
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    process.stderr.write(`hearth admin: cannot start: ${msg}\n`);
    process.exit(1);
  }
}
