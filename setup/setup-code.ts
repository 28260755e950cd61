/**
 * The one-time setup code for first-run setup (see packages/db/src/setup-code.ts).
 * setup/install.sh runs it as the hearth user after the migrations, with the code it kept
 * in /etc/hearth/setup-code (root-only) on stdin, if any:
 *   node --import tsx setup/setup-code.ts < /etc/hearth/setup-code   (env from hearth.env)
 * Prints the code to keep and show (the same one while it is still the stored one, else a
 * new one), or nothing when the owner exists (and the stored hash is then removed). The
 * code is never an argument: it goes through stdin and stdout only.
 */
import { createDb, ensureSetupCode } from "@hearth/db";

const url = process.env.HEARTH_DATABASE_URL;
if (!url) {
  console.error("setup-code: HEARTH_DATABASE_URL is not set");
  process.exit(1);
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) return "";
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8").trim();
}

const db = createDb(url, { connectionLimit: 1 });
try {
  const current = await readStdin();
  const code = await ensureSetupCode(db, current || null);
  if (code) process.stdout.write(`${code}\n`);
  await db.$disconnect();
  process.exit(0);
} catch (e) {
  console.error(`setup-code: ${(e as Error).message}`);
  process.exit(1);
}
