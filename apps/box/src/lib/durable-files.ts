import { open, readFile } from "node:fs/promises";

/**
 * Small file helpers box's swapped-in generations (nginx vhosts, certificate pairs) share:
 * files written and flushed before they are made visible, so a power cut never leaves a
 * half-written vhost or key behind.
 */

/** The file's text, or null when it (or a directory on its path) does not exist. */
export async function readIfExists(p: string): Promise<string | null> {
  try {
    return await readFile(p, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return null;
    throw e;
  }
}

/**
 * Writes `text` to `p` with `mode` and flushes it to disk. The file is created with its
 * final mode (a key is never readable by others, not even for a moment). `exclusive`
 * refuses to overwrite an existing file.
 */
export async function writeDurable(p: string, text: string, mode = 0o644, opts: { exclusive?: boolean } = {}): Promise<void> {
  const fh = await open(p, opts.exclusive ? "wx" : "w", mode);
  try {
    await fh.writeFile(text);
    await fh.chmod(mode);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Flushes a directory's entries (after creating or renaming files in it). */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
